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

import numpy as np

from . import checks
from ._tf import tf
from .exact import gauss_hermite
from .model import conditionals, conditionals_all, log_probs, probs


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


def with_sample_axis(params):
    """Parameters of shape (R, ...) as (R, 1, ...), to broadcast against (R, N, K) draws."""
    return {name: tf.expand_dims(value, 1) for name, value in params.items()}


def uniform_per_category(seed, n_replicates, n_samples, buckets, dtype):
    """u of shape (R, N, K), strictly inside (0, 1), and eps of shape (R, N).

    u >= the smallest normal float, so -log(-log(u)) is finite; the upper end
    of stateless_uniform's [min, max) is already excluded.
    """
    seeds = tf.random.experimental.stateless_split(seed, num=2)
    shape = tf.stack([n_replicates, n_samples, buckets])
    tiny = np.finfo(dtype.as_numpy_dtype).tiny
    u = tf.random.stateless_uniform(shape, seed=seeds[0], minval=tiny, maxval=1, dtype=dtype)
    eps = tf.random.stateless_normal(shape[:2], seed=seeds[1], dtype=dtype)
    return {"u": u, "eps": eps}


def gumbel(u):
    """Standard Gumbel noise from uniforms strictly inside (0, 1)."""
    return -tf.math.log(-tf.math.log(u))


def relaxed_one_hot(logits, u, tau, straight_through=False):
    """softmax((log p + G) / tau): a point on the simplex, one-hot as tau -> 0.

    tf.nn.softmax subtracts the maximum before exponentiating, so a tiny tau
    (large logits / tau) gives no overflow in float32 or float64. With
    straight_through, the forward value is the exact one-hot of the argmax and
    the gradient is the relaxed sample's.
    """
    soft = tf.nn.softmax((tf.nn.log_softmax(logits, axis=-1) + gumbel(u)) / tau, axis=-1)
    if not straight_through:
        return soft
    hard = tf.one_hot(tf.argmax(soft, axis=-1), tf.shape(soft)[-1], dtype=soft.dtype)
    return hard + (soft - tf.stop_gradient(soft))


def gumbel_softmax(params, x, f, noise, tau, straight_through=False):
    """Relax s to y = softmax((log p + G) / tau), feed y to the model, reparameterise z.

    Unbiased for the gradient of the relaxed objective E f(z(y)), a biased
    estimate of the true gradient; the bias vanishes as tau -> 0.
    """
    params = with_sample_axis(params)
    y = relaxed_one_hot(params["logits"], noise["u"], tau, straight_through)  # (R, N, K)
    mu, sigma = conditionals(params, x, y)  # (R, N) each
    return tf.reduce_mean(f(mu + sigma * noise["eps"]), axis=1)


def _check_gumbel_options(options, n_samples):
    if not isinstance(options["straight_through"], bool):
        raise ValueError(
            f"straight_through must be True or False, got {options['straight_through']!r}"
        )
    return {**options, "tau": checks.positive_finite(options["tau"], "tau")}


BASELINES = ("none", "constant", "optimal", "loo")
BASELINE_NODES = 16


def normal_log_density(z, mu, sigma):
    return -0.5 * tf.square((z - mu) / sigma) - tf.math.log(sigma) - 0.5 * np.log(2 * np.pi)


def optimal_baseline(params, x, f, pathwise_z):
    """The constant b minimising tr Cov of (f - b) grad log q: E[f |g|^2] / E[|g|^2].

    Computed for each replicate's theta by enumerating s and Gauss-Hermite
    quadrature over eps, from the closed-form squared norm |g|^2 of the score,
    and kept out of the gradient, so the estimator stays unbiased whatever its
    accuracy. g is e_s - p for the logits; scoring z too adds
    (eps / sigma)^2 (mu (1 - mu))^2 (|x_s|^2 + 1) for (A, B) and
    (eps^2 - 1)^2 (|x_s|^2 + 1) for (C, D), with |x_s|^2 = |x|^2 + 1.
    BASELINE_NODES nodes integrate polynomials up to degree 31 exactly (f = z^2
    gives degree 6), and smooth f to high accuracy, at a quarter of the cost of
    the exact loss's rule. Returns shape (R, 1).
    """
    params = {name: tf.stop_gradient(value) for name, value in params.items()}
    p = probs(params)  # (R, 1, K)
    mu, sigma = conditionals_all(params, x)  # (R, 1, K)
    nodes, weights = (tf.constant(v, dtype=x.dtype) for v in gauss_hermite(BASELINE_NODES))
    f_values = f(mu[..., None] + sigma[..., None] * nodes)  # (R, 1, K, Q)
    norm = (1 - 2 * p + tf.reduce_sum(p * p, axis=-1, keepdims=True))[..., None]
    if not pathwise_z:
        xs = tf.reduce_sum(x * x) + 2  # |x_s|^2 + 1
        slope = (mu * (1 - mu) / sigma)[..., None]
        norm = norm + xs * (tf.square(nodes * slope) + tf.square(nodes * nodes - 1))
    numerator = tf.reduce_sum(p * tf.reduce_sum(weights * f_values * norm, axis=-1), axis=-1)
    denominator = tf.reduce_sum(p * tf.reduce_sum(weights * norm, axis=-1), axis=-1)
    return numerator / denominator


