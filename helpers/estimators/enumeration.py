"""Estimators that sum over categories instead of sampling them: the exact gradient (an oracle,
the reference of every notebook), the elementary estimator (notebook 02: enumerate s, sample
only the continuous noise) and IndeCateR (notebook 09, De Smet et al. 2023: for each of n
latents, sum over its K categories with the other latents at their draws).
"""

import math

from .._tf import tf
from ..problem import configurations, joint_probs
from .draws import gumbel_max, uniform, with_sample_axis
from .registry import Estimator, register


def noise_per_configuration(problem, seed, n_replicates, n_samples, buckets):
    """eps of shape (R, N, K**n): the problem's noise, one draw for every joint configuration."""
    shape = tf.stack([n_replicates, n_samples, buckets**problem.latents])
    return {"eps": problem.noise(seed, shape)}


def elementary(problem, params, noise):
    """Enumerate s, sample only the problem's noise: sum_c p_c mean_n g(c, eps_nc). The sum over
    all K**n configurations c is exact, so p_c(theta) stays in the autodiff graph; only the
    continuous noise (eps in z = mu + sigma eps) is sampled."""
    logits = problem.logits(params)  # (R, n, K)
    if hasattr(problem, "objective_all"):  # the problem's fast path
        values = problem.objective_all(params, noise["eps"])  # (R, N, C)
    else:  # every configuration as a one-hot (C, n, K), parameters as (R, 1, 1, ...)
        buckets = tf.shape(logits)[-1]
        s = tf.one_hot(configurations(problem.latents, buckets), buckets, dtype=logits.dtype)
        params = with_sample_axis(with_sample_axis(params))
        values = problem.objective(params, s, noise["eps"])
    return tf.reduce_sum(
        joint_probs(logits, problem.latents) * tf.reduce_mean(values, axis=1), axis=-1
    )


# K**n evaluations, and as many normals, per sample: noise and working set alike.
register(Estimator("elementary", elementary, noise_per_configuration,
                   lambda buckets, n_samples, latents=1, **_: buckets**latents * n_samples,
                   enumerates=True, sizes=lambda problem, latents, buckets, n_samples, options: (
                       (n_samples * buckets**latents,) * 2)))  # fmt: skip


def exact(problem, params, noise):
    """The exact objective, whose gradient is the exact one: an oracle, not an estimator (nothing
    to draw, infinitely many evaluations)."""
    return problem.exact(params)


register(Estimator("exact", exact, lambda problem, seed, *sizes: {},
                   lambda buckets, n_samples, latents=1, **_: math.inf))  # fmt: skip


def indecater_noise(problem, seed, n_replicates, n_samples, buckets):
    """u (R, N, n, K) for the N joint draws, and eps (R, N, n, 1): one per draw and latent,
    shared by the latent's K evaluations (common random numbers: the categories are compared
    under the same continuous noise)."""
    shape = tf.stack([n_replicates, n_samples, problem.latents, buckets])
    u = uniform(tf.random.experimental.stateless_fold_in(seed, 1), shape, problem.dtype)
    return {"u": u, "eps": problem.noise(seed, tf.concat([shape[:3], [1]], 0))}


def one_latent_changed(s):
    """s (..., n, K) with latent i set to category k, for every (i, k): (..., n, K, n, K)."""
    latents, buckets = s.shape[-2], tf.shape(s)[-1]
    same = tf.eye(latents, dtype=s.dtype)[:, None, :, None]  # (n, 1, n, 1): j == i
    category = tf.eye(buckets, dtype=s.dtype)[None, :, None, :]  # (1, K, 1, K): onehot(k)
    return s[..., None, None, :, :] * (1 - same) + same * category


def indecater(problem, params, noise):
    """For each latent i, sum over its K categories with the other latents at their draws.

    With N joint draws s^m (Gumbel-max) and g_mik = g(s^m with s_i = k, eps_mi):
        logits of latent i:     mean_m sum_k grad p_i(k) g_mik
        continuous parameters:  mean_m mean_i sum_k p_i(k) grad g_mik
    Each latent's term is an exact sum over s_i given draws of the others, so both parts are
    unbiased, at N n K evaluations. For n = 1: the elementary estimator, one eps for all K.
    """
    params = with_sample_axis(params)
    p = tf.nn.softmax(problem.logits(params), axis=-1)  # (R, 1, n, K)
    s = gumbel_max(tf.stop_gradient(tf.math.log(p)), noise["u"])  # (R, N, n, K)
    if hasattr(problem, "objective_one_changed"):  # the problem's fast path: O(n K) per draw
        g = problem.objective_one_changed(params, s, noise["eps"])  # (R, N, n, K)
    else:  # the n K changed draws as one-hots (R, N, n, K, n, K): O((n K)**2) per draw
        branch = with_sample_axis(with_sample_axis(params))  # (R, 1, 1, 1, ...)
        eps = tf.broadcast_to(noise["eps"], tf.shape(s))  # (R, N, n, K): shared over k
        g = problem.objective(branch, one_latent_changed(s), eps)  # (R, N, n, K)
    pathwise = tf.reduce_mean(tf.reduce_sum(tf.stop_gradient(p) * g, axis=-1), axis=-1)
    discrete = tf.reduce_sum(p * tf.stop_gradient(g), axis=[-2, -1])
    # Value: the pathwise average (an estimate of L); gradient: both parts.
    surrogate = pathwise + discrete - tf.stop_gradient(discrete)
    return tf.reduce_mean(surrogate, axis=1)


def indecater_sizes(problem, latents, buckets, n_samples, options):
    """Chunks sized for the n K one-hots of n K values per sample whichever path runs, so both
    give the same numbers; with the problem's fast path (no one-hots) one estimate needs n K."""
    per_replicate = n_samples * (latents * buckets) ** 2
    if not hasattr(problem, "objective_one_changed"):
        return per_replicate, per_replicate
    return per_replicate, n_samples * latents * buckets


register(Estimator("indecater", indecater, indecater_noise,
                   lambda buckets, n_samples, latents=1, **_: n_samples * latents * buckets,
                   sizes=indecater_sizes))  # fmt: skip
