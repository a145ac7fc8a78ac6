"""Notebook 10's learning rates, each contestant's chosen on a validation split.

    make vae-rates        (or: python benchmarks/vae_rates.py [label ...])

Each contestant of notebook 10 is trained from seeds 0, 1, 2 at every rate of RATES
(one train_copies call: 9 copies) on 1,250 of the 1,500 training images, for as many
steps as the notebook trains. Its rate is the one with the lowest median over the seeds
of the exact mean score on the 250 images held back (vae.validation_split): the -ELBO,
or for VIMCO, which maximises the importance-weighted bound instead, -log p(x), the
quantity both objectives bound. The held-out test images are not touched. The table goes
to docs/vae_rates.md (labels given: only their rows are rerun). A few minutes on two
CPU cores; not part of `make test`, which checks that notebook 10 uses the rates the page
chose.
"""

import re
import sys
import time
from pathlib import Path

from helpers import vae

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "vae_rates.md"
ARCH = vae.Architecture(latents=8, buckets=4, hidden=32)
BUDGET = ARCH.latents * ARCH.buckets  # decoder evaluations per image per step: n K
STEPS, BATCH, SEEDS, RATES, VALIDATION = 1000, 32, (0, 1, 2), (3e-3, 1e-2, 3e-2, 1e-1), 250
CONTESTANTS = vae.contestants(BUDGET)  # notebook 10's nine: label -> Contestant


def choose(label):
    """(validation scores (seeds, rates), the chosen rate, seconds) for one contestant."""
    c = CONTESTANTS[label]
    train_x, _ = vae.load_digits(seed=0)
    fit_x, validation_x = vae.validation_split(train_x, VALIDATION, seed=0)
    start = time.perf_counter()
    run = vae.train_copies(c.estimator, fit_x, validation_x, ARCH, c.samples, STEPS, BATCH, RATES,
                           SEEDS, evaluate_every=STEPS, anneal_to=vae.ANNEAL_TO.get(label),
                           **c.options)  # fmt: skip
    which = 1 if c.estimator == "vimco" else 0  # exact_scores: (-ELBO, -log p(x))
    scores = np.empty((len(SEEDS), len(RATES)))
    for s, r in np.ndindex(scores.shape):
        weights = {name: value[s, r] for name, value in run.weights.items()}
        scores[s, r] = vae.exact_scores(weights, validation_x, ARCH.latents)[which].mean()
    scores[~np.isfinite(scores)] = np.inf  # a diverged copy loses
    return scores, RATES[int(np.argmin(np.median(scores, axis=0)))], time.perf_counter() - start


def row(label, scores, rate):
    measure = "-log p(x)" if CONTESTANTS[label].estimator == "vimco" else "-ELBO"
    cells = [f"{np.median(c):.2f} [{c.min():.2f}, {c.max():.2f}]" for c in scores.T]
    return f"| {label} | {measure} | " + " | ".join(cells) + f" | {rate:g} |"


def write(rows):
    """The page: its table's rows by label, the old rows kept for labels not rerun."""
    old = PAGE.read_text().splitlines() if PAGE.exists() else []
    rows_before = [line for line in old if line.startswith("| ") and " | " in line]
    kept = {line.split(" | ")[0][2:]: line for line in rows_before}
    kept.update(rows)
    header = " | ".join(f"rate {r:g}" for r in RATES)
    lines = [
        "# Notebook 10's learning rates",
        "",
        f"Written by `benchmarks/vae_rates.py` (`make vae-rates`). Each contestant trained "
        f"from seeds {', '.join(map(str, SEEDS))} for {STEPS} steps of {BATCH} images at each "
        f"rate, on {1500 - VALIDATION:,} of the 1,500 training images; the score is the exact "
        f"mean on the other {VALIDATION} (median [min, max] over the seeds; lower is better); "
        "the chosen rate has the lowest median. VIMCO is scored on -log p(x), the quantity "
        "its importance-weighted bound and the ELBO both bound; the others on the -ELBO they "
        "minimise. The held-out test images are not used.",
        "",
        f"| contestant | score | {header} | chosen |",
        "|---|---|" + "---|" * len(RATES) + "---|",
        *(kept[label] for label in CONTESTANTS if label in kept),
        "",
    ]
    PAGE.write_text("\n".join(lines))


def chosen_rates():
    """label -> the rate docs/vae_rates.md chose."""
    rates = {}
    for line in PAGE.read_text().splitlines():
        match = re.match(r"\| (.+?) \| .* \| ([0-9.e-]+) \|$", line)
        if match and match.group(1) in CONTESTANTS:
            rates[match.group(1)] = float(match.group(2))
    return rates


if __name__ == "__main__":
    labels = sys.argv[1:] or list(CONTESTANTS)
    unknown = sorted(set(labels) - set(CONTESTANTS))
    if unknown:
        sys.exit(f"unknown labels {unknown}; known: {list(CONTESTANTS)}")
    rows = {}
    for label in labels:
        scores, rate, seconds = choose(label)
        rows[label] = row(label, scores, rate)
        print(f"{rows[label]}  ({seconds:.0f} s)", flush=True)
    write(rows)
