"""The figures of notebook 08 · control variates and relaxations: one function per figure.

Each function draws numbers the notebook computed and shows the figure. Colours, labels and
line styles come from the contestants (helpers.plotting.Contestant), so an estimator looks
the same everywhere.
"""

import matplotlib.pyplot as plt
import numpy as np

from .. import plotting
from .without_replacement import _PLAIN, _PLAIN_MINOR

__all__ = ["equal_cost_errors", "gumbel_rao_variance", "optimisation_gaps"]


def gumbel_rao_variance(decompositions, straight_through):
    """Gumbel-Rao's logits variance against the number of conditional Gumbels J (log axis),
    with +-2 standard-error bars, and straight-through's variance as a dashed line.

    decompositions: J -> helpers.stats.decomposition of the logits' estimates (its
    "variance" and "variance_se" are drawn); straight_through: a number."""
    draws = list(decompositions)
    if not draws:
        raise ValueError("decompositions: one entry per number of conditional Gumbels, got none")
    variances, variance_se = (
        [decompositions[j][key] for j in draws] for key in ("variance", "variance_se")
    )
    fig, ax = plt.subplots(figsize=(6, 3.5))
    plotting.two_se_bars(ax, draws, variances, variance_se, "gumbel_rao", marker="o")
    ax.axhline(
        straight_through,
        color=plotting.color("straight_through"),
        ls="--",
        label=plotting.label("straight_through"),
    )
    ax.set(
        xscale="log",
        xlabel="conditional Gumbel draws J",
        ylabel="logits variance of one estimate",
        title="Gumbel-Rao: the variance falls with J, the mean stays",
    )
    ax.set_xticks(draws, [str(j) for j in draws])  # plain J values, not powers of ten
    ax.set_xticks([], minor=True)
    ax.legend()
    plt.show()


def equal_cost_errors(errors, contestants, budgets, blocks=("logits", "all coordinates")):
    """Relative error of one estimate per model, for each estimator at each budget.

    errors: (label, budget index) -> array (models, len(blocks)); contestants: label -> its
    Contestant (its colour); budgets: the evaluation budgets (circles for the first, squares
    for the second). One panel per block, log scale with plain tick labels, one point per model;
    a dashed line at 1, where the error equals returning zero's."""
    if not 1 <= len(budgets) <= 2:
        raise ValueError(f"budgets: one or two (circles and squares), got {budgets}")
    _check_contestants({label for label, _ in errors}, contestants)
    fig, axes = plt.subplots(1, len(blocks), figsize=(11, 4.5), sharey=True)
    labels = list(contestants)
    for ax, (j, block) in zip(axes, enumerate(blocks), strict=True):
        ax.axhline(1, color="0.3", lw=1, ls="--", label="returning zero" if j == 0 else None)
        for i, label in enumerate(labels):
            for at, marker in enumerate(("o", "s")[: len(budgets)]):
                if (label, at) not in errors:
                    continue
                values = np.asarray(errors[label, at])[:, j]
                x = np.full(len(values), i + 0.15 * (2 * at - 1))
                legend = f"{budgets[at]} evaluations" if i == 0 else None
                ax.plot(x, values, marker, ms=4, alpha=0.7, color=contestants[label].color)
                if legend:
                    ax.plot([], [], marker, color="grey", label=legend)
        ax.set(xticks=range(len(labels)), yscale="log", title=block)
        ax.yaxis.set_major_formatter(_PLAIN)
        ax.yaxis.set_minor_formatter(_PLAIN_MINOR)
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    axes[0].set_ylabel(
        "relative error $\\sqrt{\\mathrm{MSE}}/\\|\\nabla L\\|$, one point per model"
    )
    axes[0].legend()
    fig.suptitle(f"Equal cost: each estimator at {' and '.join(map(str, budgets))} evaluations")
    plt.show()


def optimisation_gaps(gaps, contestants, title, bands=None):
    """The gap L - min_s E[f | s] along an optimisation, one line per estimator: the median
    over runs and, for the labels in `bands` (None: all), a band from the first to the third
    quartile (log scale).

    gaps: label -> array (steps + 1, runs); contestants: label -> its Contestant (its colour
    and line style)."""
    _check_contestants(gaps, contestants)
    bands = list(gaps) if bands is None else list(bands)
    if set(bands) - set(gaps):
        raise ValueError(f"bands: {sorted(set(bands) - set(gaps))} are not labels of gaps")
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for label, gap in gaps.items():
        colour, ls = contestants[label].color, contestants[label].line
        steps = np.arange(len(gap))
        low, mid, high = np.percentile(gap, [25, 50, 75], axis=1)
        if label in bands:
            ax.fill_between(steps, low, high, color=colour, alpha=0.15, lw=0)
        ax.plot(steps, mid, color=colour, ls=ls, label=label)
    ax.set(
        yscale="log",
        xlabel="optimisation step",
        ylabel="gap $L(\\theta) - \\min_s \\mathbb{E}[f \\mid s]$ (median, quartiles)",
        title=title,
    )
    ax.legend(fontsize=8, loc="lower left")
    plt.show()


def _check_contestants(labels, contestants):
    """Every label drawn has its contestant (its colour and line style)."""
    missing = sorted(set(labels) - set(contestants))
    if missing:
        raise ValueError(f"contestants: no entry for {missing}")
