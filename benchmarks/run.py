"""The series' speed: estimator throughput and each notebook's time and memory.

    make bench            (or: python benchmarks/run.py)

1. For every estimator variant, the time per replicate of h.gradient_samples at
   R = 10^3 ... 10^6 replicates on the default model, next to one eager
   GradientTape per replicate (the original notebook's way) on a few hundred.
2. The same for the sampling estimators and IndeCateR on models with several latents.
3. The elementary estimator's cost as K**n grows (K = 4, n = 1 ... 6), with
   the exact gradient's time at the same sizes.
4. Training notebook 10's discrete VAE: steps per second for each estimator.
5. Side by side with a JAX peer (benchmarks/jax_peer.py): the same estimators
   written as jax.jit(jax.vmap(jax.grad(surrogate))), in the same process, and
   the helpers' noise floor (drawing the same call's noise alone).
6. Each notebook executed in a fresh kernel: wall time and the kernel's peak
   resident memory.
The tables go to benchmarks/results.md, and docs/performance.md's tables
are rewritten from that file. Not part of `make test`.
"""

import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import helpers as h
from helpers import vae

import jax_peer
import numpy as np
from replicates import median_seconds, one_tape_per_replicate

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.md"
REPLICATES = [10**3, 10**4, 10**5, 10**6]
LOOP_REPLICATES = 200
VARIANTS = {
    "elementary": ("elementary", {}),
    "Gumbel-softmax": ("gumbel_softmax", dict(tau=0.5)),
    "straight-through": ("gumbel_softmax", dict(tau=0.5, straight_through=True)),
    "score function, hybrid": ("score_function", {}),
    "hybrid + constant": ("score_function", dict(baseline="constant", value=0.2)),
    "hybrid + optimal": ("score_function", dict(baseline="optimal")),
    "hybrid + LOO (N=2)": ("score_function", dict(baseline="loo")),
    "score function, pure": ("score_function", dict(pathwise_z=False)),
    "pure + optimal": ("score_function", dict(pathwise_z=False, baseline="optimal")),
    "pure + LOO (N=2)": ("score_function", dict(pathwise_z=False, baseline="loo")),
    "sum-and-sample, top=1 + LOO (N=2)": ("sum_and_sample", dict(top=1, baseline="loo")),
    "unordered set (k=2)": ("unordered_set", {}),
    "REBAR": ("rebar", dict(tau=0.5, eta=1.0)),
    "RELAX (r of 8 units)": ("relax", dict(state=h.relax_state(5, tau=0.5, scale=1.0))),
    "Gumbel-Rao (J=10)": ("gumbel_rao", dict(tau=0.5, n_gumbel=10)),
}

LATENT_REPLICATES = [10**3, 10**4, 10**5]
LATENTS = [4, 16]
LATENT_VARIANTS = {
    "Gumbel-softmax": ("gumbel_softmax", dict(tau=0.5)),
    "score function, hybrid": ("score_function", {}),
    "hybrid + LOO (N=2)": ("score_function", dict(baseline="loo")),
    "IndeCateR (M=1)": ("indecater", {}),
    "REBAR": ("rebar", dict(tau=0.5, eta=1.0)),
    "Gumbel-Rao (J=10)": ("gumbel_rao", dict(tau=0.5, n_gumbel=10)),
}
ENUMERATION_BUCKETS, ENUMERATION_LATENTS = 4, range(1, 7)

