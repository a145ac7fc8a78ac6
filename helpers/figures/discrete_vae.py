"""The figures of notebook 10 · a discrete VAE: one function per figure.

Each function draws numbers the notebook computed and returns the figure; the notebook shows
it. Colours come from each contestant's h.Contestant, so an estimator looks the same everywhere.
"""

import matplotlib.pyplot as plt
import numpy as np

from .. import plotting

__all__ = ["importance_sampling", "validation_curves"]


def validation_curves(runs, contestants, budget, ylim=(18.0, 26.5)):
    """Each contestant's validation -ELBO against the training step: the median over the
    seeds (a line in its colour and line style) and their min-to-max range (a band).

    runs: label -> vae.Run of train_copies (steps; test_loss (seeds, 1 rate, checkpoints));
    contestants: label -> h.Contestant; budget: decoder evaluations per image and step."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for label, contestant in contestants.items():
        losses = np.asarray(runs[label].test_loss)[:, 0].T  # (checkpoints, seeds)
        plotting.median_band(
            ax, runs[label].steps, losses, contestant.color, label, ls=contestant.line
        )
    seeds = np.asarray(runs[next(iter(contestants))].test_loss).shape[0]
    ax.set(xlabel="training step", ylabel="validation -ELBO (nats per image, 16 draws)")
    ax.set(
        ylim=ylim,
        title=f"median, min-max of {seeds} seeds; at most n K = {budget} "
        "decoder evaluations per image and step",
    )
    ax.legend(fontsize=8, ncol=2, loc="upper right", bbox_to_anchor=(1, 0.68))
    return fig


def importance_sampling(sizes, excess, elbo_gap, style):
    """How far the importance-sampled -log p(x) lies above the exact value, against the number
    of samples M (log axis): the mean over the images with +-2 standard-error bars of the
    per-image differences; zero is the exact value, the dashed line the exact -ELBO's excess
    (the ELBO's gap), which M = 1 estimates; the dotted line M = 1's mean excess over M, the
    pace of a 1/M fall.

    sizes: the M values; excess: array (len(sizes), images) of -log p^_M - (-log p(x)) per
    image; elbo_gap: the exact mean -ELBO minus the exact mean -log p(x) over those images;
    style: the STYLES key of the model's contestant (its colour)."""
    excess = np.asarray(excess, dtype=float)
    if excess.ndim != 2 or excess.shape[0] != len(sizes):
        raise ValueError(f"excess must have shape (len(sizes), images), got {excess.shape}")
    se = excess.std(axis=1, ddof=1) / np.sqrt(excess.shape[1])
    fig, ax = plt.subplots(figsize=(6, 3.5))
    label = "importance-sampled -log p(x), minus the exact (+-2 s.e.)"
    mean = excess.mean(axis=1)
    plotting.two_se_bars(ax, sizes, mean, se, style, marker="o", label=label)
    ax.plot(sizes, mean[0] / np.asarray(sizes), ":", color="grey", label="M = 1's excess / M")
    ax.axhline(0.0, color=plotting.color("exact"), label="exact -log p(x)")
    ax.axhline(elbo_gap, color=plotting.color("exact"), ls="--", label="exact -ELBO (the gap)")
    ax.set(
        xscale="log",
        xlabel="importance samples M",
        ylabel="nats per image above -log p(x)",
        title="the importance-sampled bound tightens with M",
    )
    ax.legend(fontsize=8, loc="center right")
    return fig
