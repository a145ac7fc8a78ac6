"""The figures of notebook 03 · Gumbel-softmax: one function per figure.

Each function draws numbers the notebook has computed and returns the figure; the notebook
shows it with `plt.show()`.
"""

import matplotlib.pyplot as plt
import numpy as np

from .. import plotting

__all__ = [
    "gumbel_max_frequencies",
    "mse_by_budget",
    "relaxed_edge",
    "simplex_samples",
    "temperature_sweep",
]

# the two estimators of the sweep, keyed by the straight_through option
NAMES = {False: "gumbel_softmax", True: "straight_through"}


def gumbel_max_frequencies(p, counts):
    """Bars of p beside the frequencies of Gumbel-max draws (counts: one per category)."""
    k, n_draws = np.arange(len(p)), int(np.sum(counts))
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.bar(k - 0.2, p, width=0.4, color=plotting.color("exact"), label="$p(s)$")
    ax.bar(
        k + 0.2,
        np.asarray(counts) / n_draws,
        width=0.4,
        color=plotting.color("gumbel_softmax"),
        label="Gumbel-max frequencies",
    )
    ax.set(
        xlabel="category $s$",
        ylabel="probability",
        xticks=k,
        title=f"Gumbel-max: {n_draws:,} draws match $p$",
        ylim=(0, 1.35 * np.max(p)),
    )
    ax.legend(loc="upper center", ncols=2)
    return fig


def simplex_samples(samples):
    """Relaxed samples of a K = 3 categorical on the triangle, one panel per temperature
    (samples: dict tau -> array (n, 3) of points on the simplex)."""
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])
    fig, axes = plt.subplots(1, len(samples), figsize=(11, 3.1))
    for ax, (tau, y) in zip(axes, samples.items(), strict=True):
        xy = np.asarray(y) @ corners
        ax.fill(*corners.T, color="0.95", edgecolor="0.6")
        ax.scatter(*xy.T, s=3, alpha=0.4, color=plotting.color("gumbel_softmax"))
        for k, corner in enumerate(corners):
            offset = (0, -12 if k < 2 else 4)
            ax.annotate(f"$s={k}$", corner, textcoords="offset points", xytext=offset, ha="center")
        ax.set_title(f"$\\tau = {tau}$", pad=16)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.suptitle("Relaxed samples on the simplex ($K = 3$): near the corners at low $\\tau$")
    return fig


def relaxed_edge(t, mu, sigma, i, j):
    """mu(y) +- sigma(y) along the edge y = (1 - t) e_i + t e_j of the simplex, with the two
    real categories at its ends; grey: the bands mu +- sigma of those two categories, where
    the mixture (1 - t) N(mu_i, sigma_i^2) + t N(mu_j, sigma_j^2) puts its mass."""
    colour = plotting.color("gumbel_softmax")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for end, label in ((0, "the mixture's two components"), (-1, None)):
        low, high = mu[end] - sigma[end], mu[end] + sigma[end]
        ax.fill_between([0, 1], low, high, color="0.5", alpha=0.25, lw=0, label=label)
    ax.plot(t, mu, color=colour, label="$\\mu(y)$ on the edge")
    label = "$\\mu(y) \\pm \\sigma(y)$"
    ax.fill_between(t, mu - sigma, mu + sigma, color=colour, alpha=0.2, label=label)
    label = f"the real categories $s={i}$ and $s={j}$"
    ax.plot([0, 1], [mu[0], mu[-1]], "o", color=plotting.color("exact"), label=label)
    ax.set(
        xlabel=f"position $t$ on the edge $y = (1-t)\\,e_{i} + t\\,e_{j}$",
        ylabel="$z$",
        title="A relaxed $y$ makes the model evaluate in-between categories",
    )
    ax.legend(loc="center left")
    return fig


def temperature_sweep(taus, sweep, elementary_variance):
    """Squared bias, variance and MSE of one estimate against tau, a panel per estimator
    (sweep: dict straight_through -> h.stats.decomposition's entries, one per tau). A squared
    bias within 2 standard errors of zero is drawn as its upper limit (an open triangle).
    elementary_variance: the elementary estimator's variance times K, its variance per model
    evaluation (dotted line). No elementary estimate costs fewer than K evaluations, so the
    line compares with the relaxed MSE divided by N only for N >= K, not with N = 1."""
    titles = {
        False: "lower $\\tau$: less bias, more variance",
        True: "lower $\\tau$: more variance; the bias levels off",
    }
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, (st, d) in zip(axes, sweep.items(), strict=True):
        colour, resolved = plotting.color(NAMES[st]), d["squared_bias"] > 2 * d["squared_bias_se"]
        bias, bias_se = d["squared_bias"][resolved], d["squared_bias_se"][resolved]
        ax.errorbar(taus[resolved], bias, yerr=2 * bias_se, fmt="o-", ms=4, color=colour,
                    label="squared bias")  # fmt: skip
        limit = (d["squared_bias"] + 2 * d["squared_bias_se"])[~resolved]
        ax.plot(taus[~resolved], limit, "v", color=colour, mfc="none",
                label="squared bias (upper limit)")  # fmt: skip
        ax.errorbar(taus, d["variance"], yerr=2 * d["variance_se"], fmt="s--", ms=4,
                    color=colour, alpha=0.6, label="variance")  # fmt: skip
        ax.plot(taus, d["mse"], "-", lw=2.5, color="0.3", alpha=0.5, label="MSE ($N = 1$)")
        ax.axhline(elementary_variance, color=plotting.color("elementary"), ls=":",
                   label="elementary variance $\\times K$: per evaluation,\n"
                   "comparable for $N \\geq K$")  # fmt: skip
        ax.set(xscale="log", yscale="log", xlabel="temperature $\\tau$")
        ax.set_title(f"{plotting.label(NAMES[st])}\n{titles[st]}")
    axes[0].set_ylabel("error of one estimate ($N = 1$), all coordinates")
    axes[1].legend(loc="lower right", fontsize=8)
    return fig


def mse_by_budget(taus, curves, best):
    """MSE_N(tau) for each budget N, a panel per estimator, the minimum of each curve starred
    (curves: dict straight_through -> {N: array over taus}; best: dict (straight_through, N)
    -> (tau, MSE))."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, (st, by_n) in zip(axes, curves.items(), strict=True):
        shades = np.linspace(0.35, 1.0, len(by_n))
        for shade, (n, mse_n) in zip(shades, by_n.items(), strict=True):
            ax.plot(taus, mse_n, color=plotting.color(NAMES[st]), alpha=shade, label=f"$N = {n}$")
            ax.plot(*best[(st, n)], "*", ms=13, color="k")
        ax.set(xscale="log", yscale="log", xlabel="temperature $\\tau$")
        ax.set_title(plotting.label(NAMES[st]))
        ax.legend(title="samples per estimate")
    axes[0].set_ylabel("MSE of one estimate, all coordinates")
    fig.suptitle("The MSE-best temperature (stars) falls as the sample budget grows")
    return fig
