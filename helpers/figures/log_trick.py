"""The figures of notebook 04 · the log trick: one function per figure.

Each function draws numbers the notebook has computed and returns the figure; the notebook
shows it with `plt.show()`.
"""

import matplotlib.pyplot as plt
import numpy as np

from .. import plotting

__all__ = ["baseline_variances", "running_means", "variance_against_cost"]

# the two versions of the score function, keyed by the pathwise_z option
NAMES = {True: "score_function", False: "score_function_pure"}
BASELINE_COLOURS = {"none": "score_function", "optimal": "optimal", "loo": "loo"}


def running_means(samples, exact, coordinates):
    """The running mean of one-sample estimates of each (block, index) in coordinates, a panel
    each, with +-2 s.e. bands, for both versions (samples: dict pathwise_z -> gradient
    samples). The pure version is drawn first and wide, the hybrid thin and dashed on top,
    so both stay visible where they coincide."""
    symbols = {"logits": "\\ell", "A": "A"}
    fig, axes = plt.subplots(1, len(coordinates), figsize=(11, 4))
    for ax, (block, i) in zip(axes, coordinates, strict=True):
        for pathwise_z, style in ((False, dict(lw=3, alpha=0.6)), (True, dict(ls="--"))):
            g = samples[pathwise_z][block][:, i]
            count = np.arange(1, len(g) + 1)
            running, band = np.cumsum(g) / count, 2 * g.std() / np.sqrt(count)
            colour = plotting.color(NAMES[pathwise_z])
            ax.plot(count, running, color=colour, label=plotting.label(NAMES[pathwise_z]), **style)
            ax.fill_between(count, running - band, running + band, color=colour, alpha=0.15)
        ax.axhline(exact[block][i], color=plotting.color("exact"), ls=":", label="exact")
        spread = 6 * samples[True][block][:, i].std() / np.sqrt(100)
        ax.set(
            xscale="log",
            xlabel="number of one-sample estimates $R$",
            ylim=(exact[block][i] - spread, exact[block][i] + spread),
            title=f"running mean of $\\partial L / \\partial {symbols[block]}_{{{i}}}$",
        )
    axes[0].legend()
    fig.suptitle("Score-function estimates converge to the exact gradient ($\\pm 2$ s.e. bands)")
    return fig


ORACLES = ("constant", "optimal")  # the baselines that take exact expectations


def baseline_variances(blocks, names):
    """Bars of the variance of one estimate, summed over each parameter block, per baseline,
    a panel per version (blocks: dict (pathwise_z, baseline) -> dict block -> variance)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    width, baselines = 0.2, list(dict.fromkeys(b for _, b in blocks))
    x = np.arange(len(names))
    titles = {True: "hybrid: score $s$, reparameterise $z$", False: "pure: score $s$ and $z$"}
    for ax, pathwise_z in zip(axes, (True, False), strict=True):
        for i, baseline in enumerate(baselines):
            heights = [blocks[(pathwise_z, baseline)][b] for b in names]
            colour = (
                plotting.color(BASELINE_COLOURS[baseline])
                if baseline in BASELINE_COLOURS
                else "#999999"
            )
            offset = (i - (len(baselines) - 1) / 2) * width
            oracle = baseline in ORACLES  # exact L or 16K extra evaluations: not at equal cost
            label = f"{baseline} (oracle)" if oracle else baseline
            ax.bar(x + offset, heights, width, color=colour, label=label)
        ax.set(xticks=x, xticklabels=names, yscale="log", title=titles[pathwise_z])
    axes[0].set_ylabel("variance of one estimate ($N = 4$)")
    axes[0].legend(title="baseline", ncols=2)
    fig.suptitle(
        "Baselines cut the variance of the scored parameters; "
        "scoring $z$ multiplies it on $A, B, C, D$"
    )
    return fig


def variance_against_cost(lines):
    """Variance of one estimate against model evaluations per estimate, all coordinates and
    the logits block (lines: dict name -> (evaluations, [(all, logits) decomposition per
    point])). On the logits the hybrid and pure versions with LOO compute the same numbers:
    the pure one is drawn wide and pale underneath, the hybrid's LOO dashed on top."""
    labels = {
        "score_function_pure": plotting.label("score_function_pure") + " + LOO",
        "optimal": "score function + optimal shared constant (oracle)",
    }
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for block, ax in enumerate(axes):
        for name, (x, rows) in lines.items():
            pale = dict(lw=4, alpha=0.4, zorder=1) if name == "score_function_pure" else {}
            ax.errorbar(
                x,
                [r[block]["variance"] for r in rows],
                yerr=[2 * r[block]["variance_se"] for r in rows],
                fmt="s-" if name == "elementary" else "o--" if name == "loo" else "o-",
                ms=4,
                color=plotting.color(name),
                label=labels.get(name, plotting.label(name)),
                **pale,
            )
        ax.set(xscale="log", yscale="log", xlabel="model evaluations per estimate")
        ax.set_title(("all coordinates", "logits block")[block])
    axes[0].set_ylabel("variance of one estimate")
    x = next(iter(lines.values()))[0]
    plotting.reference_slope(axes[0], x, 0.3, slope=-1.0, text="$\\propto 1/N$")
    axes[0].legend(fontsize=8)
    fig.suptitle(
        "Every unbiased estimator's variance falls like $1/N$; the constant is what differs"
    )
    return fig
