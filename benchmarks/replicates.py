"""Per-replicate gradients: one batched pass against one eager tape per replicate.

    python benchmarks/replicates.py

The loop is how the original notebook computed gradients: a fresh
tf.GradientTape per estimate, in eager mode. The batched pass is
h.gradient_samples. Both compute elementary-estimator gradients of the
default model with one sample each; times are medians of repeated runs.
"""

import time

import helpers as h

import numpy as np
import tensorflow as tf


def one_tape_per_replicate(model, estimator, options, n_samples, n_replicates):
    """The original notebook's way: a fresh eager GradientTape for every estimate."""
    spec = h.estimators.resolve(estimator)
    options = spec.checked_options(options, n_samples, model.latents, model.buckets)
    problem = model.problem(h.square)
    seed = tf.constant([0, 0], dtype=tf.int64)
    extra = {name: options[name] for name in spec.noise_options}
    noise = spec.noise(problem, seed, n_replicates, n_samples, model.buckets, **extra)
    for r in range(n_replicates):
        with tf.GradientTape() as tape:
            params = {name: value[None] for name, value in model.params.items()}
            own = {name: value[r : r + 1] for name, value in noise.items()}
            surrogate = spec.surrogate(problem, params, own, **options)
        tape.gradient(surrogate, model.params)


def median_seconds(run, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def per_replicate_seconds(
    model, loop_replicates=200, batched_replicates=100_000, estimator="elementary", options=None
):
    options = options or {}
    one_tape_per_replicate(model, estimator, options, 1, 5)  # warm up eager kernels
    h.gradient_samples(model, estimator, batched_replicates, **options)  # trace once
    loop = median_seconds(
        lambda: one_tape_per_replicate(model, estimator, options, 1, loop_replicates), 3
    )
    batched = median_seconds(
        lambda: h.gradient_samples(model, estimator, batched_replicates, seed=1, **options), 5
    )
    return loop / loop_replicates, batched / batched_replicates


def main():
    loop, batched = per_replicate_seconds(h.make_model())
    print(f"one eager tape per replicate : {loop * 1e6:10.1f} microseconds per replicate")
    print(f"batched, R = 100,000         : {batched * 1e6:10.3f} microseconds per replicate")
    print(f"speed-up                     : {loop / batched:10.0f}x")


if __name__ == "__main__":
    main()
