"""The model's mathematics (helpers.model states it) on a parameter mapping, not a Model: z given
s, and its exact expectation. `conditionals` gives (mu, sigma) for one-hot or relaxed s,
`conditionals_all` and `conditionals_one_changed` for every configuration, or every single-latent
change, without making their one-hots. `loss_from` is the exact objective L(theta) = sum_s p_s
E_eps f(mu_s + sigma_s eps), enumerated in chunks. `params` may carry leading batch axes (one per
replicate, say) that broadcast against those of s: one traced pass evaluates many copies.
"""

import functools

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from ._tf import tf
from .problem import configurations, gather_configurations

GAUSS_HERMITE_NODES = 64
# Values (configurations x quadrature nodes) per chunk of the enumeration; one latent has
# larger chunks (its gradient is dense over K: few large chunks are fastest).
CHUNK_VALUES = 2**16
ONE_LATENT_CHUNK_VALUES = 2**20


def square(z):
    """The original notebook's objective f(z) = z**2."""
    return tf.square(z)


def probs(params):
    """p(s) for every s: shape (..., K), or (..., n, K) for n latents."""
    return tf.nn.softmax(params["logits"], axis=-1)


def _context_terms(params, x):
    """x . A[:dim] + B and x . C[:dim] + D, the parts shared by every s."""
    dim = tf.shape(x)[-1]  # dynamic: traced functions may see any dim
    mu_shared = tf.reduce_sum(params["A"][..., :dim] * x, axis=-1) + params["B"]
    log_sigma_shared = tf.reduce_sum(params["C"][..., :dim] * x, axis=-1) + params["D"]
    return mu_shared, log_sigma_shared


