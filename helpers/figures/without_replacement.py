"""The figures of notebook 07 · Rao-Blackwellisation and sampling without replacement:
one function per figure."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter

from .. import plotting

__all__ = ["equal_cost_errors", "many_categories_ratios", "sum_and_sample_by_top"]

# One line style and marker per logits scale, so the three families differ without colour.
_SCALE_STYLES = (":", "^"), ("--", "s"), ("-", "o")
# Plain numbers (0.5, 2, 30) on logarithmic axes, not powers of ten.
_PLAIN = FuncFormatter(lambda value, _: f"{value:g}")
_PLAIN_MINOR = FuncFormatter(lambda value, _: f"{value:g}" if f"{value:.0e}"[0] in "235" else "")


def sum_and_sample_by_top(ratio, scales, budget):
    """Sum-and-sample's logits MSE over the score function's (top = 0) against top, at a fixed
    budget of evaluations: one line per model, one line style per logits scale.

    ratio: dict (scale, seed) -> array over top = 0 ... budget - 1 (its first entry is 1).
    """
    if len(scales) > len(_SCALE_STYLES):
        raise ValueError(f"scales: at most {len(_SCALE_STYLES)} scales, got {len(scales)}")
    fig, ax = plt.subplots(figsize=(7, 4))
    for scale, (ls, marker) in zip(scales, _SCALE_STYLES, strict=False):
        seeds = sorted(seed for s, seed in ratio if s == scale)
        for i, seed in enumerate(seeds):
            ax.plot(
                range(budget),
                ratio[scale, seed],
                ls=ls,
                marker=marker,
                color=plotting.color("sum_and_sample"),
                alpha=0.45 + 0.55 * i / max(len(seeds) - 1, 1),
                label=f"logits x {scale:g}" if i == 0 else None,
            )
    ax.axhline(1, color=plotting.color("score_function"), lw=1.5, label="score function (top = 0)")
    ax.set(
        yscale="log",
        xticks=range(budget),
        xlabel=f"top (categories enumerated); N = {budget} - top draws from the rest",
        ylabel="logits MSE / score function's",
        title=f"Sum-and-sample at {budget} evaluations, three models per scale",
    )
    ax.legend()
    plt.show()


def equal_cost_errors(errors, budgets, contestants):
    """Relative error sqrt(MSE) / ||grad L|| of each contestant, one point per model, on the
    logits (left) and over all coordinates (right); circles at the first budget, squares at
    the second. A thin grey line joins each model's points at one budget, so a model's
    ranking can be read across the contestants; at 1 the error equals returning zero's.

    errors: dict label -> array (budget, model, blocks) with the logits' error first, then all
    coordinates' (any further blocks are not drawn); contestants: dict label -> its
    helpers.plotting.Contestant (its colour).
    """
    if len(budgets) > 2:
        raise ValueError(f"budgets: at most two budgets (circles and squares), got {budgets}")
    missing = sorted(set(errors) - set(contestants))
    if missing:
        raise ValueError(f"contestants: no entry for {missing}")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    labels = list(errors)
    for ax, block, title in ((axes[0], 0, "logits"), (axes[1], 1, "all coordinates")):
        for j in range(len(budgets)):  # one thin line per model and budget
            x = np.arange(len(labels)) + 0.15 * (2 * j - 1)
            values = np.array([errors[label][j, :, block] for label in labels])
            ax.plot(x, values, "-", lw=0.6, color="0.6", alpha=0.7, zorder=1)
        ax.axhline(1, color="0.3", lw=1, ls="--", label="returning zero" if block == 0 else None)
        for i, label in enumerate(labels):
            for j, marker in enumerate(("o", "s")[: len(budgets)]):
                values = errors[label][j, :, block]
                ax.plot(
                    [i + 0.15 * (2 * j - 1)] * len(values),
                    values,
                    marker,
                    ms=5,
                    alpha=0.8,
                    color=contestants[label].color,
                )
        ax.set(xticks=range(len(labels)), yscale="log", title=title)
        ax.yaxis.set_major_formatter(_PLAIN)
        ax.yaxis.set_minor_formatter(_PLAIN_MINOR)
        ax.set_xticklabels(labels, rotation=20, ha="right", fontsize=8)
    axes[0].set_ylabel(r"relative error $\sqrt{\mathrm{MSE}}/\|\nabla L\|$, one point per model")
    for j, marker in enumerate(("o", "s")[: len(budgets)]):  # grey markers: the legend's key
        axes[0].plot([], [], marker, color="0.4", label=f"{budgets[j]} evaluations")
    axes[0].legend()
    fig.suptitle(f"Equal cost: {errors[labels[0]].shape[1]} models, one point each")
    plt.show()


def many_categories_ratios(k_eff, ratios, contestants, buckets):
    """Each contestant's logits MSE over leave-one-out's against the effective number of
    categories K_eff = 1 / sum p_s^2, one point per model.

    k_eff: array (models,); ratios: dict label -> array (models,); contestants: dict label ->
    its helpers.plotting.Contestant (its colour).
    """
    k_eff = np.asarray(k_eff, dtype=float)
    if any(np.shape(values) != k_eff.shape for values in ratios.values()):
        raise ValueError(f"ratios: one value per model, as k_eff ({len(k_eff)}), for every label")
    fig, ax = plt.subplots(figsize=(7, 4))
    for (label, values), marker in zip(ratios.items(), ("o", "s", "^", "D"), strict=False):
        ax.plot(k_eff, values, marker, ms=7, color=contestants[label].color, label=label)
    ax.axhline(1, color=plotting.color("loo"), lw=1.5, label="score function + LOO")
    ax.set(
        xscale="log",
        xlabel=r"effective number of categories $K_{\mathrm{eff}} = 1/\sum_s p_s^2$",
        ylabel="logits MSE / LOO's",
        title=f"K = {buckets}, equal cost: the gain over LOO falls as p spreads",
    )
    ax.xaxis.set_major_formatter(_PLAIN)
    ax.xaxis.set_minor_formatter(_PLAIN_MINOR)
    ax.legend()
    plt.show()
