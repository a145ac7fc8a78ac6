"""Independent per-replicate gradient estimates in one batched pass.

Each parameter is broadcast to a leading replicate axis, tf.broadcast_to(v, [R,
*v.shape]), and those copies are watched. All R surrogates are computed in one
traced pass and one tape.gradient of their sum is taken with respect to the
copies: surrogate r depends only on copy r, so row r of the result is
replicate r's gradient. Time and memory are O(R). (tape.jacobian over shared
variables would cost O(R^2) memory; tf.vectorized_map is ~100x slower.)
"""

import functools
import numbers

import numpy as np

from . import checks
from ._tf import tf
from .estimators import resolve
from .model import PARAM_NAMES, as_model, square


@functools.cache
def _traced(estimator, f, static_options):
    """One traced function per (estimator, f, static options), reused across calls."""
    static = dict(static_options)

    @tf.function(reduce_retracing=True)
    def per_replicate_gradients(params, x, seed, n_replicates, n_samples, dynamic):
        buckets = tf.shape(params["logits"])[-1]
        noise = estimator.noise(seed, n_replicates, n_samples, buckets, x.dtype)
        copies = {
            name: tf.broadcast_to(value, tf.concat([[n_replicates], tf.shape(value)], 0))
            for name, value in params.items()
        }
        with tf.GradientTape() as tape:
            tape.watch(copies)
            surrogates = estimator.surrogate(copies, x, f, noise, **static, **dynamic)
            total = tf.reduce_sum(surrogates)
        return tape.gradient(total, copies, unconnected_gradients=tf.UnconnectedGradients.ZERO)

    return per_replicate_gradients


def split_options(options, dtype):
    """Flags and names fix the traced graph; numbers become tensors (no retracing)."""
    static, dynamic = {}, {}
    for name, value in options.items():
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            dynamic[name] = tf.constant(value, dtype=dtype)
        else:
            static[name] = value
    return tuple(sorted(static.items())), dynamic


# Replicates are processed in chunks of about CHUNK_ELEMENTS noise values, so the
# working set of one pass stays small (cache-friendly, bounded memory) and the time
# grows linearly in R. Chunk 0 uses the seed itself, chunk c > 0 the seed folded with c.
CHUNK_ELEMENTS = 2**18


def chunks(n_replicates, n_samples, buckets, seed):
    """(replicates in the chunk, its seed) for each chunk, in order."""
    size = max(1, CHUNK_ELEMENTS // (n_samples * buckets))
    for index, start in enumerate(range(0, n_replicates, size)):
        chunk_seed = seed if index == 0 else tf.random.experimental.stateless_fold_in(seed, index)
        yield min(size, n_replicates - start), chunk_seed


def noise_for(model, estimator, n_replicates, n_samples=1, seed=0):
    """The noise `gradient_samples` uses for these arguments: dict name -> np.ndarray."""
    model = as_model(model)
    estimator = resolve(estimator)
    n_replicates = checks.integer(n_replicates, "n_replicates", 1)
    n_samples = checks.integer(n_samples, "n_samples", 1)
    parts = [
        estimator.noise(chunk_seed, size, n_samples, model.buckets, model.dtype)
        for size, chunk_seed in chunks(n_replicates, n_samples, model.buckets, checks.seed(seed))
    ]
    return {name: np.concatenate([part[name].numpy() for part in parts]) for name in parts[0]}


def gradient_samples(model, estimator, n_replicates, n_samples=1, seed=0, f=square, **options):
    """n_replicates independent gradient estimates, each averaging n_samples draws.

    Returns dict name -> np.ndarray of shape (n_replicates, *param.shape), keys
    as model.params. The same arguments give the same numbers every time.
    """
    model = as_model(model)
    estimator = resolve(estimator)
    n_replicates = checks.integer(n_replicates, "n_replicates", 1)
    n_samples = checks.integer(n_samples, "n_samples", 1)
    options = estimator.checked_options(options, n_samples)
    checks.objective(f, model.dtype)
    params, samples = model.values(), tf.constant(n_samples)
    if estimator.prepare:
        options = estimator.prepare(params, model.x, f, options)
    static, dynamic = split_options(options, model.dtype)
    run = _traced(estimator, f, static)
    parts = [
        run(params, model.x, chunk_seed, tf.constant(size), samples, dynamic)
        for size, chunk_seed in chunks(n_replicates, n_samples, model.buckets, checks.seed(seed))
    ]
    if len(parts) == 1:
        return {name: parts[0][name].numpy() for name in PARAM_NAMES}
    return {name: np.concatenate([part[name].numpy() for part in parts]) for name in PARAM_NAMES}