def _per_latent(weights, dim, latents):
    """The one-hot part of A or C, weights[..., dim:], as (..., n, K)."""
    tail = weights[..., dim:]
    shape = tf.shape(tail)
    return tf.reshape(tail, tf.concat([shape[:-1], [latents, shape[-1] // latents]], 0))


def conditionals(params, x, one_hot, latents=1):
    """(mu, sigma) of z given a one-hot or relaxed s: (..., K) for n = 1, else (..., n, K)."""
    dim = tf.shape(x)[-1]
    mu_shared, log_sigma_shared = _context_terms(params, x)
    if latents == 1:
        a, c, axes = params["A"][..., dim:], params["C"][..., dim:], -1
    else:
        a, c = (_per_latent(params[name], dim, latents) for name in "AC")
        axes = [-2, -1]
    mu_pre = mu_shared + tf.reduce_sum(one_hot * a, axis=axes)
    log_sigma = log_sigma_shared + tf.reduce_sum(one_hot * c, axis=axes)
    return tf.sigmoid(mu_pre), tf.exp(log_sigma)


def conditionals_all(params, x, latents=1, index=None):
    """(mu_s, sigma_s) for every joint configuration s at once: each (..., K**n). `conditionals`
    on every configuration's one-hot, without making them: n = 1 adds A[dim:] to the shared part
    (no K x K product); n > 1 gathers each configuration's n entries of A and C. index (C, n)
    from `problem.configurations` picks a subset."""
    dim = tf.shape(x)[-1]
    mu_shared, log_sigma_shared = _context_terms(params, x)
    if latents == 1 and index is None:
        a, c = params["A"][..., dim:], params["C"][..., dim:]
    else:
        if index is None:
            index = configurations(latents, tf.shape(params["logits"])[-1])
        a, c = (gather_configurations(_per_latent(params[n], dim, latents), index) for n in "AC")
    return tf.sigmoid(mu_shared[..., None] + a), tf.exp(log_sigma_shared[..., None] + c)


def conditionals_one_changed(params, x, one_hot, latents):
    """(mu, sigma) of every s' that differs from s in latent i alone, set to k: each (..., n, K).
    `conditionals` on the n K one-hots so changed from `one_hot` (..., n, K), without making
    them: latent i's entry of A moves from a_i(s_i) to a_ik, the others stay."""
    dim = tf.shape(x)[-1]
    mu_shared, log_sigma_shared = _context_terms(params, x)

    def pre_activation(shared, weights):
        per_latent = _per_latent(weights, dim, latents)  # (..., n, K)
        own = tf.reduce_sum(one_hot * per_latent, axis=-1, keepdims=True)  # a_i(s_i)
        others = tf.reduce_sum(own, axis=-2, keepdims=True) - own  # sum over j != i
        return shared[..., None, None] + others + per_latent

    mu_pre = pre_activation(mu_shared, params["A"])
    return tf.sigmoid(mu_pre), tf.exp(pre_activation(log_sigma_shared, params["C"]))


@functools.cache
def gauss_hermite(n=GAUSS_HERMITE_NODES):
    """Nodes and weights with sum_i w_i g(x_i) ~= E g(eps), eps ~ N(0, 1)."""
    nodes, weights = hermegauss(n)
    return nodes, weights / np.sqrt(2 * np.pi)


def expected_f(mu, sigma, f=square, nodes=GAUSS_HERMITE_NODES):
    """E_eps f(mu + sigma eps), elementwise over mu and sigma."""
    if f is square:
        return tf.square(mu) + tf.square(sigma)
    nodes, weights = (tf.constant(v, dtype=mu.dtype) for v in gauss_hermite(nodes))
    values = f(mu[..., None] + sigma[..., None] * nodes)
    return tf.reduce_sum(weights * values, axis=-1)


def chunked(latents, buckets, f, nodes=GAUSS_HERMITE_NODES):
    """Whether to enumerate in chunks: for n > 1, or K values past ONE_LATENT_CHUNK_VALUES."""
    return latents > 1 or buckets * (1 if f is square else nodes) > ONE_LATENT_CHUNK_VALUES


def sum_over_chunks(terms, zero, count, size):
    """The sum of terms(start, size), tensors nested like `zero`, over the configurations 0,
    ..., count - 1 in chunks of `size` (the last one smaller): one tf.while_loop, one
    iteration at a time (TensorFlow would run up to 10), so memory holds one chunk at a time."""

    def body(start, total):
        part = terms(start, tf.minimum(size, count - start))  # the last chunk: what is left
        return start + size, tf.nest.map_structure(tf.add, total, part)

    start = tf.constant(0, tf.int64)
    loop = tf.while_loop(lambda start, _: start < count, body, [start, zero], parallel_iterations=1)
    return loop[1]


def _loss_chunks(terms, zero, params, f, nodes, latents):
    """sum_over_chunks of the exact loss's terms: chunks of about CHUNK_VALUES values (one
    latent: ONE_LATENT_CHUNK_VALUES), each configuration taking one or `nodes` values."""
    count = tf.cast(tf.shape(params["logits"])[-1], tf.int64) ** latents
    values = CHUNK_VALUES if latents > 1 else ONE_LATENT_CHUNK_VALUES
    size = tf.constant(max(1, values // (1 if f is square else nodes)), tf.int64)
    return sum_over_chunks(terms, zero, count, size)


def _chunk_loss(params, x, f, nodes, latents, start, size):
    """The terms of the sum over configurations start, ..., start + size - 1."""
    index = configurations(latents, tf.shape(params["logits"])[-1], start, size)
    mu, sigma = conditionals_all(params, x, latents, index)
    logits = params["logits"] if latents > 1 else params["logits"][..., None, :]
    p = tf.exp(gather_configurations(tf.nn.log_softmax(logits, axis=-1), index))
    return tf.reduce_sum(p * expected_f(mu, sigma, f, nodes), axis=-1)


def loss_from(params, x, f=square, nodes=GAUSS_HERMITE_NODES, latents=1, in_chunks=None):
    """The exact objective for a parameter mapping (leading batch axes allowed). in_chunks: sum
    the configurations in chunks (default: for n > 1 only; exact.py also asks for chunks for one
    latent past ONE_LATENT_CHUNK_VALUES, see `chunked`)."""
    if not (latents > 1 if in_chunks is None else in_chunks):
        mu, sigma = conditionals_all(params, x)
        return tf.reduce_sum(probs(params) * expected_f(mu, sigma, f, nodes), axis=-1)
    terms = functools.partial(_chunk_loss, params, x, f, nodes, latents)
    zero = tf.zeros_like(params["B"])  # B has exactly the leading batch axes
    return _loss_chunks(terms, zero, params, f, nodes, latents)


def value_and_gradient_from(params, x, f=square, latents=1, in_chunks=None):
    """The exact loss and its gradient, accumulated over chunks of configurations."""

    def with_gradient(loss, *args):  # loss(params, x, f, *args) and its gradient
        with tf.GradientTape() as tape:
            tape.watch(params)
            value = loss(params, x, f, *args)
        return value, tape.gradient(value, params)

    if not (latents > 1 if in_chunks is None else in_chunks):
        return with_gradient(loss_from)
    terms = functools.partial(with_gradient, _chunk_loss, GAUSS_HERMITE_NODES, latents)
    zeros = (tf.zeros_like(params["B"]), {name: tf.zeros_like(v) for name, v in params.items()})
    return _loss_chunks(terms, zeros, params, f, GAUSS_HERMITE_NODES, latents)
