"""Answer checks for the notebooks' exercises.

A check cell calls `check("NN.k", answer, **context)` and prints whether the answer is right,
never the solution, computed here from the context (a model or plain arrays). A wrong answer
gets a reason that does not reveal it: type, shape, choices, rounding, precision, or the
likely slip it matches (a sign, a missing factor, the wrong block or estimator).

One tolerance rule for every numeric check: an answer is right when its largest error,
relative to the largest magnitude of the expected value, is at most RTOL = 1e-5. Float32
carries about seven significant digits, and the sums these exercises ask for lose at most
one or two of them, so an answer computed in float32 passes; every named slip moves the
answer by far more (the tests check each by at least 1e-3).
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
from .model_math import conditionals_all
from .problem import configurations
from .vae import encode, kl_to_uniform

__all__ = ["check"]

RTOL = 1e-5  # the one rule, for every numeric answer (module docstring)
CLOSE = 1e-2  # relative errors above RTOL up to this: close, told why if we can tell


@dataclass(frozen=True)
class Exercise:
    """How to compute the expected answer and how to compare a student's with it."""

    expected: Callable  # (**context) -> the expected value
    kind: str  # "number", "array", "choice" (one of a set of values) or "function"
    choices: str = ""  # for kind "choice": the context entry that lists the allowed values
    slips: Callable | None = None  # (**context) -> {hint: a likely wrong answer}


def _category_moments(model, shift=0.0):
    """p_k and each category's mean loss E[(z - shift)^2 | s = k] = (mu_k - shift)^2 + sigma_k^2,
    and the same without sigma^2, as NumPy arrays."""
    mu, sigma = (t.numpy() for t in model.conditionals(tf.eye(model.buckets, dtype=model.dtype)))
    return model.probs().numpy(), (mu - shift) ** 2 + sigma**2, (mu - shift) ** 2


def _shifted_loss(model):
    return float(exact.exact_loss(model, lambda z: (z - 1) ** 2))


def _shifted_loss_slips(model):
    p, means, no_variance = _category_moments(model, shift=1.0)
    _, squares, _ = _category_moments(model)
    return {
        "each category's E[(z - 1)^2] includes its variance sigma^2": p @ no_variance,
        "the loss here is (z - 1)^2, not z^2": p @ squares,
        "each category counts with its probability p_k": np.mean(means),
    }


def _logits_gradient_half(model):
    return exact.exact_gradient(model, lambda z: (z - 0.5) ** 2)["logits"]


def _logits_gradient_half_slips(model):
    p, means, _ = _category_moments(model, shift=0.5)
    _, squares, _ = _category_moments(model)
    return {
        "check the sign": -p * (means - p @ means),
        "the loss here is (z - 0.5)^2, not z^2": p * (squares - p @ squares),
        "each term carries its category's probability": means - p @ means,
    }


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


def _optimal_baseline_slips(model):
    """b* = sum p_s m_s r_s / sum p_s r_s with r_s = |e_s - p|^2 = 1 - 2 p_s + |p|^2, the
    squared norm of the logits' score, and its likely slips."""
    p, means, _ = _category_moments(model)
    r = 1 - 2 * p + p @ p
    return {
        "that is the mean loss L; the optimal baseline weights each draw by its squared "
        "score": float(exact.exact_loss(model)),
        "that is the pure score function's optimal baseline; this asks for the hybrid's": (
            optimal_baseline_at(model.problem(square), model.params, False)
        ),
        "the squared score |e_s - p|^2 includes |p|^2": p
        @ (means * (r - p @ p))
        / (p @ (r - p @ p)),
        "divide by the mean squared score, sum_s p_s r_s": p @ (means * r),
    }


def _first_budget_below_1e3(budgets, mse):
    """The first budget whose MSE (one entry per budget) is below 1e-3."""
    return [int(np.asarray(budgets)[np.argmax(np.asarray(mse) < 1e-3)])]


def _logits_gradient_slips(model):
    """Exercise 06.1's likely slips, each named without giving the answer away."""
    p, means, _ = _category_moments(model)
    return {
        "check the sign of each term": -p * (means - p @ means),
        "each category's mean loss is compared with L": p * means,
        "each term carries its category's probability": means - p @ means,
    }


def _set_probability_first_three(model):
    """p(S) for S = {0, 1, 2}: the Plackett-Luce probabilities of its 3! orderings, summed."""
    orders = itertools.permutations(model.probs().numpy()[:3])
    return sum(a * b / (1 - a) * c / (1 - a - b) for a, b, c in orders)


