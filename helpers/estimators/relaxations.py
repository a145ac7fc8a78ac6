"""Estimators that relax the categorical draw to a point on the simplex: Gumbel-softmax and its
straight-through variant (notebook 03), and Gumbel-Rao (notebook 08, Paulus et al. 2021), which
averages straight-through's gradient over Gumbels drawn given s.
"""

from .. import checks
from .._tf import tf
from .draws import (
    conditional_gumbel,
    gumbel_max,
    relaxed_one_hot,
    uniform_per_category,
    uniform_twice,
    with_sample_axis,
)
from .registry import Estimator, per_sample, register


def gumbel_softmax(problem, params, noise, tau, straight_through):
    """Relax each s_i to y_i = softmax((log p_i + G_i) / tau) and feed y to the objective:
    unbiased for the gradient of the relaxed objective E g(y, eps), biased for the true
    gradient; for the soft relaxation the bias vanishes as tau -> 0, straight-through's
    does not."""
    params = with_sample_axis(params)
    y = relaxed_one_hot(problem.logits(params), noise["u"], tau, straight_through)  # (R, N, n, K)
    return tf.reduce_mean(problem.objective(params, y, noise["eps"]), axis=1)


def _check_gumbel_options(options, n_samples, latents, buckets, dtype=None):
    flag = checks.flag(options["straight_through"], "straight_through")
    tau = checks.positive_finite(options["tau"], "tau", dtype)
    return {**options, "tau": tau, "straight_through": flag}


register(Estimator("gumbel_softmax", gumbel_softmax, uniform_per_category, per_sample,
                   options={"tau": 1.0, "straight_through": False},
                   check=_check_gumbel_options))  # fmt: skip


def gumbel_rao(problem, params, noise, tau, n_gumbel):
    """Straight-through Gumbel with its gradient averaged over n_gumbel = J conditional
    Gumbels given s (Paulus et al. 2021): forward one-hot(s), gradient through
    mean_j softmax((log p + G~_j) / tau), G~_j = zeta~_j - log p held constant, each latent's
    drawn given its own s_i (given s the latents' Gumbels are independent)."""
    params = with_sample_axis(params)
    log_p = tf.nn.log_softmax(problem.logits(params), axis=-1)  # (R, 1, n, K)
    s = gumbel_max(tf.stop_gradient(log_p), noise["u"])  # (R, N, n, K)
    zeta_tilde = conditional_gumbel(tf.stop_gradient(log_p)[:, :, None], s[:, :, None], noise["v"])
    g_tilde = tf.stop_gradient(zeta_tilde - log_p[:, :, None])  # (R, N, J, n, K)
    soft = tf.reduce_mean(tf.nn.softmax((log_p[:, :, None] + g_tilde) / tau, axis=-1), axis=2)
    y = s + soft - tf.stop_gradient(soft)
    return tf.reduce_mean(problem.objective(params, y, noise["eps"]), axis=1)


def _check_gumbel_rao_options(options, n_samples, latents, buckets, dtype=None):
    tau = checks.positive_finite(options["tau"], "tau", dtype)
    return {**options, "tau": tau, "n_gumbel": checks.integer(options["n_gumbel"], "n_gumbel", 1)}


# Noise: u, eps and v for J conditional Gumbels per draw. Sizes: n K (2 + J) values per sample.
register(Estimator("gumbel_rao", gumbel_rao, uniform_twice, per_sample,
                   options={"tau": 1.0, "n_gumbel": 1}, check=_check_gumbel_rao_options,
                   noise_options=("n_gumbel",),
                   sizes=lambda problem, latents, buckets, n_samples, options: (
                       (n_samples * latents * buckets
                        * (2 + options.get("n_gumbel", 1)),) * 2)))  # fmt: skip
