"""The series' figure helpers draw what they are given (helpers.plotting)."""

import helpers as h

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture
def ax():
    with matplotlib.rc_context():
        h.plotting.use_style()
        fig, ax = plt.subplots()
        yield ax
        fig.canvas.draw()  # the style must render (e.g. a grid alpha inside [0, 1])
        plt.close(fig)


def test_the_style_draws_a_faint_grid_on_open_axes(ax):
    assert matplotlib.rcParams["axes.grid"] and 0 < matplotlib.rcParams["grid.alpha"] < 1
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
    assert ax.spines["left"].get_visible() and not matplotlib.rcParams["legend.frameon"]


def test_a_reference_slope_is_a_thin_dashed_power_law_through_its_anchor(ax):
    x = np.array([10, 100, 1000])
    (data,) = ax.plot(x, x)  # a data line, at the style's width
    h.plotting.reference_slope(ax, x, 2.0)
    guide = ax.lines[-1]
    np.testing.assert_allclose(guide.get_ydata(), 2.0 * (x / 10) ** -0.5)
    assert guide.get_label() == r"$\propto 1/\sqrt{n}$" and guide.get_linestyle() == "--"
    assert guide.get_linewidth() < data.get_linewidth()


def test_a_median_band_draws_the_median_and_the_range_in_one_colour(ax):
    runs = np.array([[1.0, 3.0, 2.0], [4.0, 6.0, 9.0]])  # 2 steps, 3 runs
    (line,) = h.plotting.median_band(ax, [0, 1], runs, "#123456", label="runs", ls="--")
    assert line.get_linestyle() == "--"
    np.testing.assert_array_equal(line.get_ydata(), [2.0, 6.0])
    assert line.get_label() == "runs" and line.get_color() == "#123456"
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == 1.0 and band.max() == 9.0
    colour = matplotlib.colors.to_rgba("#123456", alpha=0.15)
    np.testing.assert_allclose(ax.collections[0].get_facecolor()[0], colour)
    with pytest.raises(ValueError, match=r"runs must have shape \(len\(x\), n_runs\)"):
        h.plotting.median_band(ax, [0, 1, 2], runs, "#123456")


def test_digit_rows_show_each_image_in_its_row():
    rows = [np.eye(4)[:2].repeat(16, axis=1), np.ones((1, 64))]  # two images, then one
    fig = h.plotting.digit_rows(rows, ["first", "second"])
    axes = np.array(fig.axes).reshape(2, 2)
    np.testing.assert_array_equal(axes[0, 1].images[0].get_array(), rows[0][1].reshape(8, 8))
    assert axes[1, 0].images and not axes[1, 1].images  # the empty cell stays empty
    assert axes[0, 0].get_title(loc="left") == "first"
    assert axes[0, 0]._left_title.get_fontsize() < matplotlib.rcParams["font.size"]  # small
    np.testing.assert_allclose(fig.get_size_inches(), [0.7 * 2, 0.85 * 2])  # columns, rows
    image = axes[0, 0].images[0]
    assert image.get_cmap().name == "gray_r" and image.get_clim() == (0, 1)  # ink is dark
    plt.close(fig)
    one = h.plotting.digit_rows([np.full((1, 64), 0.5)], ["one image"])  # one row, column
    assert one.axes[0].images and one.axes[0].get_title(loc="left") == "one image"
    assert one.axes[0].images[0].get_clim() == (0, 1)  # grey stays mid-grey: a fixed scale
    plt.close(one)


def test_every_estimator_has_its_own_colour_and_label():
    names = list(h.plotting.STYLES)
    assert len({h.plotting.color(n) for n in names}) == len(names)
    assert len({h.plotting.label(n) for n in names}) == len(names)


def test_two_se_bars_span_two_standard_errors_in_the_estimators_colour(ax):
    drawn = h.plotting.two_se_bars(ax, [1, 2], [1.0, 3.0], [0.1, 0.5], "loo")
    line, _, (bars,) = drawn
    segments = np.array(bars.get_segments())  # one vertical segment per point: (2, 2, 2)
    np.testing.assert_allclose(segments[:, :, 1], [[0.8, 1.2], [2.0, 4.0]])
    assert matplotlib.colors.same_color(line.get_color(), h.plotting.color("loo"))
    assert drawn.get_label() == h.plotting.label("loo")  # the legend entry is the container's
    own = h.plotting.two_se_bars(ax, [1], [1.0], [0.1], "loo", label="mine")
    assert own.get_label() == "mine"


def test_a_contestant_takes_its_colour_and_label_from_its_style():
    loo = h.Contestant("score_function", dict(baseline="loo"), "loo", marker="s")
    assert (loo.color, loo.label) == (h.plotting.color("loo"), h.plotting.label("loo"))
    plain = h.Contestant("elementary")
    assert plain.color == h.plotting.color("elementary") and plain.options == {}


@pytest.mark.parametrize(
    "fields, named",
    [
        (dict(estimator="gumbel"), "'gumbel' is not one of"),
        (dict(estimator="score_function", style="teal"), "style 'teal'"),
        (dict(estimator="score_function", options=["loo"]), "options must be a dict"),
    ],
)
def test_a_contestant_refuses_what_cannot_be_drawn_or_run(fields, named):
    with pytest.raises(ValueError, match=named):
        h.Contestant(**fields)