def _set_probability_slips(model):
    a, b, c = model.probs().numpy()[:3]
    one_order = a * b / (1 - a) * c / (1 - a - b)
    return {
        "p(S) adds up every order in which S can be drawn": one_order,
        "the orders differ in probability: add each one, not 3! times one": 6 * one_order,
        "each later draw is renormalised over the categories not yet drawn": 6 * a * b * c,
    }


def _conditional_gumbel_draws(model):
    """Exercise 08.1: zeta~ ~ (log p + G) given argmax = s for 20,000 draws of
    noise_for(model, "rebar", 20_000, seed=9): s by Gumbel-max from u, zeta~ from v."""
    draws = helpers.noise_for(model, "rebar", 20_000, seed=9)
    log_p = tf.nn.log_softmax(model.params["logits"])
    s = gumbel_max(log_p, tf.constant(draws["u"][:, 0], log_p.dtype))
    return conditional_gumbel(log_p, s, tf.constant(draws["v"][:, 0], log_p.dtype)).numpy()


def _conditional_gumbel_slips(model):
    draws = helpers.noise_for(model, "rebar", 20_000, seed=9)
    logits = model.params["logits"]
    log_p = tf.nn.log_softmax(logits)
    u, v = (tf.constant(draws[key][:, 0], log_p.dtype) for key in ("u", "v"))
    unconditional = log_p - tf.math.log(-tf.math.log(v))
    return {
        "use the normalised log p, not the logits": conditional_gumbel(
            logits, gumbel_max(log_p, u), v
        ).numpy(),
        "s comes from u, the conditional draws from v": conditional_gumbel(
            log_p, gumbel_max(log_p, v), u
        ).numpy(),
        "these are unconditional draws: each row's largest entry must be at s": (
            unconditional.numpy()
        ),
    }


def _first_latent_gradient_slips(model):
    """Exercise 09.1's likely slips, from the sum over the other latents written out:
    dL/dl_0k = p_0k (m_0k - L), m_0k = sum over the others' configurations of their
    probability times E[z^2 | s] = mu_s^2 + sigma_s^2."""
    index = configurations(model.latents, model.buckets).numpy()  # (K**n, n)
    mu, sigma = (t.numpy() for t in conditionals_all(model.params, model.x, model.latents))
    p = tf.nn.softmax(model.params["logits"], axis=-1).numpy()  # (n, K)
    others = np.prod([p[i, index[:, i]] for i in range(1, model.latents)], axis=0)

    def means(loss, weights):  # m_0k for every k
        return np.array([np.sum((weights * loss)[index[:, 0] == k]) for k in range(model.buckets)])

    def gradient(m):
        return p[0] * (m - p[0] @ m)

    m = means(mu**2 + sigma**2, others)
    return {
        "check the sign": -gradient(m),
        "row 0 is the first latent": exact.exact_gradient(model)["logits"][1],
        "each configuration's mean loss includes its variance sigma^2": gradient(
            means(mu**2, others)
        ),
        "weight the other latents' configurations by their probabilities": gradient(
            means(mu**2 + sigma**2, np.full_like(others, 1 / others.size * model.buckets))
        ),
        "each category's mean loss is compared with L": p[0] * m,
    }


def _kl_first_image(weights, x, latents):
    """KL(q(s | x) || uniform) of the first image, in the dtype of weights["enc_w1"]."""
    dtype = tf.convert_to_tensor(weights["enc_w1"]).dtype
    weights = {name: tf.cast(value, dtype) for name, value in weights.items()}
    return float(kl_to_uniform(encode(weights, tf.cast(x[:1], dtype), latents))[0])


def _kl_slips(weights, x, latents):
    kl = _kl_first_image(weights, x, latents)
    return {"check the sign: a KL is never negative": -kl, "use natural logarithms": kl / np.log(2)}


