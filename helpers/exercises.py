"""Answer checks for the notebooks' exercises.

A check cell calls `check("NN.k", answer, **context)` and prints whether the
answer is right, without showing the solution in the notebook: the expected
value is computed here, from the notebook's own objects passed as context.
A wrong answer gets a reason where one can be given without revealing the
expected value: the wrong type or shape, a value outside the allowed choices,
or a value that is close but rounded.
"""

import itertools
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from unittest import mock

import helpers

import numpy as np

from . import exact
from ._tf import tf
from .estimators import optimal_baseline_at
from .model import make_model, square
from .vae import encode, kl_to_uniform

__all__ = ["check"]

# Relative errors below this, but above the exercise's tolerance, are "close":
# the student most likely rounded a printed value.
CLOSE = 1e-2


@dataclass(frozen=True)
class Exercise:
    """How to compute the expected answer and how to compare a student's with it."""

    expected: Callable  # (**context) -> the expected value
    kind: str  # "number", "array", "choice" (one of a set of values) or "function"
    rtol: float = 0.0  # the precision the question implies
    choices: str = ""  # for kind "choice": the context entry that lists the allowed values


def _shifted_loss(model):
    return float(exact.exact_loss(model, lambda z: (z - 1) ** 2))


def _logits_gradient_half(model):
    return exact.exact_gradient(model, lambda z: (z - 0.5) ** 2)["logits"]


def _taus_near_best_for_10000(taus, sweep):
    """Every tau whose MSE at N = 10,000 is within one standard error of the minimum.

    MSE_N = squared bias + variance / N, as the exercise states it; the sweep
    cannot tell apart temperatures whose MSEs differ by less than their noise.
    """
    d, n = sweep[False], 10_000
    mse = np.asarray(d["squared_bias"]) + np.asarray(d["variance"]) / n
    se = np.hypot(d["squared_bias_se"], np.asarray(d["variance_se"]) / n)
    best = int(np.argmin(mse))
    return np.asarray(taus)[mse - mse[best] <= np.hypot(se, se[best])]


def _optimal_baseline_hybrid(model):
    return optimal_baseline_at(model.problem(square), model.params, True)


def _loo_budget_below_1e3(budgets, results):
    return [int(budgets[np.argmax(results["score function, hybrid + LOO"]["mse"] < 1e-3)])]


def _set_probability_first_three(model):
    """p(S) for S = {0, 1, 2}: the Plackett-Luce probabilities of its 3! orderings, summed."""
    p = model.probs().numpy()
    total = 0.0
    for order in itertools.permutations(range(3)):
        value, left = 1.0, 1.0
        for c in order:
            value, left = value * p[c] / left, left - p[c]
        total += value
    return total


def _first_latent_logits_gradient(model):
    return exact.exact_gradient(model)["logits"][0]


def _kl_first_image(weights, x, latents):
    """KL(q(s | x) || uniform) of the first image, from the encoder's logits."""
    return float(kl_to_uniform(encode(weights, tf.constant(x[:1], tf.float32), latents))[0])


EXERCISES = {
    "01.1": Exercise(_shifted_loss, "function", rtol=1e-8),
    "02.1": Exercise(_logits_gradient_half, "array", rtol=1e-6),
    "03.1": Exercise(_taus_near_best_for_10000, "choice", choices="taus"),
    "04.1": Exercise(_optimal_baseline_hybrid, "number", rtol=1e-5),
    "05.1": Exercise(_loo_budget_below_1e3, "choice", choices="budgets"),
    "06.1": Exercise(_set_probability_first_three, "number", rtol=1e-8),
    "07.1": Exercise(_first_latent_logits_gradient, "array", rtol=1e-8),
    "08.1": Exercise(_kl_first_image, "number", rtol=1e-4),
}

# The second model a student's function must also handle (exercise 01.1).
SECOND_MODEL = {"dim": 3, "buckets": 7, "seed": 11}


