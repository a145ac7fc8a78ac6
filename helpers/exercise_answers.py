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
from .vae import DecoderProblem, encode, exact_scores, kl_to_uniform, vimco

__all__ = ["EXERCISES", "Exercise"]


@dataclass(frozen=True)
class Exercise:
    """How to compute the expected answer and how to compare a student's with it."""

    expected: Callable  # (**context) -> the expected value
    kind: str  # "number", "array", "choice" (one of a set of values) or "function"
    choices: str = ""  # for kind "choice": the context entry that lists the allowed values
    slips: Callable | None = None  # (**context) -> {hint: a likely wrong answer}


def _conditionals(model):
    """Each category's mu_k and sigma_k, as NumPy arrays."""
    return tuple(t.numpy() for t in model.conditionals(tf.eye(model.buckets, dtype=model.dtype)))


def _category_moments(model, shift=0.0):
    """p_k and each category's mean loss E[(z - shift)^2 | s = k] = (mu_k - shift)^2 + sigma_k^2,
    and the same without sigma^2, as NumPy arrays."""
    mu, sigma = _conditionals(model)
    return model.probs().numpy(), (mu - shift) ** 2 + sigma**2, (mu - shift) ** 2


def _shifted_loss(model):
    return float(exact.exact_loss(model, lambda z: (z - 1) ** 2))


def _shifted_loss_slips(model):
    p, means, no_variance = _category_moments(model, shift=1.0)
    _, squares, _ = _category_moments(model)
    _, plus_one, _ = _category_moments(model, shift=-1.0)
    mu, sigma = _conditionals(model)
    return {
        "each category's E[(z - 1)^2] includes its variance sigma^2": p @ no_variance,
        "the loss here is (z - 1)^2, not z^2": p @ squares,
        "each category counts with its probability p_k": np.mean(means),
        "check the sign of the shift in (mu_s - 1)^2": p @ plus_one,
        "the variance is sigma^2, the square of the scale that conditionals returns": p
        @ ((mu - 1) ** 2 + sigma),
        "weight each category's loss by p_k instead of adding them up": np.sum(means),
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


def _taus_near_best_slips(taus, squared_bias, squared_bias_se, variance, variance_se):
    """Exercise 03.1's likely slip: the best tau for the table's last budget, N = 1,000,
    by the same rule. Where that tau is among the accepted ones the check says correct."""
    mse = np.maximum(np.asarray(squared_bias), 0) + np.asarray(variance) / 1_000
    return {
        "that is the best temperature for N = 1,000 (the table's last row); this asks for "
        "N = 10,000": float(np.asarray(taus)[np.argmin(mse)])
    }


def _optimal_baseline_hybrid(model):
    return optimal_baseline_at(model.problem(square), model.params, True)


def _optimal_baseline_slips(model):
    """b* = sum p_s m_s r_s / sum p_s r_s with r_s = |e_s - p|^2 = 1 - 2 p_s + |p|^2, the
    squared norm of the logits' score, and its likely slips. Not among them: r_s = 1 - p_s,
    whose b* is within 1e-3 of that with the norm |e_s - p| unsquared on the notebook's model
    ((1 - p_s)^2 and r_s differ only by |p|^2 - p_s^2), so no hint could tell the two apart."""
    p, means, no_variance = _category_moments(model)
    r = 1 - 2 * p + p @ p
    mu, sigma = _conditionals(model)
    fourth = mu**4 + 6 * mu**2 * sigma**2 + 3 * sigma**4  # E[f^2 | s] = E[z^4 | s]

    def weighted(m, weights):  # sum_s w_s m_s / sum_s w_s
        return weights @ m / np.sum(weights)

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
        "each category's m_s = E[z^2 | s] includes its variance sigma^2": weighted(
            no_variance, p * r
        ),
        "weight each category by p_s in both sums": weighted(means, r),
        "r_s is the squared norm |e_s - p|^2, not the norm": weighted(means, p * np.sqrt(r)),
        "m_s is the mean of f given s, not of f^2": weighted(fourth, p * r),
    }


def _first_budget_below(budgets, mse, threshold=1e-3):
    """The first budget whose MSE (one entry per budget) is below threshold, or None."""
    below = np.asarray(mse) < threshold
    return int(np.asarray(budgets)[np.argmax(below)]) if np.any(below) else None


def _first_budget_below_1e3(budgets, mse, elementary_mse=None, logits_mse=None):
    """Exercise 05.1: the first budget at which hybrid + LOO's MSE over all coordinates
    (mse, one entry per budget) is below 1e-3. The other MSEs only name slips."""
    budget = _first_budget_below(budgets, mse)
    if budget is None:
        raise ValueError("mse is at or above 1e-3 at every budget: no budget answers 05.1")
    return [budget]


