"""Gradient estimators, each written as a surrogate loss.

A surrogate takes a parameter mapping whose tensors carry a leading replicate
axis R, the context x, the objective f and a batch of noise, and returns R
scalars: the gradient of scalar r with respect to replicate r's parameters is
that replicate's gradient estimate. `sampling.gradient_samples` turns any
registered estimator into per-replicate gradients in one batched pass.

Each estimator also says how to draw its noise (stateless, from a seed), which
options it takes, and how many model evaluations one estimate costs.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from ._tf import tf
from .model import conditionals_all, probs


def standard_normal_per_category(seed, n_replicates, n_samples, buckets, dtype):
    """eps of shape (R, N, K): an independent N(0, 1) draw for every category."""
    shape = tf.stack([n_replicates, n_samples, buckets])
    return {"eps": tf.random.stateless_normal(shape, seed=seed, dtype=dtype)}


def elementary(params, x, f, noise):
    """Enumerate s, reparameterise z: sum_s p_s mean_n f(mu_s + sigma_s eps_ns).

    The sum over s is exact, so p_s(theta) stays inside the autodiff graph;
    only the Gaussian expectation is sampled, through z = mu + sigma eps.
    """
    mu, sigma = conditionals_all(params, x)  # (R, K) each
    z = mu[:, None, :] + sigma[:, None, :] * noise["eps"]  # (R, N, K)
    return tf.reduce_sum(probs(params) * tf.reduce_mean(f(z), axis=1), axis=-1)


@dataclass(eq=False)
class Estimator:
    """An estimator: its surrogate, its noise, its options and its cost."""

    name: str
    surrogate: Callable
    noise: Callable
    evaluations: Callable  # (buckets, n_samples) -> model evaluations per estimate
    options: dict = field(default_factory=dict)  # option name -> default value
    check: Callable = None  # (options, n_samples) -> checked options, or ValueError

    def checked_options(self, options, n_samples):
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            allowed = ", ".join(sorted(self.options)) or "none"
            raise ValueError(
                f"estimator {self.name!r} has no option {unknown[0]!r}; allowed options: {allowed}"
            )
        merged = {**self.options, **options}
        return self.check(merged, n_samples) if self.check else merged


ESTIMATORS = {}


def register(estimator):
    """Make an Estimator available by name and by its surrogate function."""
    ESTIMATORS[estimator.name] = estimator
    return estimator


def resolve(estimator):
    """The Estimator for a name or a registered surrogate function."""
    if isinstance(estimator, Estimator):
        return estimator
    for known in ESTIMATORS.values():
        if estimator == known.name or estimator is known.surrogate:
            return known
    names = ", ".join(repr(name) for name in ESTIMATORS)
    raise ValueError(f"unknown estimator {estimator!r}; known estimators: {names}")


register(
    Estimator(
        name="elementary",
        surrogate=elementary,
        noise=standard_normal_per_category,
        evaluations=lambda buckets, n_samples: buckets * n_samples,
    )
)
