"""What several test files share: the false-alarm level of the statistical tests, the
unbiasedness check, parameter values other than make_model's, a problem without the
model's fast paths, and a fresh process for measuring memory. Importable as `support`
(pyproject.toml puts tests/ on the path)."""

import os
import subprocess
import sys

import helpers as h

import numpy as np
import tensorflow as tf
from reference import (
    INNER,
    finite_difference,
    finite_difference_gradient,
    numpy_params,
    relaxed_loss,
)

# Models with several latents and their objectives: (make_model sizes, name, f).
LATENT_MODELS = [
    (dict(dim=3, buckets=3, latents=2, seed=41), "square", h.square),
    (dict(dim=2, buckets=2, latents=4, seed=42), "cos", lambda z: tf.cos(3 * z) + z),
    (dict(dim=4, buckets=5, latents=3, seed=43), "shifted", lambda z: (z - 0.7) ** 2),
]

ALPHA = 1e-3  # family-wise false-alarm rate of each unbiasedness check


def assert_unbiased(grads, exact):
    # Each coordinate's mean over R replicates is ~normal (CLT); Bonferroni over
    # all coordinates keeps the chance that an unbiased estimator fails below ALPHA.
    worst, bound = h.stats.unbiasedness(grads, exact, ALPHA)
    assert worst < bound, f"max |z| = {worst:.2f} exceeds the Bonferroni bound {bound:.2f}"


def randomize(model, seed, scale=1.0):
    """Give a model parameter values other than make_model's, from numpy."""
    rng = np.random.default_rng(seed)
    for name, variable in model.params.items():
        variable.assign(scale * rng.normal(size=variable.shape) * (0.5 if name in "CD" else 1.0))
    return model


def randomize_latents(model, seed):
    """randomize, with the per-latent entries of A and C scaled by 1/sqrt(n).

    As in make_model, the one-hot part then keeps its spread for any n; C and D
    are halved once more, so that over thousands of configurations the largest
    sigma stays where 64-node quadrature of cos is exact to rounding (about 8;
    sigma ~ 11 is not, by 4e-10 relative).
    """
    randomize(model, seed)
    scale = np.ones(model.dim + model.latents * model.buckets)
    scale[model.dim :] = 1 / np.sqrt(model.latents)
    model.params["A"].assign(model.params["A"] * scale)
    model.params["C"].assign(model.params["C"] * scale * 0.5)
    model.params["D"].assign(model.params["D"] * 0.5)
    return model


def total_variance_and_error(grads):
    """tr Cov of one estimate, and the standard error of that estimate (CLT over R)."""
    flat = np.hstack([g.reshape(len(g), -1) for g in grads.values()])
    squared_norms = np.sum((flat - flat.mean(axis=0)) ** 2, axis=1)
    return squared_norms.mean(), squared_norms.std() / np.sqrt(len(flat))


class WithoutFastPath:
    """A problem that only has the interface's required methods: the generic paths."""

    def __init__(self, problem):
        self.inner = problem

    latents = property(lambda self: self.inner.latents)
    dtype = property(lambda self: self.inner.dtype)

    def logits(self, params):
        return self.inner.logits(params)

    def objective(self, params, s, noise):
        return self.inner.objective(params, s, noise)

    def noise(self, seed, shape):
        return self.inner.noise(seed, shape)


# Objectives with a closed-form inner expectation in reference.INNER, by name.
F = {"square": h.square, "cos": tf.cos, "exp_half": lambda z: tf.exp(0.5 * z)}


def assert_exact_gradient_matches_finite_differences(model, f_name):
    grad = h.exact_gradient(model, F[f_name])
    fd = finite_difference_gradient(numpy_params(model), model.x.numpy(), INNER[f_name])
    assert set(grad) == set(model.params)
    for name in grad:
        assert grad[name].shape == tuple(model.params[name].shape)
    # Central differences in float64 are accurate to ~1e-9 relative here.
    assert h.stats.relative_error(grad, fd) < 1e-6


def assert_gumbel_softmax_mean_is_the_relaxed_gradient(model, tau, R=20_000, M=400_000):
    """Reference: central differences of a numpy Monte Carlo estimate of the relaxed
    objective with M fixed draws (common random numbers), which equals the mean of M
    pathwise gradients; each latent is relaxed on its own. Both sides are noisy: the
    difference has variance se^2 (1 + R / M), with se the helpers mean's standard error."""
    f_tf, f_np = (lambda z: tf.sin(2 * z) + z), (lambda z: np.sin(2 * z) + z)
    grads = h.gradient_samples(model, "gumbel_softmax", R, seed=4, f=f_tf, tau=tau)
    rng = np.random.default_rng(5)
    gumbels = -np.log(-np.log(rng.uniform(size=(M, *model.params["logits"].shape))))
    eps = rng.normal(size=M)
    x = model.x.numpy()
    reference = finite_difference(
        lambda p: relaxed_loss(p, x, gumbels, eps, tau, f_np), numpy_params(model)
    )
    se = h.stats.standard_error(grads)
    z = [
        np.max(np.abs(h.stats.mean(grads)[k] - reference[k]) / (se[k] * np.sqrt(1 + R / M)))
        for k in grads
    ]
    assert max(z) < h.stats.bonferroni_z(h.stats.n_coordinates(grads), ALPHA)


# A user's own problem, written as the README invites: one latent of 3 categories.
T = tf.constant([1.0, -2.0, 0.5], tf.float64)
PARAMS = {"logits": tf.constant([0.3, -0.1, 0.4], tf.float64)}


class Toy:
    """One latent of 3 categories, objective sum(s * T) + noise, zero noise, with its exact
    value."""

    latents = 1
    dtype = tf.float64

    def logits(self, params):
        return params["logits"][..., None, :]

    def objective(self, params, s, noise):
        return tf.reduce_sum(s * T, axis=[-2, -1]) + noise

    def noise(self, seed, shape):
        return tf.zeros(shape, tf.float64)

    def exact(self, params):
        return tf.reduce_sum(tf.nn.softmax(params["logits"]) * T, axis=-1)


def printed_by_a_fresh_process(script):
    """What a Python script prints, run in a process of its own: a test's own process holds
    memory earlier tests freed, which a call can reuse and so hide part of its peak."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    ).stdout