def _first_budget_slips(budgets, mse, elementary_mse=None, logits_mse=None):
    """Exercise 05.1's likely slips: another estimator's or block's MSE (where the check
    is given it), or another threshold. On one run's data several may give one budget."""
    slips = {
        "the elementary estimator's MSE first falls below 1e-3 there, not hybrid + LOO's": (
            elementary_mse
        ),
        "the logits block's MSE first falls below 1e-3 there, not all coordinates'": logits_mse,
    }
    slips = {hint: _first_budget_below(budgets, m) for hint, m in slips.items() if m is not None}
    slips["the MSE first falls below 1e-2 there, not below 1e-3"] = _first_budget_below(
        budgets, mse, 1e-2
    )
    return {hint: budget for hint, budget in slips.items() if budget is not None}


def _logits_gradient_slips(model):
    """Exercise 06.1's likely slips, each named without giving the answer away."""
    p, means, no_variance = _category_moments(model)
    gradient = p * (means - p @ means)
    return {
        "check the sign of each term": -gradient,
        "each category's mean loss is compared with L": p * means,
        "each term carries its category's probability": means - p @ means,
        "each term carries p_k once, not squared": p * gradient,
        "a factor 2 too many: the logits act through p_k, not through f's derivative": 2 * gradient,
        "each category's mean loss m_k includes its variance sigma^2": p
        * (no_variance - p @ no_variance),
    }


def _set_probability_first_three(model):
    """p(S) for S = {0, 1, 2}: the Plackett-Luce probabilities of its 3! orderings, summed."""
    orders = itertools.permutations(model.probs().numpy()[:3])
    return sum(a * b / (1 - a) * c / (1 - a - b) for a, b, c in orders)


def _set_probability_slips(model):
    p = model.probs().numpy()
    a, b, c = p[:3]
    one_order = a * b / (1 - a) * c / (1 - a - b)
    slips = {
        "p(S) adds up every order in which S can be drawn": one_order,
        "the orders differ in probability: add each one, not 3! times one": 6 * one_order,
        "each later draw is renormalised over the categories not yet drawn": 6 * a * b * c,
        "p(S) adds every order of S, each later draw renormalised over those left": a * b * c,
    }
    if model.buckets > 3:  # S = {1, 2, 3} exists
        orders = itertools.permutations(p[1:4])
        slips["categories count from 0"] = sum(
            x * y / (1 - x) * z / (1 - x - y) for x, y, z in orders
        )
    return slips


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
    s = gumbel_max(log_p, u)
    answer = conditional_gumbel(log_p, s, v)
    shared = tf.where(s > 0, v, v[:, :1])  # every i != s takes E_0, as if one E for them all
    untruncated = tf.where(s > 0, answer, unconditional)  # i != s without E_s
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
        "one E shared by every i != s: each needs its own E_i": conditional_gumbel(
            log_p, s, shared
        ).numpy(),
        "each zeta~_i, i != s, is truncated below zeta~_s: E_s enters it": untruncated.numpy(),
        "check the sign": -answer.numpy(),
        "that is the noise G~ alone: zeta~ includes log p": (answer - log_p).numpy(),
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
    rows = exact.exact_gradient(model)["logits"]  # (latents, K)
    slips = {
        "check the sign": -gradient(m),
        "row 0 is the first latent": rows[1],
        "each configuration's mean loss includes its variance sigma^2": gradient(
            means(mu**2, others)
        ),
        "weight the other latents' configurations by their probabilities": gradient(
            means(mu**2 + sigma**2, np.full_like(others, 1 / others.size * model.buckets))
        ),
        "each category's mean loss is compared with L": p[0] * m,
    }
    if model.latents > 2:  # else the last latent's row is row 1
        slips["row 0 is the first latent, not the last"] = rows[-1]
    if model.latents == model.buckets:  # else a column has the wrong shape, told as such
        slips["the first latent's logits are a row of the (latents, K) gradient, not a column"] = (
            rows[:, 0]
        )
    return slips


def _kl_first_image(weights, x, latents):
    """KL(q(s | x) || uniform) of the first image, in the dtype of weights["enc_w1"]."""
    dtype = tf.convert_to_tensor(weights["enc_w1"]).dtype
    weights = {name: tf.cast(value, dtype) for name, value in weights.items()}
    return float(kl_to_uniform(encode(weights, tf.cast(x[:1], dtype), latents))[0])


