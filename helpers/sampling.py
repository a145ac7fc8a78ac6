"""Independent per-replicate gradient estimates in one batched pass.

Each parameter is broadcast to a leading replicate axis, tf.broadcast_to(v, [R,
*v.shape]), and those copies are watched. All R surrogates are computed in one
traced pass and one tape.gradient of their sum is taken with respect to the
copies: surrogate r depends only on copy r, so row r of the result is
replicate r's gradient. Time and memory are O(R). (tape.jacobian over shared
variables would cost O(R^2) memory; tf.vectorized_map is ~100x slower.)
"""

import numbers

import numpy as np

from . import checks
from ._tf import tf
from .estimators import resolve
from .model import as_model, square
from .problem import join_tensors, split_tensors
from .tracing import trace_cache


def _noise(estimator, problem, params, seed, size, n_samples, options):
    """One chunk's noise, drawn from its own seed by TensorFlow's usual kernels."""
    buckets = tf.shape(problem.logits(params))[-1]
    extra = {name: options[name] for name in estimator.noise_options}
    return estimator.noise(problem, seed, size, n_samples, buckets, **extra)


def _gradient_pass(estimator, problem, params, noise, n_replicates, static, dynamic):
    """Each replicate's gradient: one tape over R watched copies of the parameters."""
    copies = {
        name: tf.broadcast_to(value, tf.concat([[n_replicates], tf.shape(value)], 0))
        for name, value in params.items()
    }
    with tf.GradientTape() as tape:
        tape.watch(copies)
        surrogates = estimator.surrogate(problem, copies, noise, **static, **dynamic)
        total = tf.reduce_sum(surrogates)
    return tape.gradient(total, copies, unconnected_gradients=tf.UnconnectedGradients.ZERO)


@trace_cache
def _traced(estimator, structure, static_options, grouped=False):
    """One traced function per (estimator, kind of problem, static options), reused across calls.

    Not grouped: one noise chunk per pass, drawn from `seed`, the chunk's own seed.
    Grouped: chunks first, ..., first + count - 1 of the call's `seed`, drawn in one
    pass and concatenated (each exactly as `chunks` seeds it), for estimators whose
    chunks are smaller than their working set needs (`passes`).
    """
    static = dict(static_options)

    @tf.function(reduce_retracing=True)
    def per_replicate_gradients(params, tensors, seed, first, count, size, n_samples, dynamic):
        problem = join_tensors(structure, tensors)
        options = {**static, **dynamic}

        def noise_from(chunk_seed):
            return _noise(estimator, problem, params, chunk_seed, size, n_samples, options)

        def draw(index):  # chunk `index`'s noise; fold_in gives int32, the seed int64
            folded = tf.random.experimental.stateless_fold_in(seed, index)
            return tf.cond(index == 0, lambda: noise_from(seed), lambda: noise_from(folded))

        if grouped:
            spec = {k: tf.TensorSpec(None, v.dtype) for k, v in noise_from(seed).items()}
            indices = tf.range(first, first + count)
            stacked = tf.map_fn(draw, indices, fn_output_signature=spec)  # (count, size, ...)
            noise = {
                k: tf.reshape(v, tf.concat([[-1], tf.shape(v)[2:]], 0)) for k, v in stacked.items()
            }
        else:
            noise = noise_from(seed)
        return _gradient_pass(estimator, problem, params, noise, count * size, static, dynamic)

    return per_replicate_gradients


@trace_cache
def _compiled(estimator, structure, static_options):
    """_traced's contract for one chunk per pass, its gradient pass compiled by XLA.

    The noise is drawn as in _traced, outside XLA (XLA's random kernels give other
    numbers for the same seed), so the gradients equal _traced's to rounding. XLA
    compiles once per shape, so a partial chunk is padded to `whole` replicates
    with copies of its own rows, whose gradients are dropped: every chunk of every
    call with the same estimator, options, problem and n_samples has one shape.
    """
    static = dict(static_options)

    @tf.function(reduce_retracing=True, jit_compile=True)
    def gradients(params, tensors, noise, dynamic):
        problem = join_tensors(structure, tensors)
        n_replicates = tf.shape(next(iter(noise.values())))[0]
        return _gradient_pass(estimator, problem, params, noise, n_replicates, static, dynamic)

    @tf.function(reduce_retracing=True)
    def per_replicate_gradients(params, tensors, seed, size, whole, n_samples, dynamic):
        problem = join_tensors(structure, tensors)
        options = {**static, **dynamic}
        noise = _noise(estimator, problem, params, seed, size, n_samples, options)
        rows = tf.range(whole) % size  # 0, ..., size - 1, then its rows again
        padded = {name: tf.gather(value, rows) for name, value in noise.items()}
        grads = gradients(params, tensors, padded, dynamic)
        return {name: value[:size] for name, value in grads.items()}

    return per_replicate_gradients


