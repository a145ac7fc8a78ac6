"""Answer checks for the notebooks' exercises.

A check cell calls `check("NN.k", answer, **context)` and prints whether the answer is right,
never the solution, computed here from the context (a model or plain arrays). A wrong answer
gets a reason that does not reveal it: type, shape, choices, or rounding.
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
from .estimators import conditional_gumbel, gumbel_max, optimal_baseline_at
from .model import make_model, square
from .vae import encode, kl_to_uniform

__all__ = ["check"]

CLOSE = 1e-2  # relative errors up to this, above the tolerance: most likely a rounded value


@dataclass(frozen=True)
class Exercise:
    """How to compute the expected answer and how to compare a student's with it."""

    expected: Callable  # (**context) -> the expected value
    kind: str  # "number", "array", "choice" (one of a set of values) or "function"
    rtol: float = 0.0  # the precision the question implies
    choices: str = ""  # for kind "choice": the context entry that lists the allowed values
    slips: Callable | None = None  # (**context) -> {hint: a likely wrong answer} (kind "array")


def _shifted_loss(model):
    return float(exact.exact_loss(model, lambda z: (z - 1) ** 2))


def _logits_gradient_half(model):
    return exact.exact_gradient(model, lambda z: (z - 0.5) ** 2)["logits"]


def _taus_near_best_for_10000(taus, squared_bias, squared_bias_se, variance, variance_se):
    """Every tau (arrays: one entry per tau) whose MSE at N = 10,000, squared bias +
    variance / N, is within one standard error of the minimum: the sweep cannot tell
    apart temperatures whose MSEs differ by less than their noise. A negative squared bias
    (stats.decomposition's estimate, when the bias is below its noise) counts as zero, as
    in notebook 03's table and exercise."""
    mse = np.maximum(np.asarray(squared_bias), 0) + np.asarray(variance) / 10_000
    se = np.hypot(squared_bias_se, np.asarray(variance_se) / 10_000)
    best = int(np.argmin(mse))
    return np.asarray(taus)[mse - mse[best] <= np.hypot(se, se[best])]


def _optimal_baseline_hybrid(model):
    return optimal_baseline_at(model.problem(square), model.params, True)


def _first_budget_below_1e3(budgets, mse):
    """The first budget whose MSE (one entry per budget) is below 1e-3."""
    return [int(np.asarray(budgets)[np.argmax(np.asarray(mse) < 1e-3)])]


def _logits_gradient_slips(model):
    """Exercise 06.1's likely slips, each named without giving the answer away."""
    mu, sigma = (t.numpy() for t in model.conditionals(tf.eye(model.buckets, dtype=model.dtype)))
    p, means = model.probs().numpy(), mu**2 + sigma**2
    return {
        "check the sign of each term": -p * (means - p @ means),
        "each category's mean loss is compared with L": p * means,
        "each term carries its category's probability": means - p @ means,
    }


def _set_probability_first_three(model):
    """p(S) for S = {0, 1, 2}: the Plackett-Luce probabilities of its 3! orderings, summed."""
    orders = itertools.permutations(model.probs().numpy()[:3])
    return sum(a * b / (1 - a) * c / (1 - a - b) for a, b, c in orders)


def _conditional_gumbel_draws(model):
    """Exercise 08.1: zeta~ ~ (log p + G) given argmax = s for 20,000 draws of
    noise_for(model, "rebar", 20_000, seed=9): s by Gumbel-max from u, zeta~ from v."""
    draws = helpers.noise_for(model, "rebar", 20_000, seed=9)
    log_p = tf.nn.log_softmax(model.params["logits"])
    s = gumbel_max(log_p, tf.constant(draws["u"][:, 0], log_p.dtype))
    return conditional_gumbel(log_p, s, tf.constant(draws["v"][:, 0], log_p.dtype)).numpy()


def _kl_first_image(weights, x, latents):
    """KL(q(s | x) || uniform) of the first image, in the dtype of weights["enc_w1"]."""
    dtype = tf.convert_to_tensor(weights["enc_w1"]).dtype
    weights = {name: tf.cast(value, dtype) for name, value in weights.items()}
    return float(kl_to_uniform(encode(weights, tf.cast(x[:1], dtype), latents))[0])


