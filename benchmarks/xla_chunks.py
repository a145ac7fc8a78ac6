"""An opt-in for benchmarks: each whole chunk's gradient pass compiled by XLA.

`problem_gradient_samples` takes helpers.sampling's arguments and draws the same
noise, by TensorFlow's usual kernels outside XLA (XLA's random kernels give other
numbers for the same seed), so its gradients equal the helpers' to rounding, not
bit for bit. XLA compiles once per shape, so a call's partial chunk is padded to
a whole one with copies of its own rows, whose gradients are dropped: every chunk
of every call with the same estimator, options, problem and n_samples has one
shape. Calls below one whole chunk, and estimators whose passes group chunks,
take the helpers' own path. About half the time per replicate at R = 10^6; but
each compilation takes 0.3 to 1.5 s and the compiler adds 100-250 MiB to the
process, so notebooks, which call with many shapes, run slower and larger: the
helpers leave it out (README, "XLA, an opt-in"). `switch_on()` makes
h.gradient_samples use it in this process (benchmarks/xla_probe.py does, in a
notebook's first cell).
"""

from helpers import checks, sampling
from helpers._tf import tf
from helpers.estimators import resolve
from helpers.problem import join_tensors, split_tensors
from helpers.tracing import trace_cache

import numpy as np

HELPERS_PATH = sampling.problem_gradient_samples  # the helpers' own, uncompiled


@trace_cache
def jit_gradients(estimator, structure, static_options):
    """The gradient pass of one chunk, compiled by XLA: (params, tensors, noise, dynamic)."""
    static = dict(static_options)

    @tf.function(reduce_retracing=True, jit_compile=True)
    def gradients(params, tensors, noise, dynamic):
        problem = join_tensors(structure, tensors)
        options = {**static, **dynamic}

        def surrogates(copies):
            return estimator.surrogate(problem, copies, noise, **options)

        n_replicates = tf.shape(next(iter(noise.values())))[0]
        return sampling.per_replicate_gradients(surrogates, params, n_replicates)

    return gradients


@trace_cache
def compiled(estimator, structure, static_options):
    """One chunk's gradients: its noise drawn as the helpers draw it, padded to `whole`
    replicates, the compiled pass, and the padding's rows dropped."""
    static = dict(static_options)
    gradients = jit_gradients(estimator, structure, static_options)

    @tf.function(reduce_retracing=True)
    def per_replicate_gradients(params, tensors, seed, size, whole, n_samples, dynamic):
        problem = join_tensors(structure, tensors)
        options = {**static, **dynamic}
        buckets = tf.shape(problem.logits(params))[-1]
        noise = sampling.chunk_noise(estimator, problem, seed, size, n_samples, buckets, options)
        rows = tf.range(whole) % size  # 0, ..., size - 1, then its rows again
        padded = {name: tf.gather(value, rows) for name, value in noise.items()}
        grads = gradients(params, tensors, padded, dynamic)
        return {name: value[:size] for name, value in grads.items()}

    return per_replicate_gradients


def checked_call(problem, params, estimator, n_replicates, n_samples, options):
    """What every chunk's pass takes, after the checks helpers.sampling makes: (the checked
    problem, the problem without its tensors, its tensors, the static and the dynamic
    options, values per replicate)."""
    checked = sampling.checked_sizes(estimator, problem, params, n_samples, options, prepare=True)
    checked, options, _, per_replicate, needed = checked
    static, dynamic = sampling.split_options(options, checked.dtype)
    coordinates = sum(int(np.prod(value.shape)) for value in checked.params.values())
    sampling.check_size(n_replicates * coordinates, needed, checked.dtype)
    return checked, *split_tensors(problem), static, dynamic, per_replicate


def problem_gradient_samples(
    problem, params, estimator, n_replicates, n_samples=1, seed=0, **options
):
    """helpers.sampling.problem_gradient_samples, each whole chunk compiled by XLA."""
    estimator = resolve(estimator)
    n_replicates = checks.integer(n_replicates, "n_replicates", 1)
    n_samples = checks.integer(n_samples, "n_samples", 1)
    call = checked_call(problem, params, estimator, n_replicates, n_samples, options)
    checked, structure, tensors, static, dynamic, per_replicate = call
    whole = max(1, sampling.CHUNK_ELEMENTS // per_replicate)  # replicates in a whole chunk
    if n_replicates < whole:
        args = problem, params, estimator, n_replicates, n_samples, seed
        return HELPERS_PATH(*args, **options)
    run, params = compiled(estimator, structure, static), checked.params
    sizes = tf.constant(whole), tf.constant(n_samples)
    parts = (
        run(params, tensors, chunk_seed, tf.constant(size), *sizes, dynamic)
        for size, chunk_seed in sampling.chunks(n_replicates, per_replicate, checks.seed(seed))
    )
    return sampling.filled(parts, params, n_replicates, checked.dtype)


def switch_on(on=True):
    """Make h.gradient_samples compile whole chunks (on=True) or not (False), in this process."""
    sampling.problem_gradient_samples = problem_gradient_samples if on else HELPERS_PATH
