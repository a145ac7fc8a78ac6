"""The draws every family shares (notebook 03 writes them out by hand). They are stateless:
the same seed gives the same numbers eager or traced; uniforms lie strictly inside (0, 1),
so that -log(-log u) is finite.
"""

import numpy as np

from .._tf import tf


def uniform(seed, shape, dtype):
    """Uniforms in [smallest normal float, 1): stateless_uniform's [min, max) excludes 1."""
    tiny = np.finfo(dtype.as_numpy_dtype).tiny
    return tf.random.stateless_uniform(shape, seed=seed, minval=tiny, maxval=1, dtype=dtype)


def uniform_per_category(problem, seed, n_replicates, n_samples, buckets):
    """u of shape (R, N, n, K), strictly inside (0, 1), and the problem's noise eps (R, N)."""
    seeds = tf.random.experimental.stateless_split(seed, num=2)
    shape = tf.stack([n_replicates, n_samples, problem.latents, buckets])
    return {"u": uniform(seeds[0], shape, problem.dtype), "eps": problem.noise(seeds[1], shape[:2])}


def uniform_twice(problem, seed, n_replicates, n_samples, buckets, n_gumbel=None):
    """uniform_per_category's u and eps (the same numbers for the same seed), and v: fresh
    uniforms for conditional Gumbels, from the seed folded with 2, of u's shape (R, N, n, K)
    or, for J = n_gumbel of them per draw, (R, N, J, n, K)."""
    noise = uniform_per_category(problem, seed, n_replicates, n_samples, buckets)
    shape = tf.shape(noise["u"])
    if n_gumbel is not None:
        shape = tf.concat([shape[:2], [tf.cast(n_gumbel, tf.int32)], shape[2:]], 0)
    noise["v"] = uniform(tf.random.experimental.stateless_fold_in(seed, 2), shape, problem.dtype)
    return noise


def with_sample_axis(params):
    """Parameters of shape (R, ...) as (R, 1, ...), to broadcast against (R, N, ...) draws."""
    return {name: tf.expand_dims(value, 1) for name, value in params.items()}


def gumbel(u):
    """Standard Gumbel noise from uniforms strictly inside (0, 1)."""
    return -tf.math.log(-tf.math.log(u))


def gumbel_max(logits, u):
    """Exact draws of s as one-hots: onehot(argmax(logits + G)), G Gumbel from u (..., K)."""
    return tf.one_hot(tf.argmax(logits + gumbel(u), axis=-1), tf.shape(u)[-1], dtype=u.dtype)


def relaxed_one_hot(logits, u, tau, straight_through=False):
    """softmax((log p + G) / tau) over the last axis: a point on the simplex, one-hot as
    tau -> 0 (softmax subtracts the maximum first, so a tiny tau cannot overflow).
    straight_through: the argmax's one-hot forward, the relaxed sample's gradient."""
    soft = tf.nn.softmax((tf.nn.log_softmax(logits, axis=-1) + gumbel(u)) / tau, axis=-1)
    if not straight_through:
        return soft
    hard = tf.one_hot(tf.argmax(soft, axis=-1), tf.shape(soft)[-1], dtype=soft.dtype)
    return hard + (soft - tf.stop_gradient(soft))


def conditional_gumbel(log_p, s, v):
    """zeta~ ~ (log p + G) given argmax = s, from fresh uniforms v, in log space (Tucker et al.
    2017). log_p normalised (logsumexp 0), s one-hot, v (..., K) strictly inside (0, 1). The
    maximum is a standard Gumbel: zeta~_s = -log E_s with E = -log v; every other coordinate
    is Gumbel(log p_i) truncated to lie below zeta~_s: zeta~_i = -log(E_i / p_i + E_s) =
    -logaddexp(log E_i - log p_i, log E_s)."""
    log_e = -gumbel(v)  # log(-log v)
    log_e_s = tf.reduce_sum(s * log_e, axis=-1, keepdims=True)
    a, c = log_e - log_p, log_e_s  # logaddexp by hand: no stacked copy, about 3x faster
    high, low = tf.maximum(a, c), tf.minimum(a, c)
    return tf.where(s > 0, -log_e_s, -(high + tf.math.log1p(tf.exp(low - high))))
