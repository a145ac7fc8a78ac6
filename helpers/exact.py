"""The exact objective L(theta) = sum_s p_s E_eps f(mu_s + sigma_s eps) and its gradient.

The sum over s is enumerated: K categories for one latent, all K**n joint
configurations for n latents, processed CHUNK_VALUES values at a time so memory
stays bounded (the gradient is accumulated chunk by chunk; one latent is summed
in one pass while it fits in a chunk), and refused with a ValueError beyond
problem.MAX_CONFIGURATIONS. The Gaussian expectation is closed form for
f = square (mu**2 + sigma**2) and Gauss-Hermite quadrature otherwise, with
GAUSS_HERMITE_NODES nodes. An n-node rule integrates polynomials of degree up
to 2n - 1 exactly, so 64 nodes are exact for any polynomial f of degree <= 127;
for smooth, non-polynomial f the error falls geometrically with n: for
f = cos, whose expectation is known in closed form, 64 nodes are accurate to
machine precision up to sigma = 8 (32 nodes already fail there by 1e-3).
Quadrature is *not* accurate for f with kinks or jumps (|z|, a step), nor when
f varies on scales much smaller than sigma (cos(10 z) at sigma = 1, say). The
exact functions detect both by repeating the quadrature with CHECK_NODES nodes
and emit a QuadratureWarning when the two disagree beyond rounding.
Differentiating this enumerated value with autodiff gives the exact gradient.
"""

import functools
import warnings

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from . import checks
from ._tf import tf
from .model import as_model, conditionals_all, probs, square
from .problem import check_enumerable, configurations, gather_configurations
from .tracing import trace_cache

__all__ = [
    "CHUNK_VALUES",
    "GAUSS_HERMITE_NODES",
    "QuadratureWarning",
    "exact_gradient",
    "exact_loss",
    "expected_f",
]

GAUSS_HERMITE_NODES = 64
CHECK_NODES = 96
# Relative disagreement between the two rules above which a warning is raised:
# far above rounding error in each dtype, far below any error a reader would see.
QUADRATURE_TOLERANCE = {"float64": 1e-8, "float32": 1e-4}
# Values (configurations x quadrature nodes) per chunk of the enumeration; one latent
# is summed in one pass up to a larger chunk (its gradient is dense over K, so every
# chunk adds K values: few large chunks are fastest).
CHUNK_VALUES = 2**16
ONE_LATENT_CHUNK_VALUES = 2**20


class QuadratureWarning(UserWarning):
    """Gauss-Hermite quadrature may be inaccurate for this f and these parameters."""


@functools.cache
def gauss_hermite(n=GAUSS_HERMITE_NODES):
    """Nodes and weights with sum_i w_i g(x_i) ~= E g(eps), eps ~ N(0, 1)."""
    nodes, weights = hermegauss(n)
    return nodes, weights / np.sqrt(2 * np.pi)


def expected_f(mu, sigma, f=square, nodes=GAUSS_HERMITE_NODES):
    """E_eps f(mu + sigma eps), elementwise over mu and sigma."""
    if f is square:
        return tf.square(mu) + tf.square(sigma)
    nodes, weights = gauss_hermite(nodes)
    nodes = tf.constant(nodes, dtype=mu.dtype)
    weights = tf.constant(weights, dtype=mu.dtype)
    values = f(mu[..., None] + sigma[..., None] * nodes)
    return tf.reduce_sum(weights * values, axis=-1)


def chunked(latents, buckets, f, nodes=GAUSS_HERMITE_NODES):
    """Whether the enumeration runs in chunks: always for n > 1; for one latent only
    when its K categories hold more than ONE_LATENT_CHUNK_VALUES values."""
    return latents > 1 or buckets * (1 if f is square else nodes) > ONE_LATENT_CHUNK_VALUES


def loss_from(params, x, f=square, nodes=GAUSS_HERMITE_NODES, latents=1, in_chunks=None):
    """The exact objective for a parameter mapping (leading batch axes allowed).

    in_chunks: sum the configurations in chunks (default: for n > 1 only).
    """
    if not (latents > 1 if in_chunks is None else in_chunks):
        mu, sigma = conditionals_all(params, x)
        return tf.reduce_sum(probs(params) * expected_f(mu, sigma, f, nodes), axis=-1)
    count, size = _chunking(params, f, nodes, latents)

    def body(start, total):
        return start + size, total + _chunk_loss(params, x, f, nodes, latents, start, size)

    zero = tf.zeros_like(params["B"])  # B has exactly the leading batch axes
    return tf.while_loop(lambda start, _: start < count, body, [tf.constant(0, tf.int64), zero])[1]


