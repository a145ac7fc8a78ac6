"""The figures of notebook 06 · scaling in K and optimisation: one function per figure."""

import matplotlib.pyplot as plt
import numpy as np

from .. import plotting

__all__ = ["optimisation_gaps", "sampling_ratio_and_its_prediction"]

# the three constructed families of logits (Okabe-Ito grey, blue and vermillion)
FAMILY_COLOURS = {"drawn": "#7F7F7F", "uniform": "#0072B2", "concentrated": "#D55E00"}
_ROW_KEYS = ("family", "K", "prediction", "all", "logits")


def _checked_rows(rows):
    rows = list(rows)
    if not rows or any(not set(_ROW_KEYS) <= set(row) for row in rows):
        raise ValueError(f"rows must be a non-empty list of dicts with keys {', '.join(_ROW_KEYS)}")
    unknown = {row["family"] for row in rows} - set(FAMILY_COLOURS)
    if unknown:
        raise ValueError(f"rows: unknown family {sorted(unknown)}; known: {list(FAMILY_COLOURS)}")
    return rows


def sampling_ratio_and_its_prediction(rows):
    """Two panels for the K study. Left: each model's ratio of MSE x cost (sampling over
    enumeration, all coordinates) against K, the three families side by side, with the median
    and range of each family's models at each K. Right: the logits' ratio against its
    prediction (1 + rho) K_eff / K, one dot per model, and the line where the two are equal.

    rows: one dict per model with keys family, K, prediction ((1 + rho) K_eff / K, with rho
    the separation ratio) and the two measured ratios, all (every coordinate) and logits.
    Returns the figure."""
    rows = _checked_rows(rows)
    ks = sorted({row["K"] for row in rows})
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
    for j, (family, colour) in enumerate(FAMILY_COLOURS.items()):
        shift = 1.12 ** (j - 1)  # families side by side at each K
        for k in ks:
            ratios = np.array([r["all"] for r in rows if r["family"] == family and r["K"] == k])
            if not len(ratios):
                continue
            x, mid = k * shift, np.median(ratios)
            spread = 1.015 ** (np.arange(len(ratios)) - (len(ratios) - 1) / 2)  # beside the bar
            axes[0].plot(x * 1.06 * spread, ratios, ".", color=colour, alpha=0.6, ms=5)
            axes[0].errorbar(
                x,
                mid,
                yerr=[[mid - ratios.min()], [ratios.max() - mid]],
                fmt="D",
                color=colour,
                ms=6,
                capsize=3,
                label=f"{family} p" if k == ks[0] else None,
            )
        mine = [r for r in rows if r["family"] == family]
        x = [r["prediction"] for r in mine]
        axes[1].scatter(x, [r["logits"] for r in mine], color=colour, s=14, label=family)
    span = [r["prediction"] for r in rows] + [r["logits"] for r in rows]
    line = np.array([min(span), max(span)])
    axes[1].plot(line, line, "k--", lw=0.8, label="ratio = prediction")
    for ax in axes:
        ax.axhline(1, color="k", lw=0.8)
        ax.set(xscale="log", yscale="log")
    axes[0].set(
        xlabel="number of categories $K$ (families side by side)",
        ylabel="MSE $\\times$ cost: sampling / enumeration",
        title="All coordinates (dots right of a bar: its models; diamond, bar: median, range)",
    )
    axes[1].set(
        xlabel="prediction $(1 + \\rho)\\,K_{\\mathrm{eff}} / K$",
        ylabel="logits: MSE $\\times$ cost, sampling / enumeration",
        title="Logits block, against the prediction",
    )
    for ax in axes:
        ax.legend(fontsize=8)
        ax.title.set_fontsize(9.5)
    fig.suptitle("Below 1, sampling $s$ beats enumerating it at equal cost")
    return fig


def optimisation_gaps(gaps, contestants, learning_rates):
    """One panel per learning rate: the gap L - min_s E[f | s] along the optimisation, median
    and min-to-max band over the runs, one line per estimator in its contestant's colour and
    line style.

    gaps: dict (learning_rate, label) -> array (steps + 1, n_runs); contestants: label ->
    `helpers.Contestant` (its `color` and `line` are read). Returns the figure."""
    learning_rates = list(learning_rates)
    missing = [(lr, k) for lr in learning_rates for k in contestants if (lr, k) not in gaps]
    if not learning_rates or missing:
        raise ValueError(f"gaps has no runs for {missing[:3]}" if missing else "learning_rates")
    fig, axes = plt.subplots(1, len(learning_rates), figsize=(11, 4.2), sharey=True, squeeze=False)
    for ax, lr in zip(axes[0], learning_rates, strict=True):
        for label, c in contestants.items():
            gap = np.asarray(gaps[lr, label])
            plotting.median_band(ax, np.arange(len(gap)), gap, c.color, label=label, ls=c.line)
        ax.set(yscale="log", xlabel="optimisation step", title=f"Adam, learning rate {lr}")
    axes[0, 0].set_ylabel(
        "gap $L(\\theta) - \\min_s \\mathbb{E}[f \\mid s]$\n(median, band: min to max of the runs)"
    )
    axes[0, 0].legend(fontsize=7.5)
    fig.suptitle("Logits alone trained: how fast each estimator moves p to the best category")
    return fig