EXERCISES = {
    "01.1": Exercise(_shifted_loss, "function", slips=_shifted_loss_slips),
    "02.1": Exercise(_logits_gradient_half, "array", slips=_logits_gradient_half_slips),
    "03.1": Exercise(_taus_near_best_for_10000, "choice", choices="taus"),
    "04.1": Exercise(_optimal_baseline_hybrid, "number", slips=_optimal_baseline_slips),
    "05.1": Exercise(_first_budget_below_1e3, "choice", choices="budgets"),
    "06.1": Exercise(
        lambda model: exact.exact_gradient(model)["logits"], "array", slips=_logits_gradient_slips
    ),
    "07.1": Exercise(_set_probability_first_three, "number", slips=_set_probability_slips),
    "08.1": Exercise(_conditional_gumbel_draws, "array", slips=_conditional_gumbel_slips),
    "09.1": Exercise(
        lambda model: exact.exact_gradient(model)["logits"][0],
        "array",
        slips=_first_latent_gradient_slips,
    ),
    "10.1": Exercise(_kl_first_image, "number", slips=_kl_slips),
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


def _values(answer, expected):
    """answer as floats of the expected shape, or a verdict saying why it is not that."""
    if expected.shape == ():
        values = _number(answer)
        if values is None:
            return None, f"not yet: expected a single number, got {_describe(answer)}"
        return np.asarray(values), None
    wanted = f"not yet: expected an array of shape {expected.shape}, got "
    try:
        values = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return None, wanted + _describe(answer)
    if values.shape != expected.shape:
        return None, wanted + _describe(values)
    return values, None


def _error(values, expected):
    """The largest error relative to the largest magnitude of the expected value."""
    scale = max(float(np.max(np.abs(expected))), np.finfo(float).tiny)
    return float(np.max(np.abs(values - expected))) / scale


def _rounded_to(values, expected):
    """The digits (e.g. "3 decimals") to which values are the expected value rounded, or None."""
    significant = np.vectorize(lambda v, d: float(f"{v:.{d}g}"))
    for name, rounding in (("decimals", np.round), ("significant digits", significant)):
        for digits in range(1, 9):
            target = rounding(expected, digits)
            if np.any(target) and np.allclose(values, target, rtol=1e-12, atol=0):
                return f"{digits} {name}"
    return None


def _low_precision(answer):
    dtype = getattr(answer, "dtype", None)
    return dtype is not None and np.dtype(getattr(dtype, "as_numpy_dtype", dtype)) in (
        np.float16,
        np.float32,
    )


def _judge_value(answer, expected, slips=None):
    """A verdict on a number, or an array of the expected shape, by the one rule (RTOL)."""
    expected = np.asarray(expected, dtype=float)
    values, verdict = _values(answer, expected)
    if verdict:
        return verdict
    error = _error(values, expected)
    if not np.isfinite(error):
        return "not yet: the answer holds a NaN or an infinity"
    if error <= RTOL:
        return "correct"
    for hint, slip in (slips or {}).items():
        if _error(values, np.asarray(slip, dtype=float)) <= RTOL:
            return f"not yet: {hint}"
    rounded = _rounded_to(values, expected)
    if rounded:
        return f"not yet: rounded to {rounded}; keep full precision"
    if error <= CLOSE and _low_precision(answer):
        return (
            f"not yet: close (relative error {error:.1e}) and in {np.dtype(answer.dtype.name)}: "
            "compute in float64 to tell rounding from a slip"
        )
    if error <= CLOSE:
        return f"not yet: close (relative error {error:.1e}) but more than rounding: a term is off"
    return "not yet"


def _judge_choice(answer, accepted, options, name):
    """A verdict on one of the allowed values, matched by the one rule (RTOL)."""
    value = _number(answer)
    if value is None:
        return f"not yet: expected a single number, got {_describe(answer)}"

    def among(values):
        values = np.asarray(values, dtype=float)
        return np.any(np.abs(values - value) <= RTOL * np.abs(values))

    if not among(options):
        return f"not yet: answer with one of the values in `{name}`"
    return "correct" if among(accepted) else "not yet"


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
            values = [answer(models[0])]
        except RuntimeError as err:
            if err is refused:
                return "not yet: write the sum yourself; your function called h.exact_loss"
            raise  # an error on the student's own model: their traceback shows where
        try:
            values.append(answer(models[1]))
        except Exception as err:  # the student's code, on a model they have not seen
            if err is refused:
                return "not yet: write the sum yourself; your function called h.exact_loss"
            return (
                f"not yet: your function failed on a second model ({models[1].buckets} "
                f"categories) with {type(err).__name__}: {str(err)[:200]}. Take every size "
                "and value from the model it is given (e.g. model.buckets), not from the notebook"
            )
    if all(value is None for value in values):
        return None
    notes = ("", f" (on a second model, {models[1].buckets} categories)")
    for value, model, note in zip(values, models, notes, strict=True):
        slips = spec.slips(model) if spec.slips else None
        verdict = _judge_value(value, spec.expected(model), slips)
        if verdict != "correct":
            return verdict + note
    return "correct"


def _verdict(spec, answer, context):
    if spec.kind == "function":
        return _judge_function(answer, spec, context)
    expected = spec.expected(**context)
    if spec.kind == "choice":
        return _judge_choice(answer, expected, context[spec.choices], spec.choices)
    return _judge_value(answer, expected, spec.slips(**context) if spec.slips else None)


def check(exercise, answer, **context):
    """Print whether `answer` solves `exercise` ("NN.k"), with a reason when it does not."""
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; known: {', '.join(EXERCISES)}")
    verdict = None if answer is None else _verdict(EXERCISES[exercise], answer, context)
    print(f"Exercise {exercise.split('.')[1]}: {verdict or 'not answered yet'}")
