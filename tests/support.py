"""What several test files share: the false-alarm level of the statistical tests, the
unbiasedness check, parameter values other than make_model's, and a problem without the
model's fast paths. Importable as `support` (pyproject.toml puts tests/ on the path)."""

import helpers as h

import numpy as np
import tensorflow as tf

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