def _chunking(params, f, nodes, latents):
    """K**n and the configurations per chunk (a tensor, int64)."""
    count = tf.cast(tf.shape(params["logits"])[-1], tf.int64) ** latents
    values = CHUNK_VALUES if latents > 1 else ONE_LATENT_CHUNK_VALUES
    return count, tf.constant(max(1, values // (1 if f is square else nodes)), tf.int64)


def _chunk_loss(params, x, f, nodes, latents, start, size):
    """The terms of the sum over configurations start, ..., start + size - 1 (clipped at K**n)."""
    buckets = tf.shape(params["logits"])[-1]
    size = tf.minimum(size, tf.cast(buckets, tf.int64) ** latents - start)
    index = configurations(latents, buckets, start, size)
    mu, sigma = conditionals_all(params, x, latents, index)
    logits = params["logits"] if latents > 1 else params["logits"][..., None, :]
    p = tf.exp(gather_configurations(tf.nn.log_softmax(logits, axis=-1), index))
    return tf.reduce_sum(p * expected_f(mu, sigma, f, nodes), axis=-1)


def value_and_gradient_from(params, x, f=square, latents=1, in_chunks=None):
    """The exact loss and its gradient, accumulated over chunks of configurations."""
    if not (latents > 1 if in_chunks is None else in_chunks):
        with tf.GradientTape() as tape:
            tape.watch(params)
            value = loss_from(params, x, f)
        return value, tape.gradient(value, params)
    count, size = _chunking(params, f, GAUSS_HERMITE_NODES, latents)

    def body(start, total, grads):
        with tf.GradientTape() as tape:
            tape.watch(params)
            value = _chunk_loss(params, x, f, GAUSS_HERMITE_NODES, latents, start, size)
        chunk_grads = tape.gradient(value, params)
        grads = {name: grads[name] + chunk_grads[name] for name in grads}
        return start + size, total + value, grads

    zeros = {name: tf.zeros_like(value) for name, value in params.items()}
    start = [tf.constant(0, tf.int64), tf.zeros_like(params["B"]), zeros]
    _, value, grads = tf.while_loop(lambda start, *_: start < count, body, start)
    return value, grads


def _checked(model, f):
    """The model and its current parameter values, after checking both and f."""
    model = as_model(model)
    check_enumerable(model.latents, model.buckets, "the exact loss")
    f = checks.objective(f, model.dtype)
    return model, model.values(), f


def _warn_if_inaccurate(value, params, x, f, latents):
    """Compare the loss `value` (64 nodes) with a finer rule; warn when they disagree."""
    if f is square:  # closed form, no quadrature
        return
    used = float(value)
    finer = float(_loss(params, x, f, CHECK_NODES, latents))
    tolerance = QUADRATURE_TOLERANCE[x.dtype.name] * max(1.0, abs(finer))
    if not abs(used - finer) <= tolerance:
        warnings.warn(
            f"Gauss-Hermite quadrature with {GAUSS_HERMITE_NODES} and {CHECK_NODES} nodes "
            f"disagrees ({used:.10g} vs {finer:.10g}): f may have a kink or jump, or vary "
            "on a scale much smaller than sigma; the exact loss and gradient are then "
            "approximate",
            QuadratureWarning,
            stacklevel=3,
        )


@trace_cache
def _traced_value_and_gradient(f, latents, in_chunks):
    # One traced function per f, number of latents and chunking, reused across calls and models.
    @tf.function(reduce_retracing=True)
    def value_and_gradient(params, x):
        return value_and_gradient_from(params, x, f, latents, in_chunks)

    return value_and_gradient


@trace_cache
def _traced_loss(f, nodes, latents):
    # In chunks: the loop over chunks runs as one graph instead of step by step.
    return tf.function(
        functools.partial(loss_from, f=f, nodes=nodes, latents=latents, in_chunks=True)
    )


def _loss(params, x, f, nodes, latents):
    buckets = int(params["logits"].shape[-1])
    if not chunked(latents, buckets, f, nodes):  # one small pass: eager, as it always was
        return loss_from(params, x, f, nodes)
    return _traced_loss(f, nodes, latents)(params, x)


def exact_loss(model, f=square):
    """L(theta) = E[f(z)] for the model's current parameters: a scalar tensor."""
    model, params, f = _checked(model, f)
    value = _loss(params, model.x, f, GAUSS_HERMITE_NODES, model.latents)
    _warn_if_inaccurate(value, params, model.x, f, model.latents)
    return value


def exact_gradient(model, f=square):
    """The exact gradient of L(theta): dict name -> np.ndarray, keys as model.params."""
    model, params, f = _checked(model, f)
    in_chunks = chunked(model.latents, model.buckets, f)
    value, grads = _traced_value_and_gradient(f, model.latents, in_chunks)(params, model.x)
    _warn_if_inaccurate(value, params, model.x, f, model.latents)
    return {name: grad.numpy() for name, grad in grads.items()}
