"""Would XLA close the gap to the JAX peer? A probe, not part of the helpers.

    python benchmarks/xla_probe.py

h.gradient_samples as it is, against the same call with its gradient pass
compiled by XLA (tf.function(jit_compile=True)). The noise is still drawn by
TensorFlow's usual kernels, outside XLA, so a seed gives the same draws (XLA's
own random-number kernels give different ones); the gradients then agree to
rounding. Prints, per estimator: the largest difference from the helpers'
gradients, microseconds per replicate (best of 5) at R = 10^5 and 10^6, and the
first call's time at each new R, which includes XLA's compilation for that shape.
"""

import functools
import time

import helpers as h
from helpers import sampling
from helpers.problem import join_tensors

import numpy as np
import tensorflow as tf

CASES = [  # (estimator, options, samples per estimate)
    ("elementary", {}, 1),
    ("gumbel_softmax", dict(tau=0.5), 1),
    ("score_function", {}, 1),
    ("score_function", dict(baseline="loo"), 2),
]


def compiled(estimator, structure, static_options, grouped=False):
    """sampling._traced's contract, with noise drawn apart and the gradient pass XLA-compiled."""
    if grouped:
        raise ValueError("the probe covers one noise chunk per pass only")
    static = dict(static_options)

    @tf.function(reduce_retracing=True)
    def draw(params, tensors, seed, size, n_samples, dynamic):
        problem = join_tensors(structure, tensors)
        buckets = tf.shape(problem.logits(params))[-1]
        extra = {name: {**static, **dynamic}[name] for name in estimator.noise_options}
        return estimator.noise(problem, seed, size, n_samples, buckets, **extra)

    @tf.function(reduce_retracing=True, jit_compile=True)
    def gradients(params, tensors, noise, dynamic):
        problem = join_tensors(structure, tensors)
        R = tf.shape(next(iter(noise.values())))[0]
        shape = lambda v: tf.concat([[R], tf.shape(v)], 0)  # noqa: E731
        copies = {k: tf.broadcast_to(v, shape(v)) for k, v in params.items()}
        with tf.GradientTape() as tape:
            tape.watch(copies)
            total = tf.reduce_sum(estimator.surrogate(problem, copies, noise, **static, **dynamic))
        return tape.gradient(total, copies, unconnected_gradients=tf.UnconnectedGradients.ZERO)

    def run(params, tensors, seed, first, count, size, n_samples, dynamic):
        noise = draw(params, tensors, seed, size, n_samples, dynamic)
        return gradients(params, tensors, noise, dynamic)

    return run


def seconds(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main():
    model = h.make_model()
    as_is = sampling._traced
    for estimator, options, n in CASES:
        reference = h.gradient_samples(model, estimator, 1000, n, **options)
        for name, traced in (("as is", as_is), ("XLA", functools.lru_cache(32)(compiled))):
            sampling._traced = traced
            got = h.gradient_samples(model, estimator, 1000, n, **options)
            difference = max(float(np.abs(got[k] - reference[k]).max()) for k in got)
            cells = []
            for R in (10**5, 10**6):
                call = functools.partial(h.gradient_samples, model, estimator, R, n, 1, **options)
                first = seconds(call)
                best = min(seconds(call) for _ in range(5))
                cells.append(f"R = {R:.0e}: {best / R * 1e6:.3f} µs, first call {first:.2f} s")
            label = f"{estimator} {options.get('baseline', '')}".strip()
            print(f"{label:<20} {name:<6} max |diff| {difference:.1e}; " + "; ".join(cells))
        sampling._traced = as_is


if __name__ == "__main__":
    main()
