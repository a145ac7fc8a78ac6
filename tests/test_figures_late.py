"""The figures of notebooks 07 and 08 draw what they are given, each estimator in its
contestant's colour and line style, one point per model, and refuse malformed input."""

import warnings

import helpers as h
from helpers.figures import control_variates, without_replacement

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import same_color

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RNG = np.random.default_rng(0)
CONTESTANTS = {
    "LOO": h.Contestant("score_function", {"baseline": "loo"}, "loo"),
    "unordered set": h.Contestant("unordered_set"),
}
OPTIMISERS = {"exact": h.Contestant("exact", line="--"), **CONTESTANTS}
TESTED = {  # each has its test below
    without_replacement.sum_and_sample_by_top,
    without_replacement.equal_cost_errors,
    without_replacement.many_categories_ratios,
    control_variates.gumbel_rao_variance,
    control_variates.equal_cost_errors,
    control_variates.optimisation_gaps,
}


def drawn(figure, *args):
    """The figure that `figure` showed (with Agg, show() leaves it open), drawn once."""
    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Agg: "cannot show the figure"
        assert figure(*args) is None
    fig = plt.gcf()
    fig.canvas.draw()
    return fig


def coloured(ax, contestant):
    """The lines of `ax` in the contestant's colour."""
    return [line for line in ax.lines if same_color(line.get_color(), contestant.color)]


def test_sum_and_sample_by_top_draws_one_line_per_model_and_the_score_function():
    ratio = {(scale, seed): RNG.random(4) for scale in (0.0, 3.0) for seed in range(3)}
    ax = drawn(without_replacement.sum_and_sample_by_top, ratio, (0.0, 3.0), 4).axes[0]
    models = coloured(ax, h.Contestant("sum_and_sample"))
    assert len(models) == 6 and all(len(line.get_xdata()) == 4 for line in models)
    assert len(coloured(ax, h.Contestant("score_function"))) == 1  # the line at 1
    with pytest.raises(ValueError, match="scales"):
        without_replacement.sum_and_sample_by_top(ratio, (0.0, 1.0, 2.0, 3.0), 4)


def test_07_equal_cost_errors_shows_every_model_of_every_contestant_at_each_budget():
    errors = {label: RNG.random((2, 5, 2)) + 0.1 for label in CONTESTANTS}
    fig = drawn(without_replacement.equal_cost_errors, errors, (3, 4), CONTESTANTS)
    for ax in fig.axes:
        for contestant in CONTESTANTS.values():
            points = coloured(ax, contestant)  # circles at 3 evaluations, squares at 4
            assert [line.get_marker() for line in points] == ["o", "s"]
            assert all(len(line.get_xdata()) == 5 for line in points)
    with pytest.raises(ValueError, match="contestants"):
        without_replacement.equal_cost_errors(errors, (3, 4), {"LOO": CONTESTANTS["LOO"]})


def test_many_categories_ratios_draws_one_point_per_model():
    k_eff, ratios = np.array([30.0, 29.0, 5.0]), {label: RNG.random(3) for label in CONTESTANTS}
    ax = drawn(without_replacement.many_categories_ratios, k_eff, ratios, CONTESTANTS, 32).axes[0]
    assert [len(coloured(ax, c)[0].get_xdata()) for c in CONTESTANTS.values()] == [3, 3]
    assert ax.get_xscale() == "log"
    with pytest.raises(ValueError, match="ratios"):
        without_replacement.many_categories_ratios(k_eff, {"LOO": [1.0]}, CONTESTANTS, 32)


def test_gumbel_rao_variance_draws_a_point_with_error_bars_per_number_of_gumbels():
    decompositions = {j: {"variance": 1 / j, "variance_se": 0.01} for j in (1, 3, 10)}
    ax = drawn(control_variates.gumbel_rao_variance, decompositions, 1.2).axes[0]
    (bars,) = ax.containers
    assert list(bars.lines[0].get_xdata()) == [1, 3, 10]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "3", "10"]  # plain J values
    with pytest.raises(ValueError, match="decompositions"):
        control_variates.gumbel_rao_variance({}, 1.2)


def test_08_equal_cost_errors_shows_every_model_in_a_panel_per_block():
    errors = {(label, at): RNG.random((5, 2)) * 4 + 0.1 for label in CONTESTANTS for at in (0, 1)}
    fig = drawn(control_variates.equal_cost_errors, errors, CONTESTANTS, (3, 6))
    assert [ax.get_title() for ax in fig.axes] == ["logits", "all coordinates"]
    for ax in fig.axes:
        for contestant in CONTESTANTS.values():
            assert [len(line.get_xdata()) for line in coloured(ax, contestant)] == [5, 5]
        zero = [line for line in ax.lines if line.get_linestyle() == "--"]  # returning zero
        assert len(zero) == 1 and list(zero[0].get_ydata()) == [1, 1]
    left = fig.axes[0]  # the shared y axis's labels: plain numbers (0.5, 2), no powers of ten
    ticks = [t.get_text() for t in left.get_yticklabels() + left.get_yticklabels(minor=True)]
    assert any(ticks) and not any("^" in t or "times" in t for t in ticks), ticks
    assert left.get_legend_handles_labels()[1][0] == "returning zero"
    with pytest.raises(ValueError, match="budgets"):
        control_variates.equal_cost_errors(errors, CONTESTANTS, (3, 6, 9))
    with pytest.raises(ValueError, match="contestants"):
        control_variates.equal_cost_errors(errors, {"LOO": CONTESTANTS["LOO"]}, (3, 6))


def test_optimisation_gaps_draws_each_median_in_its_colour_and_line_style():
    gaps = {label: RNG.random((11, 4)) + 0.01 for label in OPTIMISERS}
    ax = drawn(control_variates.optimisation_gaps, gaps, OPTIMISERS, "a title").axes[0]
    for contestant in OPTIMISERS.values():
        (median,) = coloured(ax, contestant)
        assert median.get_linestyle() == contestant.line and len(median.get_xdata()) == 11
    with pytest.raises(ValueError, match="contestants"):
        control_variates.optimisation_gaps(gaps, CONTESTANTS, "a title")
    banded = drawn(control_variates.optimisation_gaps, gaps, OPTIMISERS, "a title", ["LOO"])
    (band,) = banded.axes[0].collections  # the quartile band of LOO alone, in its colour
    assert same_color(band.get_facecolor()[0][:3], OPTIMISERS["LOO"].color)
    with pytest.raises(ValueError, match="bands"):
        control_variates.optimisation_gaps(gaps, OPTIMISERS, "a title", ["REBAR"])


def test_every_figure_of_notebooks_07_and_08_is_tested_above():
    modules = (without_replacement, control_variates)
    public = {getattr(module, name) for module in modules for name in module.__all__}
    assert public == TESTED
