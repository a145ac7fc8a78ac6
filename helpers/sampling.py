"""Independent per-replicate gradient estimates in one batched pass.

Each parameter is broadcast to a leading replicate axis, tf.broadcast_to(v, [R, *v.shape]), and
those copies are watched. All R surrogates are computed in one traced pass and one tape.gradient of
their sum is taken with respect to the copies: surrogate r depends only on copy r, so row r of the
result is replicate r's gradient. Time and memory are O(R). (tape.jacobian over shared variables
would cost O(R^2) memory; tf.vectorized_map is ~100x slower.) `per_replicate_gradients` is that
idea; the VAE (helpers.vae) uses it too, with its decoder's weights shared instead of copied. The
rest of this module runs it chunk by chunk, so memory stays bounded and time grows linearly in R.
"""

import numbers

import numpy as np

from . import checks
from ._tf import tf
from .estimators import resolve
from .model import as_model, square
from .problem import Checked, join_tensors, shape_errors, split_tensors
from .tracing import stable, trace_cache

# Replicates run in chunks of about CHUNK_ELEMENTS noise values, one traced pass each (its own
# seed: `chunks`), so a pass's working set stays small and time grows linearly in R.
CHUNK_ELEMENTS = 2**18
# What one call may ask for, checked before anything is allocated. The output is filled
# chunk by chunk, so memory is about the output plus one chunk: 1 GiB of output fits beside
# TensorFlow (about 0.65 GiB) in a 2 GB Binder. One estimate's noise must fit in one pass:
# 2**24 values (128 MiB in float64), whose intermediate tensors take a few times that.
MAX_OUTPUT_BYTES = 2**30
MAX_VALUES_PER_REPLICATE = 2**24


def replicate(params, n_replicates):
    """Each tensor broadcast to a leading replicate axis, (R, *shape): one copy per replicate."""
    return {
        name: tf.broadcast_to(value, tf.concat([[n_replicates], tf.shape(value)], 0))
        for name, value in params.items()
    }


def per_replicate_gradients(surrogates, params, n_replicates, copied=None):
    """Each replicate's gradient, in one tape: row r of each result is replicate r's.
    surrogates(params) -> (R,), surrogate r depending only on copy r of the parameters named in
    `copied` (default: all). The others are shared by every replicate and left out of the
    result: a network's weights, whose R copies would not fit in memory."""
    names = params if copied is None else copied
    copies = replicate({name: params[name] for name in names}, n_replicates)
    with tf.GradientTape() as tape:
        tape.watch(copies)
        total = tf.reduce_sum(surrogates({**params, **copies}))
    return tape.gradient(total, copies, unconnected_gradients=tf.UnconnectedGradients.ZERO)


def chunk_noise(estimator, problem, seed, size, n_samples, buckets, options):
    """One chunk's noise, drawn from its own seed by TensorFlow's usual kernels."""
    extra = {name: options[name] for name in estimator.noise_options}
    return estimator.noise(problem, seed, size, n_samples, buckets, **extra)


def chunks(n_replicates, values_per_replicate, seed):
    """(replicates in the chunk, its seed) for each chunk, in order: the call's seed (int64) for
    chunk 0, folded with the chunk's index after (int32: stateless_split draws by dtype)."""
    size = max(1, CHUNK_ELEMENTS // values_per_replicate)
    for index, start in enumerate(range(0, n_replicates, size)):
        folded = seed if index == 0 else tf.random.experimental.stateless_fold_in(seed, index)
        yield min(size, n_replicates - start), folded


def needs_autograph(problem, *code):
    """Whether a trace must convert Python control flow on tensors (AutoGraph, most of a trace's
    time): only for a problem class or `code` not the helpers' own (a registered estimator, a
    problem of yours). The helpers' code needs none, nor does f (checks.objective)."""
    return not all(stable(part) for part in (type(problem), *code))


@trace_cache
def _traced(estimator, structure, static_options):
    """One traced pass per (estimator, kind of problem, static options), reused across calls:
    one noise chunk of `size` replicates, from chunk `index`'s seed as `chunks` folds the call's
    `seed` (both seed dtypes in this one trace, each its own branch: no second trace)."""
    static = dict(static_options)
    autograph = needs_autograph(structure, estimator.surrogate, estimator.noise)

    @tf.function(reduce_retracing=True, autograph=autograph)
    def gradients(params, tensors, seed, index, size, n_samples, dynamic):
        problem = Checked(join_tensors(structure, tensors), params)
        options = {**static, **dynamic}
        logits = problem.logits(params)
        buckets = logits.shape[-1] or tf.shape(logits)[-1]  # static if known: tf.cond keeps it
        fold_in = tf.random.experimental.stateless_fold_in

        def draw(own_seed):
            return chunk_noise(estimator, problem, own_seed, size, n_samples, buckets, options)

        noise = tf.cond(index == 0, lambda: draw(seed), lambda: draw(fold_in(seed, index)))

        def surrogates(copies):
            return estimator.surrogate(problem, copies, noise, **options)

        return per_replicate_gradients(surrogates, params, size)

    return gradients


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
            f"one estimate needs {per_replicate:,} noise values and one-hots (its samples' "
            "draws, and any codes it enumerates); the limit is "
            f"{MAX_VALUES_PER_REPLICATE:,} (helpers.sampling.MAX_VALUES_PER_REPLICATE): use "
            "fewer samples per estimate, or a smaller top or n_gumbel where the estimator has "
            "one, and average several estimates instead"
        )