def optimal_baseline_at(params, x, f, pathwise_z):
    """optimal_baseline for one parameter mapping without a replicate axis, as a float."""
    batched = with_sample_axis({name: value[None] for name, value in params.items()})
    return float(optimal_baseline(batched, x, f, pathwise_z)[0, 0])


def score_function(params, x, f, noise, baseline="none", value=None, pathwise_z=True):
    """The log-derivative trick: grad E f = E[(f - b) grad log q] (+ the pathwise part).

    s is drawn by Gumbel-max. pathwise_z=True scores only s (log q = log p_s) and
    reparameterises z = mu_s + sigma_s eps; pathwise_z=False scores both,
    log q = log p_s + log N(z; mu_s, sigma_s), with no gradient through z.
    The baseline b must not depend on the draw it multiplies: a constant, the
    exact optimal constant, or the mean of the other draws (leave-one-out).
    """
    params = with_sample_axis(params)
    log_p = log_probs(params)  # (R, 1, K)
    s = tf.argmax(tf.stop_gradient(log_p) + gumbel(noise["u"]), axis=-1)  # (R, N)
    one_hot = tf.one_hot(s, tf.shape(log_p)[-1], dtype=log_p.dtype)
    mu, sigma = conditionals(params, x, one_hot)  # (R, N)
    z = mu + sigma * noise["eps"]
    log_q = tf.reduce_sum(one_hot * log_p, axis=-1)
    if not pathwise_z:
        z = tf.stop_gradient(z)
        log_q += normal_log_density(z, mu, sigma)
    f_z = f(z)
    if baseline == "constant":
        b = value
    elif baseline == "optimal":
        b = optimal_baseline(params, x, f, pathwise_z)
    elif baseline == "loo":
        n = tf.cast(tf.shape(f_z)[1], f_z.dtype)
        b = (tf.reduce_sum(f_z, axis=1, keepdims=True) - f_z) / (n - 1)
    else:
        b = 0.0
    # Value f(z); gradient: pathwise part of f(z) + (f - b) grad log q.
    score_term = tf.stop_gradient(f_z - b) * (log_q - tf.stop_gradient(log_q))
    return tf.reduce_mean(f_z + score_term, axis=1)


def _check_score_options(options, n_samples):
    baseline, value = options["baseline"], options["value"]
    if baseline not in BASELINES:
        raise ValueError(f"unknown baseline {baseline!r}; allowed: {', '.join(BASELINES)}")
    if not isinstance(options["pathwise_z"], bool):
        raise ValueError(f"pathwise_z must be True or False, got {options['pathwise_z']!r}")
    if baseline == "loo" and n_samples < 2:
        raise ValueError(
            f"baseline='loo' averages the other draws of a replicate, so it needs "
            f"n_samples >= 2, got n_samples={n_samples}"
        )
    if baseline != "constant" and value is not None:
        raise ValueError(f"value is used only with baseline='constant', not {baseline!r}")
    if baseline == "constant":
        if value is None:
            value = 0.0
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise ValueError(f"value must be a finite number, got {value!r}")
        value = float(value)
    return {**options, "value": value}


def _prepare_score_options(params, x, f, options):
    """One shared theta: the optimal baseline is one number, used as a constant."""
    if options["baseline"] != "optimal":
        return options
    value = optimal_baseline_at(params, x, f, options["pathwise_z"])
    return {**options, "baseline": "constant", "value": value}


@dataclass(eq=False)
class Estimator:
    """An estimator: its surrogate, its noise, its options and its cost."""

    name: str
    surrogate: Callable
    noise: Callable
    evaluations: Callable  # (buckets, n_samples) -> model evaluations per estimate
    options: dict = field(default_factory=dict)  # option name -> default value
    check: Callable = None  # (options, n_samples) -> checked options, or ValueError
    # (params, x, f, options) -> options, once per call of gradient_samples, where
    # every replicate shares one theta: work that depends on theta alone goes here.
    prepare: Callable = None

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

register(
    Estimator(
        name="gumbel_softmax",
        surrogate=gumbel_softmax,
        noise=uniform_per_category,
        evaluations=lambda buckets, n_samples: n_samples,
        options={"tau": 1.0, "straight_through": False},
        check=_check_gumbel_options,
    )
)

register(
    Estimator(
        name="score_function",
        surrogate=score_function,
        noise=uniform_per_category,
        evaluations=lambda buckets, n_samples: n_samples,
        options={"baseline": "none", "value": None, "pathwise_z": True},
        check=_check_score_options,
        prepare=_prepare_score_options,
    )
)
