"""The figures of notebook 09 · several latents: one function per figure."""

import matplotlib.pyplot as plt
import numpy as np

from .. import plotting
from . import scaling

__all__ = ["errors_as_n_grows", "optimisation_gaps"]


def errors_as_n_grows(relative, buckets_at, contestants):
    """Two panels, all coordinates and the logits block: each contestant's relative error
    sqrt(MSE) / ||grad L|| of the block shown against the number of latents n, median over the
    models and a band from min to max, in the contestant's marker, a separate line for each K
    (a vertical rule marks where K changes); a line at 1 marks the error of returning zero. The
    legend stands outside the panels, right of the logits one.

    relative: dict (label, n, block) -> array of one value per model, block "all" or "logits",
    absent where the contestant did not run; buckets_at: n -> K; contestants: label ->
    h.Contestant (its colour, line style and marker). Returns the figure."""
    grid = list(buckets_at)
    if not grid or not contestants:
        raise ValueError("buckets_at and contestants must be non-empty")
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.3), sharex=True, layout="constrained")
    first_k = buckets_at[grid[0]]
    for ax, block in zip(axes, ("all", "logits"), strict=True):
        for label, entry in contestants.items():
            for k in dict.fromkeys(buckets_at.values()):  # one line per K, in the grid's order
                ns = [n for n in grid if buckets_at[n] == k and (label, n, block) in relative]
                if not ns:
                    continue
                (line,) = plotting.median_band(
                    ax,
                    ns,
                    np.array([relative[label, n, block] for n in ns]),
                    entry.color,
                    label=label if k == first_k else None,
                    ls=entry.line,
                    alpha=0.08,
                )
                line.set(marker=entry.marker, ms=4)  # a K reached at one n only is one point
        ax.axhline(
            1, color="k", lw=0.8, ls="-.", label="returning zero" if block == "logits" else None
        )
        pairs = zip(grid[:-1], grid[1:], strict=True)
        changes = [(a, b) for a, b in pairs if buckets_at[a] != buckets_at[b]]
        for a, b in changes:
            rule = np.sqrt(a * b)  # midway between the two n on the log axis
            ax.axvline(rule, color="0.6", lw=0.8)
            for n, side, shift in ((a, "right", 0.92), (b, "left", 1.08)):
                where = ax.get_xaxis_transform()
                ax.text(rule * shift, 0.03, f"K = {buckets_at[n]}", transform=where, ha=side)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="latents n (budget 2nK evaluations per estimate)",
            ylabel=f"sqrt(MSE) / ||grad{'' if block == 'all' else '_logits'} L||",
            title="all coordinates" if block == "all" else "logits block only",
        )
        ax.set_xticks(grid, [str(n) for n in grid])
        ax.set_xticks([], minor=True)
    # outside the panels, right of the logits one: it hides no band
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    fig.suptitle("median over the models, band from min to max")
    return fig


def optimisation_gaps(gaps, contestants, learning_rates):
    """Notebook 06's figure of the optimisation (one panel per learning rate, the gap
    L - min_s E[f | s] along the steps, median and band over the runs), titled for n latents:
    the best configuration of all K**n, not the best category. Arguments as there."""
    fig = scaling.optimisation_gaps(gaps, contestants, learning_rates)
    fig.suptitle("Logits alone trained: how fast each estimator moves p to the best configuration")
    return fig