# Notebook 10's setup; samples None means the budget n K (IndeCateR's cost for one draw).
VAE_ARCH, VAE_BATCH, VAE_STEPS = vae.Architecture(latents=8, buckets=4, hidden=32), 32, 200
VAE_VARIANTS = {
    "Gumbel-softmax (N = nK)": ("gumbel_softmax", None, {}),
    "straight-through (N = nK)": ("gumbel_softmax", None, {"straight_through": True}),
    "score function + LOO (N = nK)": ("score_function", None, {"baseline": "loo"}),
    "IndeCateR (M = 1)": ("indecater", 1, {}),
    "Gumbel-softmax (N = 1)": ("gumbel_softmax", 1, {}),
    "REBAR (N = nK / 3)": ("rebar", VAE_ARCH.latents * VAE_ARCH.buckets // 3, {}),
    "RELAX, psi learned (N = nK / 3)": ("relax", VAE_ARCH.latents * VAE_ARCH.buckets // 3, {}),
    "Gumbel-Rao (N = nK, J = 4)": ("gumbel_rao", None, {"n_gumbel": 4}),
    "VIMCO (k = nK)": ("vimco", None, {}),
}
ENUMERATION_EVALUATIONS = 2**22  # R = this / K**n replicates per timed call

# Runs in a fresh process: executes one notebook in a new kernel and samples the
# kernel's anonymous memory (RssAnon) meanwhile; peak RSS comes from rusage.
EXECUTE = """
import resource, sys, threading, time, nbformat, psutil
from nbclient import NotebookClient
peak_anon, done = [0], threading.Event()
def sample():
    # The kernel's pid is looked up until it exists, not on every sample: scanning every
    # process 50 times a second took a core's share from the kernel on a 2-core machine.
    kernels = []
    while not done.is_set():
        kernels = kernels or psutil.Process().children(recursive=True)
        for child in kernels:
            try:
                status = open(f"/proc/{child.pid}/status").read()
                kib = int(status.split("RssAnon:")[1].split()[0])
                peak_anon[0] = max(peak_anon[0], kib)
            except (OSError, IndexError):
                pass
        time.sleep(0.05)
threading.Thread(target=sample, daemon=True).start()
nb = nbformat.read(sys.argv[1], as_version=4)
start = time.perf_counter()
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
elapsed = time.perf_counter() - start
done.set()
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, peak_anon[0])
"""


def time_variant(model, estimator, options, n, replicates=REPLICATES):
    """Seconds per replicate at each R, and per replicate of the one-tape loop."""
    h.gradient_samples(model, estimator, 1_000, n, **options)  # trace once
    per_replicate = [
        median_seconds(lambda R=R: h.gradient_samples(model, estimator, R, n, seed=1, **options), 3)
        / R
        for R in replicates
    ]
    one_tape_per_replicate(model, estimator, options, n, 5)  # warm up eager kernels
    loop = median_seconds(
        lambda: one_tape_per_replicate(model, estimator, options, n, LOOP_REPLICATES), 1
    )
    return per_replicate, loop / LOOP_REPLICATES


def estimator_table():
    model = h.make_model()
    h.gradient_samples(model, "elementary", REPLICATES[-1])  # first touch of large buffers
    rows = []
    for label, (estimator, options) in VARIANTS.items():
        n = 2 if options.get("baseline") == "loo" or estimator == "unordered_set" else 1
        rows.append((label, *time_variant(model, estimator, options, n)))
        print(f"  {label}: done", flush=True)
    return rows


def latents_table():
    rows = []
    for latents in LATENTS:
        model = h.make_model(latents=latents)
        for label, (estimator, options) in LATENT_VARIANTS.items():
            n = 2 if options.get("baseline") == "loo" or estimator == "unordered_set" else 1
            rows.append(
                (
                    f"{label}, n = {latents}",
                    *time_variant(model, estimator, options, n, LATENT_REPLICATES),
                )
            )
            print(f"  {label}, n = {latents}: done", flush=True)
    return rows


def enumeration_table():
    """(n, K**n, R, seconds per replicate of elementary, seconds of the exact gradient)."""
    rows = []
    for latents in ENUMERATION_LATENTS:
        model = h.make_model(buckets=ENUMERATION_BUCKETS, latents=latents)
        count = ENUMERATION_BUCKETS**latents
        R = ENUMERATION_EVALUATIONS // count
        h.gradient_samples(model, "elementary", R)  # trace once
        h.exact_gradient(model)
        elementary = median_seconds(
            lambda m=model, R=R: h.gradient_samples(m, "elementary", R, seed=1), 3
        )
        exact = median_seconds(lambda m=model: h.exact_gradient(m), 3)
        rows.append((latents, count, R, elementary / R, exact))
        print(f"  elementary, n = {latents}: done", flush=True)
    return rows


def vae_table():
    """(label, decoder evaluations per image per step, training steps per second)."""
    train, test = vae.load_digits(seed=0)
    budget = VAE_ARCH.latents * VAE_ARCH.buckets
    rows = []
    for label, (estimator, samples, options) in VAE_VARIANTS.items():
        samples = samples or budget
        args = (estimator, train, test, VAE_ARCH, samples)
        vae.train(*args, 2, VAE_BATCH, **options)  # trace once
        runs = [
            vae.train(*args, VAE_STEPS, VAE_BATCH, seed=s, evaluate_every=VAE_STEPS, **options)
            for s in range(3)
        ]
        seconds = float(np.median([run.seconds[-1] for run in runs]))
        rows.append((label, runs[0].decoder_evaluations, VAE_STEPS / seconds))
        print(f"  VAE, {label}: done", flush=True)
    return rows


def execute(path, cwd):
    """(seconds, peak RSS MiB, peak anonymous MiB) of notebook `path` run in a fresh kernel."""
    out = subprocess.run(
        [sys.executable, "-c", EXECUTE, str(path), str(cwd)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[1]) / 1024, int(out[2]) / 1024


def notebook_table():
    rows = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        rows.append((path.name, *execute(path, path.parent)))
        print(f"  {path.name}: done", flush=True)
    return rows


def machine():
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found.group(1).strip() if found else model
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"TensorFlow {h.tf.__version__}"
    )


def speed_rows(rows, replicates):
    """Table rows: label, microseconds per replicate at each R, the loop, the speed-up."""
    lines = []
    at = replicates.index(10**5)
    for label, per_replicate, loop in rows:
        cells = " | ".join(f"{s * 1e6:.3g}" for s in per_replicate)
        speedup = f"{loop / per_replicate[at]:,.0f}x"
        lines.append(f"| {label} | {cells} | {loop * 1e6:.0f} | {speedup} |")
    return lines


def speed_header(replicates):
    return [
        "| estimator | "
        + " | ".join(f"R = 10^{int(np.log10(R))}" for R in replicates)
        + " | one tape per replicate | speed-up at 10^5 |",
        "|---|" + "---:|" * (len(replicates) + 2),
    ]


def render(estimators, latents, enumeration, vae_rows, peer, notebooks, seconds):
    lines = [
        f"Measured by `make bench` on: {machine()}. Whole benchmark: {seconds:.0f} s.",
        "",
        "**Per-replicate gradients** on the default model (`dim=10, buckets=5`, float64, one",
        "sample per estimate, two for LOO): microseconds per replicate of `h.gradient_samples`",
        "at R replicates (median of 3 runs), and the speed-up at R = 10^5 over one eager",
        f"`GradientTape` per replicate (timed on {LOOP_REPLICATES} replicates).",
        "",
        *speed_header(REPLICATES),
        *speed_rows(estimators, REPLICATES),
        "",
        "**Several latents**: the same on `make_model(latents=n)` (`dim=10, buckets=5`,",
        "one-hot part of x_s of length n K). The batched work per replicate grows with n K",
        "(noise, relaxed or sampled one-hots), while one eager tape per replicate costs",
        "mostly fixed overhead, so the speed-up falls as n K grows.",
        "",
        *speed_header(LATENT_REPLICATES),
        *speed_rows(latents, LATENT_REPLICATES),
        "",
        "**Enumeration cost**: the elementary estimator sums over all K^n joint",
        f"configurations (K = {ENUMERATION_BUCKETS}, `dim=10`, one sample per estimate, R =",
        "2^22 / K^n replicates per call, median of 3), and the exact gradient by chunked",
        "enumeration at the same size.",
        "",
        "| n | K^n | R | µs per replicate | ns per evaluation | exact gradient (ms) |",
        "|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {n} | {count:,} | {R:,} | {s * 1e6:.3g} | {s / count * 1e9:.3g} | {e * 1e3:.3g} |"
            for n, count, R, s, e in enumeration
        ],
    ]
    lines += [
        "",
        f"**Training the discrete VAE** of notebook 10 (n = {VAE_ARCH.latents} latents of",
        f"K = {VAE_ARCH.buckets}, {VAE_ARCH.hidden} hidden units, {VAE_BATCH} images per step,",
        f"float32): training steps per second over {VAE_STEPS} steps after a traced warm-up,",
        "median of 3 seeds; evaluation left out.",
        "",
        "| estimator | decoder evaluations per image and step | steps per second |",
        "|---|---:|---:|",
        *[f"| {label} | {evals} | {rate:.3g} |" for label, evals, rate in vae_rows],
    ]
    lines += [
        "",
        "**Side by side with JAX**: the estimators a JAX user would write in a few lines,",
        "as `jax.jit(jax.vmap(jax.grad(surrogate)))` over one PRNG key per replicate, in",
        "float64, on the same model and f (`benchmarks/jax_peer.py`), against",
        "`h.gradient_samples` in the same process; microseconds per replicate, best of 5,",
        "one sample per estimate (two for LOO). Second, the helpers with their gradient pass",
        "compiled by XLA on whole chunks (`benchmarks/xla_chunks.py`, an opt-in the helpers",
        "leave out), after a first call compiled them. The noise column is the helpers'",
        "floor: drawing, alone, the noise `h.gradient_samples` draws for the same call (the",
        "same chunks and seeds), which a seed promises whatever computes the gradients. The",
        "ratios are the peer's time over the helpers': above 1, the helpers are faster.",
        "",
        jax_peer.render(peer).rstrip("\n"),
    ]
    lines += [
        "",
        "**Notebooks**, each executed top to bottom in a fresh kernel (kernel start and",
        "TensorFlow's import included). Peak RSS is the kernel's maximum resident set; about",
        "380 to 520 MiB of it are TensorFlow's libraries mapped from disk (clean, shareable",
        "pages, as many as the page cache maps). Peak anonymous is the kernel's own allocated",
        "memory (sampled every 50 ms).",
        "",
        "| notebook | seconds | peak RSS (MiB) | peak anonymous (MiB) |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {name} | {sec:.1f} | {rss:.0f} | {anon:.0f} |" for name, sec, rss, anon in notebooks
    ]
    total = sum(row[1] for row in notebooks)
    lines.append(f"| all {len(notebooks)} | {total:.1f} | | |")
    return "\n".join(lines) + "\n"


def update_performance_page(table):
    page = ROOT / "docs" / "performance.md"
    start, end = "<!-- performance:start -->", "<!-- performance:end -->"
    text = page.read_text()
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    page.write_text(pattern.sub(lambda _: f"{start}\n{table}{end}", text))


def main():
    start = time.perf_counter()
    print("estimators ...", flush=True)
    estimators = estimator_table()
    print("several latents ...", flush=True)
    latents = latents_table()
    print("enumeration ...", flush=True)
    enumeration = enumeration_table()
    print("discrete VAE ...", flush=True)
    vae_rows = vae_table()
    print("JAX peer ...", flush=True)
    peer = jax_peer.side_by_side()
    print("notebooks ...", flush=True)
    notebooks = notebook_table()
    seconds = time.perf_counter() - start
    table = render(estimators, latents, enumeration, vae_rows, peer, notebooks, seconds)
    RESULTS.write_text(table)
    update_performance_page(table)
    print(table)


if __name__ == "__main__":
    main()
