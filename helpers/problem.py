"""The interface every estimator is written against: a problem with n categorical latents.

A *problem* is whatever the estimators differentiate: an objective
L(theta) = E_{s, noise}[ g_theta(s, noise) ] where s = (s_1, ..., s_n) are n
independent categoricals of K categories each, with logits that depend on theta,
and `noise` is the problem's own continuous noise (the Gaussian eps of the
series' model, none at all for a decoder without one). An estimator sees only:

    problem.latents                       n, a Python int (static)
    problem.dtype                         the float dtype of its values
    problem.logits(params)                -> (..., n, K) logits of the n categoricals
    problem.objective(params, s, noise)   -> (...) values g_theta(s, noise), for s of
                                             shape (..., n, K), one-hot or relaxed, and
                                             noise of shape (...) (see `noise`)
    problem.noise(seed, shape)            -> its continuous noise for a batch of
                                             evaluations of shape `shape` (stateless)

`params` is a mapping name -> tensor whose tensors may carry leading batch axes
(one per replicate, one per sample): they broadcast against the leading axes of
s and noise, so one traced pass evaluates many replicates at once. Optional
methods, each a fast or extra path an estimator uses when it is there:

    problem.objective_all(params, noise)  -> (..., N, K**n) the objective at every joint
                                             configuration (in the order of
                                             `configurations`) for N noise draws
                                             each, noise (..., N, K**n), params with
                                             leading axes (...): no K**n one-hots
    problem.scored_objective(params, s, noise)
                                          -> (values with the continuous sample held
                                             fixed, its log density given s): for the
                                             score function that scores it too
    problem.optimal_baseline(params, pathwise_z)
                                          -> (..., 1) the score function's
                                             variance-optimal constant baseline
    problem.exact(params)                 -> (...) the exact objective L(theta), which
                                             `optimise` records after every step

A provider is a frozen dataclass. Its tensor-valued fields (data such as the
model's context x) are passed into traced functions as tensors; its other
fields (the objective f, n) are hashable and select the traced function, so
a new problem of the same kind reuses the trace. The series' model is one
provider (helpers.model_problem); an estimator never imports a model module,
and a new problem needs no change to any estimator.

Joint configurations are numbered with s_1 the most significant digit:
c = sum_i s_i K**(n - 1 - i), so for n = 1 configuration c is category c.
"""

import dataclasses

from ._tf import tf

# Enumerating more joint configurations than this (exact loss and gradient,
# elementary estimator, optimal baseline) raises a ValueError. At 2**20 (K = 4,
# n = 10) the exact gradient of the default model took 0.7 s for f = square and
# 5 s for an f that needs quadrature (64 nodes, plus the 96-node check) on a
# shared 2-core CPU, and the elementary estimator pays 2**20 evaluations per
# sample; both grow linearly in K**n (benchmarks/run.py tabulates elementary).
# Memory stays bounded: the enumeration runs in chunks (exact.CHUNK_VALUES).
MAX_CONFIGURATIONS = 2**20


def check_enumerable(latents, buckets, what):
    """A ValueError when K**n joint configurations are too many to enumerate."""
    count = buckets**latents
    if count > MAX_CONFIGURATIONS:
        raise ValueError(
            f"{what} enumerates all K**n = {buckets}**{latents} = {count:,} joint "
            f"configurations, more than the limit of 2**20 = {MAX_CONFIGURATIONS:,} "
            "(at the limit the exact gradient takes seconds on a laptop CPU, and time "
            "grows linearly beyond); use fewer latents or categories, or a sampling "
            "estimator (score_function, gumbel_softmax)"
        )


def configurations(latents, buckets, start=0, size=None):
    """The joint configurations start, ..., start + size - 1 as category indices: (size, n).

    buckets and start may be tensors (traced functions see any K); size defaults
    to all K**n configurations.
    """
    buckets = tf.cast(buckets, tf.int64)
    if size is None:
        size = buckets**latents
    flat = tf.cast(start, tf.int64) + tf.range(tf.cast(size, tf.int64), dtype=tf.int64)
    digits = [(flat // buckets ** (latents - 1 - i)) % buckets for i in range(latents)]
    return tf.stack(digits, axis=-1)


def gather_configurations(per_category, index):
    """sum_i per_category[..., i, index[c, i]] for every configuration c: (..., C).

    per_category has shape (..., n, K) (a log-probability or an additive
    contribution per latent and category), index (C, n) from `configurations`.
    """
    shape = tf.shape(per_category)
    latents, buckets = per_category.shape[-2], shape[-1]
    flat = tf.reshape(per_category, tf.concat([shape[:-2], [latents * buckets]], 0))
    positions = tf.range(latents, dtype=tf.int64) * tf.cast(buckets, tf.int64) + index
    return tf.reduce_sum(tf.gather(flat, positions, axis=-1), axis=-1)


def joint_probs(logits, index=None):
    """p(s = c) for joint configurations c: (..., C), from logits (..., n, K).

    For n = 1 this is softmax(logits) itself (all K categories, index unused);
    for n > 1 the product of the n marginal probabilities, over `index` (all
    K**n configurations by default).
    """
    if logits.shape[-2] == 1:
        return tf.nn.softmax(logits[..., 0, :], axis=-1)
    if index is None:
        index = configurations(logits.shape[-2], tf.shape(logits)[-1])
    return tf.exp(gather_configurations(tf.nn.log_softmax(logits, axis=-1), index))


def split_tensors(problem):
    """(the problem with its tensor fields set to None, those tensors by name).

    The first is hashable and selects a traced function; the second is what
    the traced function takes as arguments. `join_tensors` undoes it.
    """
    tensors = {
        field.name: getattr(problem, field.name)
        for field in dataclasses.fields(problem)
        if tf.is_tensor(getattr(problem, field.name))
    }
    return dataclasses.replace(problem, **dict.fromkeys(tensors)), tensors


def join_tensors(structure, tensors):
    """The problem `split_tensors` took apart."""
    return dataclasses.replace(structure, **tensors)
