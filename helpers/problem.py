"""The interface every estimator is written against (`Problem`), and helpers for it.

Estimators (helpers.estimators) see a problem only through `Problem`; the
series' model is one provider (helpers.model_problem), and a new problem (a
discrete VAE's decoder, say) needs no change to any estimator.
"""

import dataclasses
import math
from typing import Protocol

from ._tf import tf
from .tracing import stable


class Problem(Protocol):
    """An objective with n categorical latents, as the estimators see it.

    L(theta) = E_{s, noise}[ g_theta(s, noise) ], where s = (s_1, ..., s_n) are n
    independent categoricals of K categories each whose logits depend on theta,
    and `noise` is the problem's own continuous noise (the model's Gaussian eps;
    a problem without one returns zeros and ignores them).

    Required:
        latents: n, a Python int (static: it selects the traced code)
        dtype: the float dtype of its values
        logits(params) -> (..., n, K), the logits of the n categoricals
        objective(params, s, noise) -> (...), g_theta(s, noise) for s of shape
            (..., n, K), one-hot or relaxed, and noise of shape (...)
        noise(seed, shape) -> noise of shape `shape` for a batch of evaluations
            of that shape (stateless: the same seed gives the same numbers)

    Optional, each a fast or extra path an estimator uses when it is there:
        objective_all(params, noise) -> (..., N, K**n), the objective at every
            joint configuration (numbered as in `configurations`) for N noise
            draws each (noise (..., N, K**n), params with leading axes (...)),
            without materialising K**n one-hots (the elementary estimator)
        objective_one_changed(params, s, noise) -> (..., n, K), the objective at
            s with latent i set to category k, for every (i, k), for a one-hot
            s (..., n, K) and noise broadcastable to (..., n, K), without
            materialising the n K changed one-hots (IndeCateR)
        scored_objective(params, s, noise) -> (values with the continuous sample
            held fixed, its log density given s) (the score function that
            scores the continuous part too, pathwise_z=False)
        optimal_baseline(params, pathwise_z) -> (..., 1), the score function's
            variance-optimal constant baseline (baseline="optimal")
        exact(params) -> (...), the exact objective, which `optimise` records

    `params` tensors may carry leading batch axes (per replicate, per sample) that
    broadcast against those of s and noise: one traced pass, many replicates.

    The helpers' own problems (frozen dataclasses) share traced functions: their
    tensor fields (the model's context x) are the traced function's arguments, their
    other fields (f, n) select it. Any other object is traced afresh at every call,
    so a changed attribute is always seen (helpers.tracing states the rule).
    """

    latents: int
    dtype: tf.DType

    def logits(self, params): ...

    def objective(self, params, s, noise): ...

    def noise(self, seed, shape): ...


# Joint configurations are numbered with s_1 the most significant digit:
# c = sum_i s_i K**(n - 1 - i), so for n = 1 configuration c is category c.
# Enumerating more than this (exact loss and gradient, elementary estimator, optimal
# baseline) raises a ValueError: at 2**20 (K = 4, n = 10) the exact gradient took 0.7 s
# (f = square) to 5 s (quadrature) on a shared 2-core CPU, and the elementary estimator
# pays 2**20 evaluations per sample, both linear in K**n (benchmarks/run.py). Memory
# stays bounded: the enumeration runs in chunks (model_math.CHUNK_VALUES).
MAX_CONFIGURATIONS = 2**20


def check_enumerable(latents, buckets, what):
    """A ValueError when K**n joint configurations are too many to enumerate.

    K**n of 2**64 or more is given by its power of ten (2**20000 has too many digits).
    """
    if buckets > 1 and latents * math.log2(buckets) >= 64:
        count = f"about 10**{latents * math.log10(buckets):.0f}"
    elif buckets**latents > MAX_CONFIGURATIONS:
        count = f"{buckets**latents:,}"
    else:
        return
    raise ValueError(
        f"{what} enumerates all K**n = {buckets}**{latents} = {count} joint "
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
    latents, buckets = index.shape[-1], tf.cast(shape[-1], tf.int64)
    flat = tf.reshape(per_category, tf.concat([shape[:-2], [-1]], 0))  # (..., n K)
    positions = tf.range(latents, dtype=tf.int64) * buckets + index
    return tf.reduce_sum(tf.gather(flat, positions, axis=-1), axis=-1)


def joint_probs(logits, latents, index=None):
    """p(s = c) for joint configurations c: (..., C), from logits (..., n, K).

    For n = 1 softmax(logits) itself (index is not used); for n > 1 the product of
    the n marginal probabilities, over `index` (all K**n configurations by default).
    """
    if latents == 1:
        return tf.nn.softmax(logits[..., 0, :], axis=-1)
    if index is None:
        index = configurations(latents, tf.shape(logits)[-1])
    return tf.exp(gather_configurations(tf.nn.log_softmax(logits, axis=-1), index))


def split_tensors(problem):
    """(the problem with its tensor fields set to None, which selects a traced function;
    those tensors by name, its arguments). `join_tensors` undoes it; a problem that is not
    a dataclass, or not one of the helpers' own (never shared), is passed as it is."""
    if not dataclasses.is_dataclass(problem) or not stable(type(problem)):
        return problem, {}
    tensors = {
        field.name: getattr(problem, field.name)
        for field in dataclasses.fields(problem)
        if tf.is_tensor(getattr(problem, field.name))
    }
    return dataclasses.replace(problem, **dict.fromkeys(tensors)), tensors


def join_tensors(structure, tensors):
    """The problem `split_tensors` took apart."""
    if not tensors:  # passed as it was
        return structure
    return dataclasses.replace(structure, **tensors)