def _kl_slips(weights, x, latents):
    """Exercise 10.1's likely slips, from KL = sum_i (sum_k q_ik log q_ik + log K) per image."""
    kl = _kl_first_image(weights, x, latents)
    dtype = tf.convert_to_tensor(weights["enc_w1"]).dtype
    weights = {name: tf.cast(value, dtype) for name, value in weights.items()}
    log_q = tf.nn.log_softmax(encode(weights, tf.cast(x, dtype), latents)).numpy()
    log_k = np.log(log_q.shape[-1])
    per_latent = np.sum(np.exp(log_q) * log_q, axis=-1) + log_k  # (images, latents)
    logits = encode(weights, tf.cast(x[:1], dtype), latents).numpy()[0]  # (n, K), unnormalised
    slips = {
        "normalise the logits first: q = softmax(logits)": float(
            np.sum(np.exp(logits) * (logits + log_k))
        ),
        "check the sign: a KL is never negative": -kl,
        "use natural logarithms": kl / np.log(2),
        "that is minus the entropy of q: the uniform's log-probabilities enter too": (
            kl - latents * log_k
        ),
        "that is KL(uniform || q): the expectation is under q": -np.sum(log_k + log_q[0].mean(-1)),
    }
    if latents > 1:  # else these are the answer
        slips["each latent has its own uniform: log K enters once per latent"] = (
            kl - (latents - 1) * log_k
        )
        slips["the latents' KLs add up, not average"] = kl / latents
        slips["the KL covers every latent, not only the first"] = per_latent[0, 0]
    if len(x) > 1:  # else the mean is the answer
        slips["the first image only, x[:1], not the mean over all images"] = np.mean(
            np.sum(per_latent, axis=-1)
        )
        slips["that is the second image's KL, x[1]; the first is x[:1]"] = np.sum(per_latent[1])
    return slips


def _nll_first_image(weights, x, latents):
    """-log p(x) of the first image by enumerating every code (vae.exact_scores, float64)."""
    return float(exact_scores(weights, np.asarray(x)[:1], latents)[1][0])


def _nll_slips(weights, x, latents):
    """Exercise 11.1's likely slips, from -log p(x) = n log K - logsumexp_s log p(x | s)."""
    nll = _nll_first_image(weights, x, latents)
    weights64 = {name: tf.cast(value, tf.float64) for name, value in weights.items()}
    decoder = DecoderProblem.from_weights(weights64, latents)
    buckets = int(weights64["dec_w1"].shape[-2]) // latents
    logits = decoder.pixel_logits(
        tf.one_hot(configurations(latents, buckets), buckets, dtype=tf.float64)
    )
    image = tf.constant(np.asarray(x, np.float64)[:1])
    log_px_s = tf.matmul(image, logits, transpose_b=True) - tf.reduce_sum(
        tf.nn.softplus(logits), -1
    )
    prior = latents * np.log(buckets)
    slips = {
        "check the sign: -log p(x) is asked, and a probability's log is negative": -nll,
        "the prior p(s) = K**-n enters: -log p(x) = n log K - logsumexp_s log p(x | s)": nll
        - prior,
        "sum over every code, not only the most likely one": prior - float(tf.reduce_max(log_px_s)),
        "that is the -ELBO, which bounds -log p(x) from above": float(
            exact_scores(weights, np.asarray(x)[:1], latents)[0][0]
        ),
        "use natural logarithms": nll / np.log(2),
        "a mean over the codes already weighs each by the prior K**-n: add n log K to a sum only": (
            nll + prior
        ),
        "the prior's log-probability is -n log K, so it adds n log K to -log p(x)": nll - 2 * prior,
        "each of the n latents has K categories: the prior is K**-n, n log K in logs": (
            nll - prior + np.log(buckets)
        ),
        "the log of the sum over codes, not the mean of the logs": -float(tf.reduce_mean(log_px_s)),
        "a pixel's log-probability x l - log(1 + e^l) is at most 0": prior
        - float(tf.reduce_logsumexp(log_px_s + 2 * tf.reduce_sum(tf.nn.softplus(logits), -1))),
    }
    if len(x) > 1:  # else the mean is the answer
        all_images = exact_scores(weights, x, latents)[1]
        slips["the first image only, x[:1], not the mean over all images"] = float(
            np.mean(all_images)
        )
        slips["that is the second image's; the first is x[:1]"] = float(all_images[1])
    return slips