def checked_sizes(estimator, problem, params, n_samples, options, prepare=False):
    """(the problem, checked; the options, checked and, if asked, prepared; K; values per
    replicate; values one estimate needs): the one place the estimator's sizes are read."""
    checked = Checked(problem, params)
    params = checked.params
    latents, buckets = checked.latents, int(checked.logits(params).shape[-1])
    options = estimator.checked_options(options, n_samples, latents, buckets, checked.dtype)
    if prepare and estimator.prepare:  # eager, once per call: the problem as given
        options = estimator.prepare(problem, params, options)
    per_replicate, needed = estimator.sizes(checked, latents, buckets, n_samples, options)
    return checked, options, buckets, per_replicate, needed


def filled(parts, params, n_replicates, dtype):
    """The output, name -> (R, *shape) array, filled in place from each chunk's gradients
    as they come: memory is the output plus one chunk."""
    out, start = {}, 0
    for part in parts:
        size = int(part[next(iter(params))].shape[0])
        if size == n_replicates:  # one chunk: its arrays are the output
            return {name: part[name].numpy() for name in params}
        for name in params:
            if name not in out:
                shape = (n_replicates, *params[name].shape)
                out[name] = np.empty(shape, dtype=dtype.as_numpy_dtype)
            out[name][start : start + size] = part[name].numpy()
        start += size
    return out


@shape_errors()
def problem_gradient_samples(
    problem, params, estimator, n_replicates, n_samples=1, seed=0, **options
):
    """gradient_samples for any problem (helpers.problem.Problem) at `params`, dict name ->
    tensor (or numpy array) without a replicate axis: name -> array (n_replicates, *shape). The
    problem, the options and the output's size are checked first; then the replicates run chunk
    by chunk, each chunk one traced pass of per_replicate_gradients."""
    estimator = resolve(estimator)
    n_replicates = checks.integer(n_replicates, "n_replicates", 1)
    n_samples = checks.integer(n_samples, "n_samples", 1)
    checked = checked_sizes(estimator, problem, params, n_samples, options, prepare=True)
    checked, options, _, per_replicate, needed = checked
    static, dynamic = split_options(options, checked.dtype)
    params = checked.params
    coordinates = sum(int(np.prod(value.shape)) for value in params.values())
    check_size(n_replicates * coordinates, needed, checked.dtype)
    structure, tensors = split_tensors(problem)
    traced, samples = _traced(estimator, structure, static), tf.constant(n_samples)
    seed = checks.seed(seed)
    parts = (
        traced(params, tensors, seed, tf.constant(index), tf.constant(size), samples, dynamic)
        for index, (size, _) in enumerate(chunks(n_replicates, per_replicate, seed))
    )
    return filled(parts, params, n_replicates, checked.dtype)


def gradient_samples(model, estimator, n_replicates, n_samples=1, seed=0, f=square, **options):
    """n_replicates independent gradient estimates, each averaging n_samples draws: dict name
    -> np.ndarray (n_replicates, *param.shape), keys as model.params. The same arguments give
    the same numbers every time."""
    model = as_model(model)
    resolve(estimator)  # an unknown estimator is reported before anything else
    n_replicates = checks.integer(n_replicates, "n_replicates", 1)
    n_samples = checks.integer(n_samples, "n_samples", 1)
    f = checks.objective(f, model.dtype)
    return problem_gradient_samples(
        model.problem(f), model.values(), estimator, n_replicates, n_samples, seed, **options
    )


def noise_for(model, estimator, n_replicates, n_samples=1, seed=0, **options):
    """The noise `gradient_samples` uses for these arguments: dict name -> np.ndarray.
    options: those the noise depends on (gumbel_rao's n_gumbel); the others are checked and
    otherwise ignored. Shapes as drawn, (R, N, ...), but a one-latent model's latent axis of
    size 1 is left out: Gumbel-max's uniforms are (R, N, K) like its one-hots."""
    model = as_model(model)
    estimator = resolve(estimator)
    n_replicates = checks.integer(n_replicates, "n_replicates", 1)
    n_samples = checks.integer(n_samples, "n_samples", 1)
    problem = model.problem()
    checked = checked_sizes(estimator, problem, model.params, n_samples, options)
    problem, options, buckets, per_replicate, needed = checked
    check_size(n_replicates * per_replicate, needed, problem.dtype, "noise values")
    parts = [
        chunk_noise(estimator, problem, seed, size, n_samples, buckets, options)
        for size, seed in chunks(n_replicates, per_replicate, checks.seed(seed))
    ]
    noise = {name: np.concatenate([part[name].numpy() for part in parts]) for name in parts[0]}
    if model.latents == 1:  # drop the latent axis of size 1 (the next-to-last axis)
        noise = {
            name: v[..., 0, :] if name in ("u", "v") or v.ndim == 4 else v
            for name, v in noise.items()
        }
    return noise
