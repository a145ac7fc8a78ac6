"""What the opt-in XLA compilation of whole chunks changes, and why it is off by default.

    python benchmarks/xla_probe.py [notebook ...]     (default: 02 and 04)

xla_chunks.switch_on() makes h.gradient_samples compile the gradient pass of every
whole chunk with XLA (tf.function(jit_compile=True)); the noise is still drawn
by TensorFlow's usual kernels, outside XLA, so a seed gives the same draws
(XLA's own random-number kernels give different ones). Prints:
1. for every estimator variant of `make bench`, at R = two whole chunks and a
   partial one: the largest difference from the default path's gradients, and
   the first call's time with XLA (its compilation included) next to the default's;
2. what the default path materialises: per replicate, the bytes of every tensor
   with a replicate axis that its gradient pass writes (views such as reshapes
   left out), next to the noise and the gradient it must write at least, and the
   machine's copy bandwidth (NumPy, one core): the memory traffic XLA's fusion saves;
3. the named notebooks executed in a fresh kernel with the switch off and on,
   back to back, twice: seconds and peak resident memory. The switch is set by
   a first cell added to the kernel's copy of the notebook.
"""

import sys
import time

import helpers as h
from helpers import sampling

import jax_peer
import nbformat
import numpy as np
import tensorflow as tf
import xla_chunks
from run import ROOT, VARIANTS, execute

SWITCH_ON = (
    f"import sys\nsys.path.insert(0, {str(ROOT / 'benchmarks')!r})\n"
    "import xla_chunks\nxla_chunks.switch_on()"
)
NOTEBOOKS = ["02_exact_gradient.ipynb", "04_log_trick.ipynb"]
VIEWS = {"Identity", "Reshape", "ExpandDims", "Squeeze", "StopGradient", "Snapshot"}


def seconds(call):
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def gradients_table():
    model = h.make_model()
    for label, (estimator, options) in VARIANTS.items():
        n = 2 if options.get("baseline") == "loo" or estimator == "unordered_set" else 1
        spec = h.estimators.resolve(estimator)
        checked = spec.checked_options(options, n, 1, model.buckets)
        per_replicate, _ = spec.sizes(model.problem(), 1, 5, n, checked)
        whole = max(1, sampling.CHUNK_ELEMENTS // per_replicate)
        R = 2 * whole + whole // 3

        def call(R=R, estimator=estimator, n=n, options=options):
            return h.gradient_samples(model, estimator, R, n, seed=1, **options)

        default_s, default = seconds(call)
        xla_chunks.switch_on()
        try:
            compiled_s, compiled = seconds(call)
        finally:
            xla_chunks.switch_on(False)
        difference = max(float(np.abs(compiled[k] - default[k]).max()) for k in default)
        print(
            f"{label:<36} R = {R:>7,}: max |diff| {difference:.1e}; first call "
            f"{default_s:.2f} s as is, {compiled_s:.2f} s with XLA",
            flush=True,
        )


def bytes_written(model, estimator, options, n, R=1000):
    """(bytes per replicate the traced gradient pass writes, bytes of its noise)."""
    spec = h.estimators.resolve(estimator)
    problem = model.problem()
    options = spec.checked_options(options, n, 1, model.buckets, problem.dtype)
    if spec.prepare:
        options = spec.prepare(problem, model.values(), options)
    static, dynamic = sampling.split_options(options, problem.dtype)
    noise = spec.noise(problem, h.checks.seed(0), R, n, model.buckets)

    def surrogates(copies, noise):
        return spec.surrogate(problem, copies, noise, **dict(static), **dynamic)

    run = tf.function(
        lambda p, e: sampling.per_replicate_gradients(lambda c: surrogates(c, e), p, R)
    )
    graph = run.get_concrete_function(model.values(), noise).graph
    written = sum(
        int(np.prod(t.shape)) * t.dtype.size
        for op in graph.get_operations()
        if op.type not in VIEWS
        for t in op.outputs
        if t.shape.rank and t.shape.is_fully_defined() and t.shape[0] == R
    )
    return written / R, sum(v.numpy().nbytes for v in noise.values()) / R


def traffic_table():
    model = h.make_model()
    gradient = sum(v.numpy().nbytes for v in model.params.values())
    for label, (estimator, options, n) in jax_peer.PEERS.items():
        written, noise = bytes_written(model, estimator, options, n)
        print(
            f"{label:<24} writes {written:,.0f} B per replicate "
            f"(noise {noise:.0f} B, gradient {gradient} B)"
        )
    a = np.ones(2**25)
    b = np.empty_like(a)
    best = min(seconds(lambda: np.copyto(b, a))[0] for _ in range(5))
    print(
        f"NumPy copy of 256 MiB: {2 * a.nbytes / best / 1e9:.1f} GB/s (read and write)", flush=True
    )


def notebook_run(path, switch_on):
    """(seconds, peak RSS MiB) of one notebook in a fresh kernel, the switch off or on."""
    nb = nbformat.read(path, as_version=4)
    if switch_on:
        nb.cells.insert(0, nbformat.v4.new_code_cell(SWITCH_ON))
    copy = path.parent / f".xla_probe_{path.name}"  # beside it: the same working directory
    nbformat.write(nb, copy)
    try:
        seconds, peak_rss, _ = execute(copy, path.parent)
    finally:
        copy.unlink()
    return seconds, peak_rss


def notebooks_table(names):
    for repeat in range(2):
        for name in names:
            for switch_on in (False, True):
                sec, rss = notebook_run(ROOT / "notebooks" / name, switch_on)
                label = "XLA on whole chunks" if switch_on else "as is"
                print(f"{name} ({label}, run {repeat + 1}): {sec:.1f} s, peak RSS {rss:.0f} MiB")


def main():
    gradients_table()
    traffic_table()
    notebooks_table(sys.argv[1:] or NOTEBOOKS)


if __name__ == "__main__":
    main()
