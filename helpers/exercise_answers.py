"""The exercises' expected answers and likely slips, one entry per check id ("NN.k").

Each answer is computed from the check's context (a model or plain arrays), never typed in;
each slip is a wrong answer a student is likely to give, with the hint `exercises.check`
prints for it. The judging itself, and the one tolerance rule, are in helpers.exercises.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import helpers

import numpy as np

from . import exact
from ._tf import tf
from .estimators import conditional_gumbel, gumbel_max, optimal_baseline_at
from .model import square
from .model_math import conditionals_all
from .problem import configurations
from .vae import encode, kl_to_uniform

__all__ = ["EXERCISES", "Exercise"]


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
    """Exercise 02.1's likely slips: p_k (m_k - L) with one thing changed, m_k = E[(z - 0.5)^2 |
    s = k] and L = sum_k p_k m_k."""
    p, means, no_variance = _category_moments(model, shift=0.5)
    _, squares, _ = _category_moments(model)
    return {
        "check the sign": -p * (means - p @ means),
        "the loss here is (z - 0.5)^2, not z^2": p * (squares - p @ squares),
        "each term carries its category's probability": means - p @ means,
        "each category's mean loss is compared with L": p * means,
        "each category's E[(z - 0.5)^2] includes its variance sigma^2": p
        * (no_variance - p @ no_variance),
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
