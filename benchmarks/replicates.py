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


def one_tape_per_replicate(model, n_replicates, seed=0):
    noise = h.noise_for(model, "elementary", n_replicates, seed=seed)["eps"]
    grads = []
    for r in range(n_replicates):
        with tf.GradientTape() as tape:
            params = {name: value[None] for name, value in model.params.items()}
            surrogate = h.elementary(params, model.x, h.square, {"eps": noise[r : r + 1]})
        grads.append(tape.gradient(surrogate, model.params))
    return grads


def median_seconds(run, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def per_replicate_seconds(model, loop_replicates=200, batched_replicates=100_000):
    one_tape_per_replicate(model, 5)  # warm up eager kernels
    h.gradient_samples(model, "elementary", batched_replicates)  # trace once
    loop = median_seconds(lambda: one_tape_per_replicate(model, loop_replicates), 3)
    batched = median_seconds(
        lambda: h.gradient_samples(model, "elementary", batched_replicates, seed=1), 5
    )
    return loop / loop_replicates, batched / batched_replicates


def main():
    loop, batched = per_replicate_seconds(h.make_model())
    print(f"one eager tape per replicate : {loop * 1e6:10.1f} microseconds per replicate")
    print(f"batched, R = 100,000         : {batched * 1e6:10.3f} microseconds per replicate")
    print(f"speed-up                     : {loop / batched:10.0f}x")


if __name__ == "__main__":
    main()
