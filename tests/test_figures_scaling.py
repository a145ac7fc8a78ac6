"""The figures of notebook 06 draw what their documentation says and refuse malformed input."""

import matplotlib

matplotlib.use("Agg")

from helpers.figures import scaling  # noqa: E402
from helpers.plotting import Contestant, color  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def _rows():
    rows = []
    for family in ("drawn", "uniform", "concentrated"):
        for k in (5, 20):
            for seed in range(3):
                value = (seed + 1) * k / 10
                rows.append(dict(family=family, K=k, prediction=value, all=value, logits=2 * value))
    return rows


def test_the_k_study_figure_shows_every_model_and_the_line_of_equality():
    fig = scaling.sampling_ratio_and_its_prediction(_rows())
    left, right = fig.axes
    # left: one dot series and one median marker per family and K
    assert len(left.lines) >= 3 * 2
    # right: one scatter per family, every model in it, and the line ratio = prediction
    assert sum(len(c.get_offsets()) for c in right.collections) == len(_rows())
    assert "ratio = prediction" in [t.get_text() for t in right.get_legend().get_texts()]
    assert right.get_xscale() == right.get_yscale() == "log"
    assert "\\rho" in right.get_xlabel()  # the separation ratio, rho throughout 05 and 06
    plt.close(fig)


@pytest.mark.parametrize(
    "rows, message",
    [
        ([], "non-empty"),
        ([{"family": "drawn"}], "keys"),
        ([dict(_rows()[0], family="x")], "family"),
    ],
)
def test_the_k_study_figure_refuses_malformed_rows(rows, message):
    with pytest.raises(ValueError, match=message):
        scaling.sampling_ratio_and_its_prediction(rows)


CONTESTANTS = {  # as notebook 06 enters them: each line in its record's colour and style
    "exact": Contestant("exact", line="--"),
    "loo": Contestant("score_function", {"baseline": "loo"}, "loo", ":"),
}


def test_the_optimisation_figure_has_a_panel_per_rate_and_a_line_per_estimator():
    gaps = {(lr, k): np.full((11, 4), lr) for lr in (0.1, 1.0) for k in CONTESTANTS}
    fig = scaling.optimisation_gaps(gaps, CONTESTANTS, (0.1, 1.0))
    assert [ax.get_title() for ax in fig.axes] == [
        "Adam, learning rate 0.1",
        "Adam, learning rate 1.0",
    ]
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]
    exact, loo = fig.axes[0].lines
    assert (exact.get_linestyle(), loo.get_linestyle()) == ("--", ":")
    assert loo.get_color() == color("loo")
    plt.close(fig)


def test_the_optimisation_figure_names_a_missing_run():
    with pytest.raises(ValueError, match="no runs"):
        scaling.optimisation_gaps({}, {"loo": CONTESTANTS["loo"]}, (0.1,))
