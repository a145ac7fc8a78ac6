"""House style for every notebook's figures: one colour per estimator, everywhere.

Colours are the Okabe-Ito palette, readable with the common colour-vision deficiencies. Use
`color(name)` and `label(name)` for any estimator or reference line, and `use_style()` once.
"""

from dataclasses import dataclass, field

import matplotlib as mpl
import numpy as np

__all__ = [
    "Contestant",
    "color",
    "digit_rows",
    "label",
    "median_band",
    "reference_slope",
    "two_se_bars",
    "use_style",
]

STYLES = {
    "exact": ("#000000", "exact"),
    "elementary": ("#0072B2", "elementary (enumerate s)"),
    "gumbel_softmax": ("#E69F00", "Gumbel-softmax"),
    "straight_through": ("#D55E00", "straight-through Gumbel"),
    "score_function": ("#009E73", "score function (hybrid)"),
    "score_function_pure": ("#CC79A7", "score function (pure)"),
    "loo": ("#56B4E9", "score function + LOO"),
    "optimal": ("#8C6D1F", "score function + optimal baseline"),
    "moving_average": ("#6A3D9A", "score function + moving-average baseline"),  # far from orange
    "monte_carlo": ("#7F7F7F", "Monte Carlo"),
    # notebook 07 (Paul Tol's muted palette, apart from the Okabe-Ito colours above)
    "sum_and_sample": ("#332288", "sum-and-sample"),
    "unordered_set": ("#117733", "unordered set"),
    # notebook 08: magenta, dark teal, dark red-brown, apart from each other and from the rest
    "rebar": ("#EE3377", "REBAR"),
    "rebar_learned": ("#882255", "REBAR, eta and tau learned"),  # wine: REBAR's, darker
    "relax": ("#225555", "RELAX"),
    "gumbel_rao": ("#661100", "Gumbel-Rao"),
    "indecater": ("#44AA99", "IndeCateR"),
    "vimco": ("#999933", "VIMCO"),  # notebook 10
}


def color(name):
    """The colour of an estimator or reference line, the same in every notebook."""
    return STYLES[name][0]


def label(name):
    """The legend label of an estimator or reference line."""
    return STYLES[name][1]


@dataclass(frozen=True)
class Contestant:
    """An estimator entered in a comparison: its registry name, its options and its look.

    style: the key of its colour and label in STYLES (None: the estimator's own name);
    line and marker: matplotlib's; samples: draws per estimate where contestants differ in
    it (an int, or a tuple with one entry per budget), None where the comparison sets it.
    """

    estimator: str
    options: dict = field(default_factory=dict)
    style: str | None = None
    line: str = "-"
    marker: str = "o"
    samples: int | tuple | None = None

    def __post_init__(self):
        from .estimators import ESTIMATORS  # here: plotting is imported by the estimators' users

        known = [*ESTIMATORS, "vimco"]  # "vimco": the VAE's multi-sample objective (notebook 10)
        if self.estimator not in known:
            raise ValueError(f"estimator {self.estimator!r} is not one of {sorted(known)}")
        if not isinstance(self.options, dict):
            raise ValueError(f"options must be a dict of keyword arguments, got {self.options!r}")
        if self.colour_key not in STYLES:
            raise ValueError(f"style {self.colour_key!r} is not one of {sorted(STYLES)}")

    @property
    def colour_key(self):
        return self.style or self.estimator

    @property
    def color(self):
        """Its colour, as `color(style)`."""
        return color(self.colour_key)

    @property
    def label(self):
        """Its legend label in STYLES (a comparison may label it more precisely)."""
        return label(self.colour_key)


def use_style():
    """Figure defaults shared by the series (size, grid, fonts, resolution)."""
    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 90,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "font.size": 10,
        }
    )


def reference_slope(ax, x, anchor, slope=-0.5, text=r"$\propto 1/\sqrt{n}$"):
    """A dashed power-law guide y = anchor * (x / x[0])**slope on log-log axes."""
    x = np.asarray(x, dtype=float)
    ax.plot(x, anchor * (x / x[0]) ** slope, "k--", lw=1, label=text)


def two_se_bars(ax, x, y, se, style, **kwargs):
    """y against x with +-2 standard-error bars, in the colour of `style` (an estimator's
    name) and, unless `label` is given, its label; other keywords go to ax.errorbar."""
    kwargs.setdefault("label", label(style))
    return ax.errorbar(x, y, yerr=2 * np.asarray(se), color=color(style), **kwargs)


def median_band(ax, x, runs, color, label=None, ls="-", alpha=0.15):
    """Median over runs (a line) and their min-to-max range (a band) against x; runs: array
    (len(x), n_runs), e.g. optimise's "loss" for every step."""
    runs = np.asarray(runs, dtype=float)
    if runs.ndim != 2 or runs.shape[0] != len(x):
        raise ValueError(f"runs must have shape (len(x), n_runs) = ({len(x)}, n), got {runs.shape}")
    ax.fill_between(x, runs.min(axis=1), runs.max(axis=1), color=color, alpha=alpha, lw=0)
    return ax.plot(x, np.median(runs, axis=1), color=color, ls=ls, label=label)


def digit_rows(rows, titles, side=8):
    """One row of side x side grey images per entry of rows (each (count, side**2)), titled."""
    columns = max(len(row) for row in rows)
    fig, axes = mpl.pyplot.subplots(
        len(rows), columns, figsize=(0.7 * columns, 0.85 * len(rows)), squeeze=False
    )
    for axes_row, row, title in zip(axes, rows, titles, strict=True):
        for ax in axes_row:
            ax.axis("off")
        for ax, image in zip(axes_row, row, strict=False):
            ax.imshow(np.reshape(image, (side, side)), cmap="gray_r", vmin=0, vmax=1)
        axes_row[0].set_title(title, loc="left", fontsize=9)
    return fig
