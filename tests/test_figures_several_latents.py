"""The figures of notebook 09 draw what their documentation says and refuse malformed input."""

import matplotlib

matplotlib.use("Agg")

import helpers as h  # noqa: E402
from helpers.figures import several_latents  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

BUCKETS_AT = {1: 4, 2: 4, 8: 4, 16: 2}
CONTESTANTS = {
    "IndeCateR": h.Contestant("indecater"),
    "elementary": h.Contestant("elementary", line=":", marker="s"),
}


def _relative():
    relative = {}
    for label in CONTESTANTS:
        for n in BUCKETS_AT if label == "IndeCateR" else (1, 2):  # elementary: small n only
            for block in ("all", "logits"):
                relative[label, n, block] = np.array([0.5, 1.0, 2.0]) * n
    return relative


def test_the_errors_figure_draws_a_line_per_contestant_and_k_on_both_blocks():
    fig = several_latents.errors_as_n_grows(_relative(), BUCKETS_AT, CONTESTANTS)
    both, logits = fig.axes
    assert [both.get_title(), logits.get_title()] == ["all coordinates", "logits block only"]
    for ax in fig.axes:
        medians = [line for line in ax.lines if line.get_marker() in ("o", "s")]
        # IndeCateR: a K = 4 line (n = 1, 2, 8) and a K = 2 point (n = 16); elementary: K = 4
        assert sorted(len(line.get_xdata()) for line in medians) == [1, 2, 3]
        assert ax.get_xscale() == ax.get_yscale() == "log"
        assert {t.get_text() for t in ax.texts} == {"K = 4", "K = 2"}  # where K changes
        assert any(list(line.get_ydata()) == [1, 1] for line in ax.lines)  # returning zero
    legend = [t.get_text() for t in logits.get_legend().get_texts()]
    assert legend == [*CONTESTANTS, "returning zero"]  # the line at 1, in both panels
    assert "_logits" in logits.get_ylabel() and "_logits" not in both.get_ylabel()
    squares = [line for line in both.lines if line.get_marker() == "s"]
    assert len(squares) == 1 and list(squares[0].get_xdata()) == [1, 2]  # elementary's marker
    dotted = [line for line in both.lines if line.get_linestyle() == ":"]
    assert len(dotted) == 1 and list(dotted[0].get_xdata()) == [1, 2]  # elementary's own style
    plt.close(fig)


def test_the_errors_figure_keeps_its_legend_and_labels_off_the_panels():
    fig = several_latents.errors_as_n_grows(_relative(), BUCKETS_AT, CONTESTANTS)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    both, logits = fig.axes
    legend = logits.get_legend().get_window_extent(renderer)
    assert legend.x0 >= logits.get_window_extent(renderer).x1  # right of the logits panel
    label = logits.yaxis.label.get_window_extent(renderer)
    assert all(label.x0 > t.get_window_extent(renderer).x1 for t in both.texts)  # the K strip
    plt.close(fig)


def test_the_errors_figure_refuses_an_empty_grid():
    with pytest.raises(ValueError, match="non-empty"):
        several_latents.errors_as_n_grows(_relative(), {}, CONTESTANTS)


def test_the_optimisation_figure_is_titled_for_configurations():
    gaps = {(lr, k): np.full((11, 3), lr) for lr in (0.1, 1.0) for k in ("exact", "loo")}
    contestants = {
        "exact": h.Contestant("exact"),
        "loo": h.Contestant("score_function", style="loo"),
    }
    fig = several_latents.optimisation_gaps(gaps, contestants, (0.1, 1.0))
    assert "best configuration" in fig.get_suptitle()
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]
    plt.close(fig)
