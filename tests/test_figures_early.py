"""The figures of notebooks 01-04 draw what they are given (helpers.figures)."""

import helpers as h

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RNG = np.random.default_rng(0)
TAUS = np.logspace(-2, 3, 6)
BLOCKS = {"logits": RNG.random(5), "A": RNG.random(15), "B": 0.1, "C": RNG.random(15), "D": 0.2}


def decomposition(n):
    """h.stats.decomposition's entries, one array of n values each, as a sweep keeps them."""
    values = {k: RNG.random(n) + 0.1 for k in ("squared_bias", "variance", "mse")}
    values["squared_bias"][0] = -0.01  # a negative estimate: zero within its error
    return {**values, **{f"{k}_se": 0.01 * np.ones(n) for k in ("squared_bias", "variance", "mse")}}


def row():
    return {k: float(v[0]) for k, v in decomposition(1).items()}


def samples(r=50):
    return {k: RNG.normal(size=(r, np.size(v))) for k, v in BLOCKS.items()}


FIGURES = {
    h.figures.model.category_probabilities: lambda: (np.full(5, 0.2),),
    h.figures.model.mixture_density: lambda: (
        RNG.normal(size=200),
        np.linspace(-3, 3, 40),
        RNG.random((5, 40)),
    ),  # fmt: skip
    h.figures.model.running_mean: lambda: (
        np.arange(1, 11),
        RNG.random(10),
        RNG.random(10),
        0.5,
    ),  # fmt: skip
    h.figures.model.error_against_samples: lambda: (2 ** np.arange(4), RNG.random(4), 400, 0.04),
    h.figures.exact_gradient.z_scores_by_coordinate: lambda: (
        {k: RNG.normal(size=np.shape(v)) for k, v in BLOCKS.items()},
        4.2,
        1000,
    ),  # fmt: skip
    h.figures.exact_gradient.error_against_samples: lambda: (
        2 ** np.arange(4),
        RNG.random(4),
        RNG.random(4) / 10,
    ),  # fmt: skip
    h.figures.gumbel_softmax.gumbel_max_frequencies: lambda: (np.full(5, 0.2), np.arange(5) + 1),
    h.figures.gumbel_softmax.simplex_samples: lambda: (
        {tau: RNG.dirichlet(np.ones(3), 20) for tau in (0.1, 1.0)},
    ),  # fmt: skip
    h.figures.gumbel_softmax.relaxed_edge: lambda: (
        np.linspace(0, 1, 5),
        RNG.random(5),
        RNG.random(5) / 10,
        0,
        4,
    ),  # fmt: skip
    h.figures.gumbel_softmax.temperature_sweep: lambda: (
        TAUS,
        {st: decomposition(len(TAUS)) for st in (False, True)},
        0.01,
    ),  # fmt: skip
    h.figures.gumbel_softmax.mse_by_budget: lambda: (
        TAUS,
        {st: {n: RNG.random(len(TAUS)) for n in (1, 10)} for st in (False, True)},
        {(st, n): (1.0, 0.5) for st in (False, True) for n in (1, 10)},
    ),  # fmt: skip
    h.figures.log_trick.running_means: lambda: (
        {pz: samples() for pz in (True, False)},
        BLOCKS,
        [("logits", 1), ("A", 2)],
    ),  # fmt: skip
    h.figures.log_trick.baseline_variances: lambda: (
        {
            (pz, b): {k: 1.0 + RNG.random() for k in BLOCKS}
            for pz in (True, False)
            for b in ("none", "constant", "optimal", "loo")
        },
        list(BLOCKS),
    ),  # fmt: skip
    h.figures.log_trick.variance_against_cost: lambda: (
        {
            name: (np.array([2, 4, 8]), [(row(), row()) for _ in range(3)])
            for name in ("score_function", "loo", "score_function_pure", "elementary")
        },
    ),  # fmt: skip
}


def test_every_figure_of_notebooks_01_to_04_is_drawn_below():
    modules = [h.figures.model, h.figures.exact_gradient, h.figures.gumbel_softmax]
    modules.append(h.figures.log_trick)
    public = {getattr(m, name) for m in modules for name in m.__all__}
    assert public == set(FIGURES)


