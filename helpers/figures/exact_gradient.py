"""The figures of notebook 02 · the exact gradient: one function per figure.

Each function draws numbers the notebook has computed and returns the figure; the notebook
shows it with `plt.show()`.
"""

import matplotlib.pyplot as plt
import numpy as np

from .. import plotting

__all__ = ["error_against_samples", "z_scores_by_coordinate"]


def z_scores_by_coordinate(z, bound, n_replicates):
    """The z-score of the mean estimate of every coordinate (z: dict name -> array), grouped by
    parameter, between the Bonferroni bounds +-bound."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    start = 0
    for name, values in z.items():
        values = np.ravel(values)
        x = start + np.arange(values.size)
        ax.plot(x, values, "o", ms=4, color=plotting.color("elementary"))
        ax.text(start + (values.size - 1) / 2, bound * 1.08, name, ha="center")
        start += values.size
        ax.axvline(start - 0.5, color="0.8", lw=0.8)
    label = f"Bonferroni bound $\\pm${bound:.2f}"
    ax.axhline(bound, color=plotting.color("exact"), ls="--", lw=1, label=label)
    ax.axhline(-bound, color=plotting.color("exact"), ls="--", lw=1)
    ax.set(
        xlabel="gradient coordinate (grouped by parameter)",
        ylabel="$z$-score of the mean",
        title=f"Elementary estimator vs exact gradient, {n_replicates:,} estimates",
        ylim=(-1.3 * bound, 1.3 * bound),
    )
    ax.legend(loc="lower right")
    return fig


def error_against_samples(sample_counts, rmse, rmse_se):
    """The elementary estimator's RMSE against the samples per estimate, +-2 s.e. bars, on
    log-log axes with a 1/sqrt(N) guide."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    plotting.two_se_bars(ax, sample_counts, rmse, rmse_se, "elementary", fmt="o-")
    plotting.reference_slope(ax, sample_counts, rmse[0], text="$\\propto 1/\\sqrt{N}$")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="samples per estimate $N$",
        ylabel="RMSE of the gradient estimate",
        title="The elementary estimator's error falls like $1/\\sqrt{N}$",
    )
    ax.legend()
    return fig