def _vimco_gradient(weights, x, u, latents, slip=None):
    """Exercise 10.3: the gradient of VIMCO's surrogate, the mean over the images, with respect
    to the encoder's output bias, for the draws u (B, N, n, K), in the dtype of the weights.
    slip: None (the answer, through vae.vimco) or the name of a likely slip, written out."""
    dtype = tf.convert_to_tensor(weights["enc_w1"]).dtype
    weights = {name: tf.cast(value, dtype) for name, value in weights.items()}
    x, u = tf.cast(x, dtype), tf.cast(u, dtype)
    decoder = DecoderProblem.from_weights(weights, latents)
    with tf.GradientTape() as tape:
        tape.watch(weights["enc_b2"])
        logits = encode(weights, x, latents)
        if slip is None:
            noise = {"u": u, "eps": decoder.noise(None, tuple(u.shape[:2]))}
            surrogate = vimco(decoder, {"logits": logits, "x": x}, noise)
        elif slip == "kl":
            noise = {"u": u, "eps": decoder.noise(None, tuple(u.shape[:2]))}
            surrogate = vimco(decoder, {"logits": logits, "x": x}, noise)
        else:
            surrogate = _vimco_slip(decoder, logits, x, u, latents, slip)
        if slip == "kl":  # the ELBO's KL added, as the LOO cell does
            surrogate += kl_to_uniform(logits)
        loss = tf.reduce_sum(surrogate) if slip == "sum" else tf.reduce_mean(surrogate)
    return tape.gradient(loss, weights["enc_b2"]).numpy()


def _vimco_slip(decoder, logits, x, u, latents, slip):
    """VIMCO's surrogate per image written out, with one likely slip."""
    log_q_all = tf.nn.log_softmax(logits)[:, None]  # (B, 1, n, K)
    s = gumbel_max(tf.stop_gradient(log_q_all), u)  # (B, N, n, K)
    log_q = tf.reduce_sum(s * log_q_all, axis=[-2, -1])  # (B, N)
    buckets = tf.cast(tf.shape(u)[-1], u.dtype)
    log_w = -latents * tf.math.log(buckets) - decoder.objective({"x": x[:, None]}, s, None) - log_q
    n = tf.cast(tf.shape(log_w)[1], u.dtype)
    bound = tf.reduce_logsumexp(log_w, axis=1) - tf.math.log(n)  # (B,)
    k = log_w.shape[1]
    if slip == "drops the draw":  # log-mean of the other N - 1 weights
        mask = 1 - tf.eye(k, dtype=u.dtype)
        others = tf.where(mask > 0, tf.repeat(log_w[:, None], k, axis=1), -np.inf)
        baselines = tf.reduce_logsumexp(others, axis=-1) - tf.math.log(n - 1)
    else:  # each log weight in turn replaced by the mean of the others
        replaced = (tf.reduce_sum(log_w, axis=1, keepdims=True) - log_w) / (n - 1)
        others = tf.linalg.set_diag(tf.repeat(log_w[:, None], k, axis=1), replaced)
        baselines = tf.reduce_logsumexp(others, axis=-1) - tf.math.log(n)
    signal = bound[:, None] if slip == "no baseline" else bound[:, None] - baselines
    score = tf.reduce_sum(tf.stop_gradient(signal) * log_q, axis=1)
    return -score if slip == "no pathwise term" else -bound - score


def _vimco_slips(weights, x, u, latents):
    """Exercise 10.3's likely slips: each written out by _vimco_slip."""
    hints = {
        "no baseline": "each draw's learning signal is L^ minus its baseline L^_-j",
        "no pathwise term": "-L^ itself carries a gradient too: the surrogate is -L^ minus the "
        "score terms",
        "drops the draw": "the baseline replaces log w_j by the others' mean; it does not drop "
        "draw j",
        "sum": "average the surrogate over the images, do not sum it",
        "kl": "VIMCO's log w already holds log p(s) - log q: do not add the KL",
    }
    slips = {hint: _vimco_gradient(weights, x, u, latents, slip) for slip, hint in hints.items()}
    slips["check the sign: VIMCO maximises L_N, so the surrogate to minimise is -L^ - ..."] = -(
        _vimco_gradient(weights, x, u, latents)
    )
    return slips


EXERCISES = {
    "01.1": Exercise(_shifted_loss, "function", slips=_shifted_loss_slips),
    "02.1": Exercise(_logits_gradient_half, "array", slips=_logits_gradient_half_slips),
    "03.1": Exercise(
        _taus_near_best_for_10000, "choice", choices="taus", slips=_taus_near_best_slips
    ),
    "04.1": Exercise(_optimal_baseline_hybrid, "number", slips=_optimal_baseline_slips),
    "05.1": Exercise(
        _first_budget_below_1e3, "choice", choices="budgets", slips=_first_budget_slips
    ),
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
    "10.3": Exercise(_vimco_gradient, "array", slips=_vimco_slips),
    "11.1": Exercise(_nll_first_image, "number", slips=_nll_slips),
}