EXERCISES = {
    "01.1": Exercise(_shifted_loss, "function", rtol=1e-8),
    "02.1": Exercise(_logits_gradient_half, "array", rtol=1e-6),
    "03.1": Exercise(_taus_near_best_for_10000, "choice", choices="taus"),
    "04.1": Exercise(_optimal_baseline_hybrid, "number", rtol=1e-5),
    "05.1": Exercise(_first_budget_below_1e3, "choice", choices="budgets"),
    "06.1": Exercise(  # float32 answers pass: the sum itself, not its precision, is asked
        lambda model: exact.exact_gradient(model)["logits"],
        "array",
        rtol=1e-6,
        slips=_logits_gradient_slips,
    ),
    "07.1": Exercise(_set_probability_first_three, "number", rtol=1e-8),
    "08.1": Exercise(_conditional_gumbel_draws, "array", rtol=1e-8),
    "09.1": Exercise(lambda model: exact.exact_gradient(model)["logits"][0], "array", rtol=1e-8),
    "10.1": Exercise(_kl_first_image, "number", rtol=1e-4),
}


def _number(answer):
    """answer as a float, or None when it is not a single real number."""
    if isinstance(answer, numbers.Real) and not isinstance(answer, bool | np.bool_):
        return float(answer)
    value = np.asarray(answer)
    if value.shape != () or not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
        return None
    return float(value)


def _describe(answer):
    shape = getattr(answer, "shape", None)
    return f"a {type(answer).__name__}" if shape is None else f"an array of shape {tuple(shape)}"


def _judge_value(answer, expected, rtol):
    """A verdict on a number, or on an array of the expected shape, against the expected one."""
    expected = np.asarray(expected, dtype=float)
    if expected.shape == ():
        values = _number(answer)
        if values is None:
            return f"not yet: expected a single number, got {_describe(answer)}"
    else:
        try:
            values = np.asarray(answer, dtype=float)
        except (TypeError, ValueError):
            return f"not yet: expected an array of shape {expected.shape}, got {_describe(answer)}"
        if values.shape != expected.shape:
            return f"not yet: expected an array of shape {expected.shape}, got {_describe(values)}"
    scale = max(float(np.max(np.abs(expected))), np.finfo(float).tiny)
    error = float(np.max(np.abs(values - expected))) / scale
    if not np.isfinite(error):
        return "not yet: the answer holds a NaN or an infinity"
    if error <= rtol:
        return "correct"
    if error <= CLOSE:
        return f"not yet: close (relative error {error:.1e}), but keep full precision: do not round"
    return "not yet"


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
    models = [context["model"], make_model(dim=3, buckets=7, seed=11)]  # on a second model too
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
    notes = ("", f" (on a second model, {models[1].buckets} categories)")
    for value, model, note in zip(values, models, notes, strict=True):
        verdict = _judge_value(value, spec.expected(model), spec.rtol)
        if verdict != "correct":
            return verdict + note
    return "correct"


def _verdict(spec, answer, context):
    if spec.kind == "function":
        return _judge_function(answer, spec, context)
    expected = spec.expected(**context)
    if spec.kind == "choice":
        return _judge_choice(answer, expected, context[spec.choices], spec.choices)
    verdict = _judge_value(answer, expected, spec.rtol)
    for hint, slip in (spec.slips(**context) if spec.slips else {}).items():
        if verdict == "not yet" and _judge_value(answer, slip, 1e-6) == "correct":
            return f"not yet: {hint}"
    return verdict


def check(exercise, answer, **context):
    """Print whether `answer` solves `exercise` ("NN.k"), with a reason when it does not."""
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; known: {', '.join(EXERCISES)}")
    verdict = None if answer is None else _verdict(EXERCISES[exercise], answer, context)
    print(f"Exercise {exercise.split('.')[1]}: {verdict or 'not answered yet'}")