def split_options(options, dtype):
    """Flags and names fix the traced graph; numbers, and dicts of arrays (an estimator's
    state), become tensors (no retracing)."""
    static, dynamic = {}, {}
    for name, value in options.items():
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            dynamic[name] = tf.constant(value, dtype=dtype)
        elif isinstance(value, dict):
            dynamic[name] = {key: tf.constant(v, dtype=dtype) for key, v in value.items()}
        else:
            static[name] = value
    return tuple(sorted(static.items())), dynamic


# Replicates are processed in chunks of about CHUNK_ELEMENTS noise values, so the
# working set of one pass stays small (cache-friendly, bounded memory) and the time
# grows linearly in R. Chunk 0 uses the seed itself, chunk c > 0 the seed folded with c.
# One traced pass computes several whole chunks where an estimator's working set per
# replicate is smaller than its noise count says (`passes`): fewer calls, same numbers.
CHUNK_ELEMENTS = 2**18
# What one call may ask for, checked before anything is allocated. The output is
# filled chunk by chunk, so a call's memory is about its output plus one chunk; 1 GiB
# of output still fits beside TensorFlow (about 0.65 GiB) in a 2 GB Binder. One
# estimate's noise must fit in one pass: 2**24 values (128 MiB in float64), whose
# intermediate tensors take a few times that.
MAX_OUTPUT_BYTES = 2**30
MAX_VALUES_PER_REPLICATE = 2**24
# Opt-in: compile the gradient pass of every chunk of a call of at least one whole
# chunk with XLA (its partial chunk padded to a whole one; calls below one chunk stay
# as they are). Same noise, gradients equal to rounding, about half the time per
# replicate at R = 10^6; but XLA compiles once per chunk shape (0.3 to 1.5 s each) and
# its compiler adds 100-250 MiB to the process, so notebooks, which call with many
# shapes, run slower and larger: off by default.
XLA_WHOLE_CHUNKS = False


def check_size(n_arrays_values, per_replicate, dtype, what="gradient estimates"):
    """A ValueError when a call's output or one estimate's noise would not fit in memory."""
    size = n_arrays_values * dtype.size
    if size > MAX_OUTPUT_BYTES:
        raise ValueError(
            f"these {what} would take {size / 2**30:.3g} GiB ({dtype.name}); the limit is "
            f"{MAX_OUTPUT_BYTES / 2**30:g} GiB (helpers.sampling.MAX_OUTPUT_BYTES): ask for "
            "fewer replicates, or make several calls with different seeds"
        )
    if per_replicate > MAX_VALUES_PER_REPLICATE:
        raise ValueError(
            f"one estimate needs {per_replicate:,} noise values (n_samples times the draws per "
            f"sample); the limit is {MAX_VALUES_PER_REPLICATE:,} "
            "(helpers.sampling.MAX_VALUES_PER_REPLICATE): use fewer samples per estimate and "
            "average several estimates instead"
        )


