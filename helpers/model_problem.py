"""The series' model as a problem for the estimators (helpers.problem.Problem).

g_theta(s, eps) = f(mu_s + sigma_s eps), eps ~ N(0, 1) the continuous noise. For n = 1 the
one-hots are (..., K), the model's own shape: the logits get a latent axis.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._tf import tf
from .model_math import (
    ONE_LATENT_CHUNK_VALUES,
    conditionals,
    conditionals_all,
    conditionals_one_changed,
    gauss_hermite,
    loss_from,
    probs,
    sum_over_chunks,
)
from .problem import configurations, gather_configurations, joint_probs

BASELINE_NODES = 16


def noise_log_density(eps, mu, sigma):
    """log N(z; mu, sigma) at z = mu + sigma eps held fixed, built from eps: (z - mu) / sigma
    becomes 0 when z rounds to mu (float32, sigma <= 1e-8), but eps is the standardised value
    exactly; it gets the gradient of (z - mu) / sigma at fixed z (-1/sigma, -eps/sigma)."""
    standardised = (tf.stop_gradient(mu) - mu) / sigma + eps * (tf.stop_gradient(sigma) / sigma)
    return -0.5 * tf.square(standardised) - tf.math.log(sigma) - 0.5 * np.log(2 * np.pi)


@dataclass(frozen=True)
class ModelProblem:
    """E f(z) for the model with `latents` categorical choices and context x."""

    f: Callable
    latents: int
    x: tf.Tensor = None  # the context, a tensor field (see helpers.problem.Problem)

    @property
    def dtype(self):
        return self.x.dtype

    def _one_hot(self, s):  # s as the model takes it: (..., K) for one latent, else (..., n, K)
        return s[..., 0, :] if self.latents == 1 else s

    def logits(self, params):
        logits = params["logits"]
        return logits[..., None, :] if self.latents == 1 else logits

    def noise(self, seed, shape):
        return tf.random.stateless_normal(shape, seed=seed, dtype=self.dtype)

    def objective(self, params, s, noise):
        mu, sigma = conditionals(params, self.x, self._one_hot(s), self.latents)
        return self.f(mu + sigma * noise)

    def objective_all(self, params, noise):
        mu, sigma = conditionals_all(params, self.x, self.latents)  # (..., C), once per theta
        return self.f(mu[..., None, :] + sigma[..., None, :] * noise)

    def objective_one_changed(self, params, s, noise):
        mu, sigma = conditionals_one_changed(params, self.x, s, self.latents)  # (..., n, K)
        return self.f(mu + sigma * noise)

    def scored_objective(self, params, s, noise):
        mu, sigma = conditionals(params, self.x, self._one_hot(s), self.latents)
        z = tf.stop_gradient(mu + sigma * noise)
        return self.f(z), noise_log_density(noise, mu, sigma)

    def exact(self, params):
        return loss_from(params, self.x, self.f, latents=self.latents)

    def optimal_baseline(self, params, pathwise_z):
        """The constant b minimising tr Cov of (f - b) grad log q: E[f |g|^2] / E[|g|^2].

        Per replicate's theta (params with leading axes (R, 1); returns (R, 1)), by enumerating
        s and Gauss-Hermite quadrature over eps, out of the gradient so the estimator stays
        unbiased whatever its accuracy. |g|^2 is closed form: g = e_s - p for the logits (n > 1:
        sum_i 1 - 2 p_i(s_i) + |p_i|^2); scoring z adds (eps / sigma)^2 (mu (1 - mu))^2 (|x_s|^2
        + 1) for (A, B) and (eps^2 - 1)^2 (|x_s|^2 + 1) for (C, D), |x_s|^2 = |x|^2 + n.
        BASELINE_NODES = 16 nodes are exact up to degree 31 (f = z^2 needs 6), accurate for smooth
        f, at a quarter of the exact loss's cost. Chunks of ONE_LATENT_CHUNK_VALUES values keep
        memory bounded for any K**n.
        """
        x, f, n = self.x, self.f, self.latents
        params = {name: tf.stop_gradient(value) for name, value in params.items()}
        marginal = probs(params)  # (R, 1, K), or (R, 1, n, K)
        if n == 1:
            mu_all, sigma_all = conditionals_all(params, x)  # (R, 1, K)
            norm_all = 1 - 2 * marginal + tf.reduce_sum(marginal * marginal, -1, keepdims=True)
        else:
            squares = tf.reduce_sum(marginal * marginal, axis=[-2, -1])[..., None]
        nodes, weights = (tf.constant(v, dtype=x.dtype) for v in gauss_hermite(BASELINE_NODES))
        count = tf.cast(tf.shape(marginal)[-1], tf.int64) ** n
        size = tf.constant(ONE_LATENT_CHUNK_VALUES // BASELINE_NODES, tf.int64)

        def terms(start, size):  # the chunk's Q nodes are its largest tensors
            """(numerator, denominator) over the configurations start, ..., start + size - 1."""
            if n == 1:
                whole = (marginal, mu_all, sigma_all, norm_all)
                p, mu, sigma, norm = (v[..., start : start + size] for v in whole)
            else:
                index = configurations(n, tf.shape(marginal)[-1], start, size)
                mu, sigma = conditionals_all(params, x, n, index)  # (R, 1, chunk)
                norm = n + squares - 2 * gather_configurations(marginal, index)
                p = joint_probs(params["logits"], n, index)
            f_values = f(mu[..., None] + sigma[..., None] * nodes)  # (R, 1, chunk, Q)
            norm = norm[..., None]
            if not pathwise_z:
                xs = tf.reduce_sum(x * x) + (n + 1)  # |x_s|^2 + 1
                slope = (mu * (1 - mu) / sigma)[..., None]
                norm = norm + xs * (tf.square(nodes * slope) + tf.square(nodes * nodes - 1))
            numerator = tf.reduce_sum(p * tf.reduce_sum(weights * f_values * norm, -1), -1)
            return numerator, tf.reduce_sum(p * tf.reduce_sum(weights * norm, -1), -1)

        zeros = (tf.zeros_like(params["B"]),) * 2  # B has exactly the leading axes (R, 1)

        def one_pass():  # one chunk summed outside a loop keeps the one-pass sum's bits
            part = terms(tf.constant(0, tf.int64), tf.minimum(size, count))
            return tf.nest.map_structure(tf.add, zeros, part)

        buckets = marginal.shape[-1]  # None in a graph traced for any K
        if buckets is not None and buckets**n * BASELINE_NODES <= ONE_LATENT_CHUNK_VALUES:
            numerator, denominator = one_pass()
        else:
            numerator, denominator = tf.cond(
                count <= size, one_pass, lambda: sum_over_chunks(terms, zeros, count, size)
            )
        return numerator / denominator