def _number(answer):
    """answer as a float, or None when it is not a single real number."""
    if isinstance(answer, bool | np.bool_):
        return None
    value = np.asarray(answer) if not isinstance(answer, numbers.Real) else answer
    if isinstance(value, np.ndarray):
        if value.shape != () or not np.issubdtype(value.dtype, np.number):
            return None
        value = value.item()
    return float(value) if isinstance(value, numbers.Real) else None


def _describe(answer):
    shape = getattr(answer, "shape", None)
    if shape is not None:
        return f"an array of shape {tuple(shape)}"
    return f"a {type(answer).__name__}"


def _compare(answer, expected, rtol):
    """A verdict for a numeric answer against the expected one."""
    scale = max(float(np.max(np.abs(expected))), np.finfo(float).tiny)
    error = float(np.max(np.abs(answer - expected))) / scale  # answer: a float or float array
    if not np.isfinite(error):
        return "not yet: the answer holds a NaN or an infinity"
    if error <= rtol:
        return "correct"
    if error <= CLOSE:
        return f"not yet: close (relative error {error:.1e}), but keep full precision: do not round"
    return "not yet"


def _judge_number(answer, expected, rtol):
    value = _number(answer)
    if value is None:
        return f"not yet: expected a single number, got {_describe(answer)}"
    return _compare(value, expected, rtol)


def _judge_array(answer, expected, rtol):
    try:
        values = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return f"not yet: expected an array of shape {expected.shape}, got {_describe(answer)}"
    if values.shape != expected.shape:
        return (
            f"not yet: expected an array of shape {expected.shape}, "
            f"got {_describe(np.asarray(answer))}"
        )
    return _compare(values, expected, rtol)


def _judge_choice(answer, accepted, options, name):
    value = _number(answer)
    if value is None:
        return f"not yet: expected a single number, got {_describe(answer)}"
    if not np.any(np.isclose(np.asarray(options, dtype=float), value, rtol=1e-12, atol=0)):
        return f"not yet: answer with one of the values in `{name}`"
    return "correct" if np.any(np.isclose(accepted, value, rtol=1e-12, atol=0)) else "not yet"


def _judge_function(answer, spec, context):
    if not callable(answer):
        return f"not yet: expected a function of the model, got {_describe(answer)}"
    models = [context["model"], make_model(**SECOND_MODEL)]
    refused = RuntimeError("h.exact_loss is switched off during this check")
    with (
        mock.patch.object(exact, "exact_loss", side_effect=refused),
        mock.patch.object(helpers, "exact_loss", side_effect=refused),
    ):
        try:
            values = [answer(model) for model in models]
        except RuntimeError as err:
            if err is refused:
                return "not yet: write the sum yourself; your function called h.exact_loss"
            raise
    if all(value is None for value in values):
        return None
    for value, model in zip(values, models, strict=True):
        verdict = _judge_number(value, spec.expected(model), spec.rtol)
        if verdict != "correct":
            if model is models[1]:
                verdict += f" (on a second model, {SECOND_MODEL['buckets']} categories)"
            return verdict
    return "correct"


def _verdict(spec, answer, context):
    if spec.kind == "function":
        return _judge_function(answer, spec, context)
    expected = spec.expected(**context)
    if spec.kind == "choice":
        return _judge_choice(answer, expected, context[spec.choices], spec.choices)
    if spec.kind == "array":
        return _judge_array(answer, np.asarray(expected, dtype=float), spec.rtol)
    return _judge_number(answer, expected, spec.rtol)


def check(exercise, answer, **context):
    """Print whether `answer` solves `exercise` ("NN.k"), with a reason when it does not."""
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; known: {', '.join(EXERCISES)}")
    label = f"Exercise {exercise.split('.')[1]}"
    verdict = None if answer is None else _verdict(EXERCISES[exercise], answer, context)
    print(f"{label}: {verdict or 'not answered yet'}")
