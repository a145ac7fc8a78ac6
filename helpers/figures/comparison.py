"""The figures of notebook 05 · the comparison: one function per figure.

Each function draws numbers the notebook has computed and returns the figure; the notebook
shows it. Contestants are `helpers.Contestant` records (their `color`, `line` and `marker`
are read), keyed by their legend labels.
"""

import matplotlib.pyplot as plt
import numpy as np

from .. import plotting

__all__ = ["bias_and_variance_by_budget", "relative_error_by_budget", "time_per_estimate"]


def _faded(label):
    """Oracles are drawn fainter: a bound, not a contestant."""
    return 0.6 if "oracle" in label else 1.0


def relative_error_by_budget(budgets, contestants, errors, title):
    """Relative error sqrt(MSE) / ||grad L|| of one estimate against the budget, one panel per
    block. errors: {panel title: {label: (relative error, its standard error)}}, one entry per
    budget; bars are +- 2 standard errors; the line at 1 is the error of returning zero. The
    legend sits below the panels, where no line crosses it."""
    fig, axes = plt.subplots(1, len(errors), figsize=(11, 5), sharex=True, squeeze=False)
    for ax, (block, table) in zip(axes[0], errors.items(), strict=True):
        for label, (rel, rel_se) in table.items():
            c = contestants[label]
            plotting.two_se_bars(
                ax,
                budgets,
                rel,
                rel_se,
                c.colour_key,
                ls=c.line,
                marker=c.marker,
                ms=4,
                alpha=_faded(label),
                label=label,
                capsize=2,
            )
        ax.axhline(1, color="k", lw=0.8, ls="-.", label="returning zero ($\\hat g = 0$)")
        ax.set(xscale="log", yscale="log", title=block)
        ax.set_xlabel("model evaluations per estimate, $n_{\\mathrm{eval}}$")
    axes[0, 0].set_ylabel("relative error $\\sqrt{\\mathrm{MSE}}\\,/\\,\\|\\nabla L\\|$")
    handles, labels = axes[0, -1].get_legend_handles_labels()  # one legend, below the panels
    fig.legend(handles, labels, loc="lower center", ncols=4, fontsize=7)
    fig.subplots_adjust(bottom=0.28)
    fig.suptitle(title)
    return fig


def bias_and_variance_by_budget(budgets, contestants, results, relaxations, scale):
    """Left: squared bias of the relaxations (the labels in `relaxations`), where it is resolved
    above 2 standard errors, with the variance of `scale` for comparison; right: every
    contestant's variance. results: {label: decomposition arrays, one entry per budget}."""
    budgets = np.asarray(budgets)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for label, c in contestants.items():
        r = results[label]
        style = dict(ls=c.line, marker=c.marker, ms=3, color=c.color, label=label)
        axes[1].errorbar(budgets, r["variance"], 2 * r["variance_se"], alpha=_faded(label), **style)
        if label in relaxations:
            ok = r["squared_bias"] > 2 * r["squared_bias_se"]
            axes[0].errorbar(
                budgets[ok], r["squared_bias"][ok], 2 * r["squared_bias_se"][ok], **style
            )
    axes[0].plot(
        budgets,
        results[scale]["variance"],
        color=contestants[scale].color,
        lw=1,
        label=f"{scale} variance (for scale)",
    )
    axes[0].set(xscale="log", yscale="log", title="squared bias (where resolved above noise)")
    axes[0].set_ylabel("sum over all coordinates of one estimate's\nsquared bias or variance")
    axes[1].set(xscale="log", title="variance (colours as in the first figure's legend)")
    for ax in axes:
        ax.set_xlabel("$n_{\\mathrm{eval}}$")
    axes[0].legend(fontsize=7)
    fig.suptitle(
        "Variance falls like $1/n_{\\mathrm{eval}}$; at a fixed $\\tau$ the relaxations' bias "
        "does not"
    )
    return fig


def time_per_estimate(contestants, per_call, per_estimate, n_samples=None):
    """Wall-clock cost of a batched call, a + c R for R estimates: the fixed cost a per call
    (left) and the cost c of each further estimate (right), in seconds, per contestant.
    n_samples: the samples N of each estimate, named in the title when given."""
    labels = list(per_call)
    colours = [contestants[k].color for k in labels]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    axes[0].barh(labels, [per_call[k] * 1e3 for k in labels], color=colours)
    axes[1].barh(labels, [per_estimate[k] * 1e6 for k in labels], color=colours)
    axes[0].invert_yaxis()
    axes[0].set(xlabel="milliseconds", title="a: fixed cost of one call")
    axes[1].set(xlabel="microseconds", title="c: cost of each estimate in the call")
    each = "" if n_samples is None else f" of N = {n_samples} samples each"
    fig.suptitle(f"Wall-clock time of R estimates{each} in one call, a + c R (this machine)")
    return fig
