"""The figures of notebook 10 draw what they are given (helpers.figures.discrete_vae)."""

from types import SimpleNamespace

import helpers as h

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RNG = np.random.default_rng(0)
FIGURE = h.figures.discrete_vae


def test_the_validation_curves_draw_a_median_line_per_contestant_in_its_style():
    contestants = {
        "LOO": h.Contestant("score_function", {"baseline": "loo"}, style="loo"),
        "annealed": h.Contestant("gumbel_softmax", line="--"),
    }
    steps = {"LOO": np.arange(0, 1100, 100), "annealed": np.arange(0, 1600, 100)}
    losses = {label: 20 + RNG.random((len(s), 3)) for label, s in steps.items()}
    runs = {  # as train_copies gives them: test_loss (seeds, rates, checkpoints)
        label: SimpleNamespace(steps=steps[label], test_loss=losses[label].T[:, None])
        for label in steps
    }
    fig = FIGURE.validation_curves(runs, contestants, 32)
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    assert set(lines) == set(contestants)
    for label, contestant in contestants.items():
        np.testing.assert_allclose(lines[label].get_ydata(), np.median(losses[label], axis=1))
        assert lines[label].get_color() == contestant.color
        assert lines[label].get_linestyle() == contestant.line
    assert "3 seeds" in fig.axes[0].get_title()
    plt.close(fig)


def test_the_importance_sampling_figure_draws_the_mean_excess_both_exact_lines_and_1_over_m():
    sizes = (1, 10, 100)
    excess = RNG.random((3, 20)) / np.arange(1, 4)[:, None]
    fig = FIGURE.importance_sampling(sizes, excess, 0.8, "loo")
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), excess.mean(axis=1))
    assert [line.get_ydata()[0] for line in ax.lines[-2:]] == [0.0, 0.8]
    np.testing.assert_allclose(ax.lines[-3].get_ydata(), excess[0].mean() / np.array(sizes))
    assert ax.get_xscale() == "log" and ax.get_legend() is not None
    assert ax.get_xlabel() == "importance samples M"  # notebook 10: M importance samples
    plt.close(fig)
    with pytest.raises(ValueError, match="excess"):
        FIGURE.importance_sampling(sizes, excess[:2], 0.8, "loo")


def test_every_figure_of_notebook_10_is_tested_here():
    assert set(FIGURE.__all__) == {"importance_sampling", "validation_curves"}
