"""The figures of notebook 01 · the model: one function per figure.

Each function draws numbers the notebook has computed and returns the figure; the notebook
shows it with `plt.show()`.
"""

import matplotlib.pyplot as plt
import numpy as np

from .. import plotting

__all__ = ["category_probabilities", "error_against_samples", "mixture_density", "running_mean"]


def category_probabilities(p):
    """A bar per category: p = softmax(logits), shape (K,)."""
    p = np.asarray(p, dtype=float)
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(np.arange(len(p)), p, color=plotting.color("elementary"))
    ax.set(
        xlabel="category $s$",
        ylabel="$p(s)$",
        title="Category probabilities $p = \\mathrm{softmax}(\\ell)$",
        xticks=np.arange(len(p)),
    )
    return fig


def mixture_density(z_draws, grid, components):
    """A histogram of ancestral draws of z, each weighted component p_s N(z; mu_s, sigma_s^2)
    (components: (K, len(grid))) dashed, and their sum, the mixture density, in black."""
    components = np.asarray(components, dtype=float)
    fig, ax = plt.subplots()
    ax.hist(
        z_draws,
        bins=120,
        density=True,
        color=plotting.color("monte_carlo"),
        alpha=0.35,
        label=f"{len(z_draws):,} samples",
    )
    for s, component in enumerate(components):
        label = "weighted components" if s == 0 else None
        ax.plot(grid, component, lw=1, color="0.45", ls="--", label=label)
    total = components.sum(axis=0)
    label = "mixture density $\\pi_\\theta(z)$"
    ax.plot(grid, total, color=plotting.color("exact"), lw=2, label=label)
    ax.set(
        xlabel="$z$",
        ylabel="density",
        title="The distribution of $z$: a mixture of $K$ Gaussians",
    )
    ax.legend()
    return fig


def running_mean(n, mean, standard_error, exact):
    """The Monte Carlo estimate from the first n samples with a +-2 s.e. band, against the
    exact objective (a dashed line), on a log axis in n. The y-axis spans the exact value
    +-3 standard errors of a 30-sample mean (the per-sample spread is standard_error[-1] *
    sqrt(n[-1])), so the first few noisy estimates run off the axis instead of squeezing it."""
    width = 3 * standard_error[-1] * np.sqrt(n[-1] / 30)
    colour = plotting.color("monte_carlo")
    fig, ax = plt.subplots()
    low, high = mean - 2 * standard_error, mean + 2 * standard_error
    ax.fill_between(n, low, high, color=colour, alpha=0.25, label="$\\pm 2$ standard errors")
    ax.plot(n, mean, color=colour, label="Monte Carlo estimate")
    ax.axhline(exact, color=plotting.color("exact"), ls="--", label="exact $L(\\theta)$")
    ax.set(
        xscale="log",
        xlabel="number of samples $N$",
        ylabel="estimate of $\\mathbb{E}[z^2]$",
        title="Monte Carlo estimates converge to the exact objective",
        ylim=(exact - width, exact + width),
    )
    ax.legend()
    return fig


def error_against_samples(sizes, rmse, repeats, variance):
    """The root-mean-square error of the Monte Carlo estimate of L against the number of
    samples, on log-log axes, with the exact error of an unbiased mean, sqrt(variance / N),
    where variance is Var f for one sample."""
    variance = float(variance)
    if not np.isfinite(variance) or variance <= 0:
        raise ValueError(f"variance must be a positive number (Var f), got {variance}")
    sizes = np.asarray(sizes, dtype=float)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    label = f"Monte Carlo, {repeats} repeats"
    ax.loglog(sizes, rmse, "o-", color=plotting.color("monte_carlo"), label=label)
    exact = "exact $\\sqrt{\\mathrm{Var}\\, f / N}$"
    ax.loglog(sizes, np.sqrt(variance / sizes), "k--", lw=1, label=exact)
    ax.set(
        xlabel="number of samples $N$",
        ylabel="RMSE of the estimate of $L$",
        title="The Monte Carlo error falls like $1/\\sqrt{N}$",
    )
    ax.legend()
    return fig