def chunks(n_replicates, values_per_replicate, seed):
    """(replicates in the chunk, its seed) for each chunk, in order."""
    size = max(1, CHUNK_ELEMENTS // values_per_replicate)
    for index, start in enumerate(range(0, n_replicates, size)):
        chunk_seed = seed if index == 0 else tf.random.experimental.stateless_fold_in(seed, index)
        yield min(size, n_replicates - start), chunk_seed


def passes(n_replicates, values_per_replicate, working_per_replicate):
    """(first chunk, chunks, replicates per chunk) of each traced pass, in order.

    The noise chunks are those of `chunks`, so the numbers do not depend on how
    they are grouped; a pass takes as many whole chunks as keep its working set
    (working_per_replicate values for each replicate) near CHUNK_ELEMENTS. Where
    the two counts agree, as for most estimators, each pass is one chunk.
    """
    size = max(1, CHUNK_ELEMENTS // values_per_replicate)
    full, rest = divmod(n_replicates, size)
    group = max(1, CHUNK_ELEMENTS // (size * working_per_replicate))
    for first in range(0, full, group):
        yield first, min(group, full - first), size
    if rest:
        yield full, 1, rest


def _size(problem, params):
    """(n, K) of a problem at these parameters, as Python ints."""
    return problem.latents, int(problem.logits(params).shape[-1])


def _problem_noise(problem, params, estimator, n_replicates, n_samples, seed, options):
    latents, buckets = _size(problem, params)
    options = estimator.checked_options(options, n_samples, latents, buckets, problem.dtype)
    per_replicate, _ = estimator.sizes(problem, latents, buckets, n_samples, options)
    check_size(n_replicates * per_replicate, per_replicate, problem.dtype, "noise values")
    extra = {name: options[name] for name in estimator.noise_options}
    parts = [
        estimator.noise(problem, chunk_seed, size, n_samples, buckets, **extra)
        for size, chunk_seed in chunks(n_replicates, per_replicate, checks.seed(seed))
    ]
    return {name: np.concatenate([part[name].numpy() for part in parts]) for name in parts[0]}


def noise_for(model, estimator, n_replicates, n_samples=1, seed=0, **options):
    """The noise `gradient_samples` uses for these arguments: dict name -> np.ndarray.

    options: the estimator's options, where its noise depends on them (gumbel_rao's
    n_gumbel); the others are checked and otherwise ignored.

    Shapes as the estimator draws them, (R, N, ...); for a one-latent model the
    latent axis of size 1 is left out, so uniforms for Gumbel-max have shape
    (R, N, K) like the model's one-hots (for n latents, (R, N, n, K)).
    """
    model = as_model(model)
    estimator = resolve(estimator)
    n_replicates = checks.integer(n_replicates, "n_replicates", 1)
    n_samples = checks.integer(n_samples, "n_samples", 1)
    problem = model.problem()
    noise = _problem_noise(problem, model.params, estimator, n_replicates, n_samples, seed, options)
    if model.latents == 1:  # drop the latent axis of size 1 (the next-to-last axis)
        noise = {
            name: v[..., 0, :] if name in ("u", "v") or v.ndim == 4 else v
            for name, v in noise.items()
        }
    return noise


def problem_gradient_samples(
    problem, params, estimator, n_replicates, n_samples=1, seed=0, **options
):
    """gradient_samples for any problem (helpers.problem.Problem) at `params`.

    params: dict name -> tensor without a replicate axis. Returns dict name ->
    np.ndarray of shape (n_replicates, *param.shape), keys as params.
    """
    estimator = resolve(estimator)
    n_replicates = checks.integer(n_replicates, "n_replicates", 1)
    n_samples = checks.integer(n_samples, "n_samples", 1)
    latents, buckets = _size(problem, params)
    options = estimator.checked_options(options, n_samples, latents, buckets, problem.dtype)
    if estimator.prepare:
        options = estimator.prepare(problem, params, options)
    static, dynamic = split_options(options, problem.dtype)
    structure, tensors = split_tensors(problem)
    samples = tf.constant(n_samples)
    per_replicate, working = estimator.sizes(problem, latents, buckets, n_samples, options)
    coordinates = sum(int(np.prod(value.shape)) for value in params.values())
    check_size(n_replicates * coordinates, per_replicate, problem.dtype)
    seed = checks.seed(seed)
    out, start = {}, 0
    # Where the working set is smaller than the noise, passes group several chunks
    # (one trace for every pass of the call); otherwise each pass is one chunk, with
    # its own seed: the graph every other estimator has always had.
    grouped = working < per_replicate
    run = _traced(estimator, structure, static, grouped=grouped)
    whole = max(1, CHUNK_ELEMENTS // per_replicate)  # replicates in a whole chunk
    # Opt-in: each chunk padded to a whole one, so one XLA compilation serves them all.
    compiled = XLA_WHOLE_CHUNKS and not grouped and n_replicates >= whole
    traced = _compiled(estimator, structure, static) if compiled else run
    for first, count, size in passes(n_replicates, per_replicate, working):
        pass_seed = seed
        if not grouped and first > 0:
            pass_seed = tf.random.experimental.stateless_fold_in(seed, first)
        sizes = (size, whole) if compiled else (first, count, size)
        part = traced(params, tensors, pass_seed, *map(tf.constant, sizes), samples, dynamic)
        size = count * size
        if size == n_replicates:  # one pass: its arrays are the output
            return {name: part[name].numpy() for name in params}
        for name in params:  # fill the output in place: memory is the output plus a chunk
            if name not in out:
                shape = (n_replicates, *params[name].shape)
                out[name] = np.empty(shape, dtype=problem.dtype.as_numpy_dtype)
            out[name][start : start + size] = part[name].numpy()
        start += size
    return out


def gradient_samples(model, estimator, n_replicates, n_samples=1, seed=0, f=square, **options):
    """n_replicates independent gradient estimates, each averaging n_samples draws.

    Returns dict name -> np.ndarray of shape (n_replicates, *param.shape), keys
    as model.params. The same arguments give the same numbers every time.
    """
    model = as_model(model)
    resolve(estimator)  # an unknown estimator is reported before anything else
    n_replicates = checks.integer(n_replicates, "n_replicates", 1)
    n_samples = checks.integer(n_samples, "n_samples", 1)
    f = checks.objective(f, model.dtype)
    return problem_gradient_samples(
        model.problem(f), model.values(), estimator, n_replicates, n_samples, seed, **options
    )
