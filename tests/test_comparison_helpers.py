"""Unit tests of the small statistics and plotting helpers notebook 05 uses."""

import helpers as h

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def test_norm_is_euclidean_over_all_blocks():
    assert h.stats.norm({"a": np.array([3.0]), "b": np.array([[4.0, 0.0]])}) == pytest.approx(5.0)


def test_clearly_below_counts_differences_within_z_standard_errors_as_ties():
    # difference 1, combined s.e. hypot(0.3, 0.4) = 0.5: 2 s.e. apart, not more
    assert not h.stats.clearly_below(1.0, 0.3, 2.0, 0.4)
    assert h.stats.clearly_below(1.0, 0.3, 2.0, 0.4, z=1.9)
    assert not h.stats.clearly_below(2.0, 0.0, 1.0, 0.0)  # above is never below
    np.testing.assert_array_equal(
        h.stats.clearly_below([1.0, 1.0], [0.1, 0.1], [2.0, 1.1], [0.1, 0.1]), [True, False]
    )


@pytest.mark.parametrize("z", [0.0, -1.0, np.nan])
def test_clearly_below_rejects_a_non_positive_z(z):
    with pytest.raises(ValueError, match="z must be"):
        h.stats.clearly_below(1.0, 0.1, 2.0, 0.1, z=z)


def test_clearly_below_rejects_negative_standard_errors():
    with pytest.raises(ValueError, match="standard errors"):
        h.stats.clearly_below(1.0, -0.1, 2.0, 0.1)


def test_effective_categories_is_k_for_uniform_and_one_for_a_point_mass():
    assert h.stats.effective_categories(np.full(7, 1 / 7)) == pytest.approx(7.0)
    assert h.stats.effective_categories([1.0, 0.0, 0.0]) == pytest.approx(1.0)
    np.testing.assert_allclose(
        h.stats.effective_categories([[0.5, 0.5], [0.9, 0.1]]), [2, 1 / 0.82]
    )


@pytest.mark.parametrize("probs", [[0.5, 0.6], [-0.1, 1.1], []])
def test_effective_categories_rejects_what_is_not_a_distribution(probs):
    with pytest.raises(ValueError, match="probs"):
        h.stats.effective_categories(probs)


def test_median_band_draws_the_median_and_the_range():
    fig, ax = plt.subplots()
    runs = np.array([[1.0, 2.0, 9.0], [0.0, 4.0, 5.0]])
    (line,) = h.plotting.median_band(ax, [0, 1], runs, "k", label="m")
    np.testing.assert_array_equal(line.get_ydata(), [2.0, 4.0])
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == 0.0 and band[:, 1].max() == 9.0
    with pytest.raises(ValueError, match="runs must have shape"):
        h.plotting.median_band(ax, [0, 1, 2], runs, "k")
    plt.close(fig)


CONTESTANTS = {  # notebook 05's records: its figures read colour, line and marker
    "elementary": h.Contestant("elementary"),
    "Gumbel-softmax, tau = 1": h.Contestant("gumbel_softmax", {"tau": 1.0}, line=":", marker="v"),
    "score function, hybrid + optimal (oracle)": h.Contestant(
        "score_function", {"baseline": "optimal"}, "optimal", "--", "^"
    ),
}
BUDGETS = np.array([5, 20, 80])


def _decomposition(scale):
    values = scale * np.array([1.0, 0.5, 0.25])
    return {
        "squared_bias": values / 2,
        "squared_bias_se": values / 20,
        "variance": values,
        "variance_se": values / 10,
    }


def test_the_comparison_figures_draw_one_line_or_bar_per_contestant():
    # a smoke test: each figure of notebook 05 draws from numbers of the notebook's shapes
    results = {label: _decomposition(i + 1.0) for i, label in enumerate(CONTESTANTS)}
    errors = {label: (np.sqrt(r["variance"]), r["variance_se"]) for label, r in results.items()}
    figures = [
        h.figures.comparison.relative_error_by_budget(
            BUDGETS, CONTESTANTS, {"all": errors, "logits": errors}, "title"
        ),
        h.figures.comparison.bias_and_variance_by_budget(
            BUDGETS, CONTESTANTS, results, ["Gumbel-softmax, tau = 1"], scale="elementary"
        ),
        h.figures.comparison.time_per_estimate(
            CONTESTANTS, dict.fromkeys(CONTESTANTS, 1e-3), dict.fromkeys(CONTESTANTS, 2e-6)
        ),
    ]
    for fig in figures:
        fig.canvas.draw()
    relative, split, timing = figures
    assert [len(ax.get_legend_handles_labels()[0]) for ax in relative.axes] == [4, 4]
    assert len(split.axes[1].get_legend_handles_labels()[0]) == len(CONTESTANTS)
    # the variance panel draws no legend of its own: its title points to the first figure's
    assert split.axes[1].get_legend() is None and "legend" in split.axes[1].get_title()
    assert [len(ax.patches) for ax in timing.axes] == [len(CONTESTANTS)] * 2
    # a + c R, as the notebook and its exercise write it (b is only ever a baseline)
    assert "a + c R" in timing.get_suptitle()
    assert [ax.get_title()[:2] for ax in timing.axes] == ["a:", "c:"]
    handles, labels = split.axes[1].get_legend_handles_labels()
    line = handles[labels.index("Gumbel-softmax, tau = 1")][0]  # the look its record gives
    assert line.get_linestyle() == ":" and line.get_color() == h.plotting.color("gumbel_softmax")
    for fig in figures:
        plt.close(fig)