@pytest.mark.parametrize("figure", FIGURES, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_a_figure_draws_its_numbers_and_returns_the_figure(figure):
    with matplotlib.rc_context():
        h.plotting.use_style()
        fig = figure(*FIGURES[figure]())
        assert isinstance(fig, matplotlib.figure.Figure) and figure.__doc__
        assert any(ax.lines or ax.patches or ax.collections for ax in fig.axes)
        fig.canvas.draw()
        plt.close(fig)


def test_the_error_figure_draws_the_exact_error_of_an_unbiased_mean():
    sizes = 2 ** np.arange(5)
    fig = h.figures.model.error_against_samples(sizes, RNG.random(5), 400, 0.04)
    guide = [line for line in fig.axes[0].lines if "Var" in line.get_label()]
    assert len(guide) == 1
    np.testing.assert_allclose(guide[0].get_ydata(), np.sqrt(0.04 / sizes))
    plt.close(fig)
    for variance in (0.0, -0.1, np.nan):
        with pytest.raises(ValueError, match="variance must be a positive number"):
            h.figures.model.error_against_samples(sizes, RNG.random(5), 400, variance)


def test_the_logits_panel_keeps_leave_one_out_on_top_of_the_pure_version():
    lines = FIGURES[h.figures.log_trick.variance_against_cost]()[0]
    fig = h.figures.log_trick.variance_against_cost(lines)
    logits = fig.axes[1]
    drawn = {c.get_label(): c for c in logits.containers}
    loo, pure = (
        drawn[h.plotting.label("loo")],
        drawn[h.plotting.label("score_function_pure") + " + LOO"],
    )
    assert loo.lines[0].get_zorder() > pure.lines[0].get_zorder()
    assert loo.lines[0].get_linewidth() < pure.lines[0].get_linewidth()
    plt.close(fig)


def test_the_temperature_sweep_claims_less_bias_only_for_the_soft_estimator():
    fig = h.figures.gumbel_softmax.temperature_sweep(
        *FIGURES[h.figures.gumbel_softmax.temperature_sweep]()
    )
    soft, straight_through = (ax.get_title() for ax in fig.axes)
    assert "less bias" in soft and "less bias" not in straight_through
    assert not fig._suptitle or "bias" not in fig._suptitle.get_text()
    plt.close(fig)


def test_the_temperature_sweep_compares_enumeration_per_evaluation_only_from_k_evaluations():
    # no elementary estimate costs one evaluation: its line must not claim N = 1's cost
    fig = h.figures.gumbel_softmax.temperature_sweep(
        *FIGURES[h.figures.gumbel_softmax.temperature_sweep]()
    )
    for ax in fig.axes:
        (line,) = (line for line in ax.lines if line.get_linestyle() == ":")
        assert np.allclose(line.get_ydata(), 0.01)
        label = line.get_label()
        assert "per evaluation" in label and "N \\geq K" in label and "N = 1" not in label
    plt.close(fig)


def test_the_running_mean_spans_three_standard_errors_of_a_30_sample_mean_around_the_exact_value():
    n = np.arange(1, 121)
    se = 0.6 / np.sqrt(n)  # a per-sample spread of 0.6
    fig = h.figures.model.running_mean(n, np.full(120, 2.0), se, 2.0)
    low, high = fig.axes[0].get_ylim()
    assert np.isclose(high - 2.0, 3 * 0.6 / np.sqrt(30)) and np.isclose(2.0 - low, high - 2.0)
    plt.close(fig)


def test_the_baseline_bars_mark_the_exact_expectation_baselines_as_oracles():
    baselines = ("none", "constant", "optimal", "loo")
    blocks = {(pz, b): {k: 1.0 for k in BLOCKS} for pz in (True, False) for b in baselines}
    fig = h.figures.log_trick.baseline_variances(blocks, list(BLOCKS))
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["none", "constant (oracle)", "optimal (oracle)", "loo"]
    plt.close(fig)
