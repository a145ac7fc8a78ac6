"""RELAX: REBAR with a learned control variate c_phi (helpers.relax).

Strongest first: unbiased for a fixed, non-trivial control variate (Bonferroni
test against the exact gradient); the variance gradient from nested tapes
against central finite differences of the estimated second moment with common
random numbers; with r_rho = 0, RELAX is REBAR draw for draw; optimise learns
phi beside theta, reproducibly, on the logits' variance, and the learned phi has
less variance there; bad input.
"""

import helpers as h
from helpers.estimators.control_variates import HIDDEN, STATE_NAMES, checked_state, learned_control
from helpers.optimise import distribution_names

import numpy as np
import pytest
import tensorflow as tf
from support import assert_unbiased

MODELS = [dict(dim=10, buckets=5, seed=0), dict(dim=3, buckets=4, seed=21)]


def random_state(buckets, seed=3):
    """A control variate far from REBAR's: r_rho of unit output weights, eta and tau moved."""
    return h.relax_state(buckets, tau=0.7, eta=-0.6, scale=1.0, seed=seed)


@pytest.mark.parametrize("sizes", MODELS)
@pytest.mark.parametrize("n_samples", [1, 2])
def test_unbiased_for_a_fixed_random_control_variate(sizes, n_samples):
    model = h.make_model(**sizes)
    state = random_state(model.buckets)
    grads = h.gradient_samples(model, "relax", 20_000, n_samples, seed=11, state=state)
    assert_unbiased(grads, h.exact_gradient(model))
    # The control variate is not a trivial one: the estimates move far from REBAR's.
    rebar = h.gradient_samples(model, "rebar", 20_000, n_samples, seed=11, tau=0.7, eta=-0.6)
    assert np.max(np.abs(grads["logits"] - rebar["logits"])) > 0.1


def test_unbiased_for_another_f():
    model = h.make_model(dim=2, buckets=3, seed=5)

    def wave(z):
        return tf.cos(3 * z) + z

    state = random_state(3, seed=8)
    grads = h.gradient_samples(model, "relax", 20_000, 1, seed=2, f=wave, state=state)
    assert_unbiased(grads, h.exact_gradient(model, wave))


def test_variance_gradient_matches_a_central_difference_with_common_random_numbers():
    model = h.make_model(dim=10, buckets=5, seed=0)
    state = random_state(model.buckets)
    out = h.relax_gradients(model, 500, 2, seed=4, state=state)
    step = 1e-5
    # Every scalar of phi that is a whole entry, and a few entries of the network.
    probes = [("eta", ()), ("log_tau", ()), ("W1", (2, 3)), ("b1", (5,)), ("w2", (0,))]
    for name, index in probes:
        moments = []
        for sign in (1, -1):
            moved = {k: v.copy() for k, v in state.items()}
            moved[name][index] += sign * step
            moments.append(h.relax_gradients(model, 500, 2, seed=4, state=moved)["second_moment"])
        finite = (moments[0] - moments[1]) / (2 * step)
        nested = out["state_gradient"][name][index]
        # Central differences err by O(step^2) relative plus rounding ~1e-16 / step.
        assert abs(nested - finite) < 1e-6 * abs(finite) + 1e-9, (name, nested, finite)
        assert abs(finite) > 1e-6, name  # the probe measures a real slope


def test_relax_gradients_are_gradient_samples_and_their_squares_the_second_moment():
    model = h.make_model(dim=10, buckets=5, seed=0)
    state = random_state(model.buckets)
    out = h.relax_gradients(model, 300, 2, seed=9, state=state)
    samples = h.gradient_samples(model, "relax", 300, 2, seed=9, state=state)
    for name in samples:
        np.testing.assert_allclose(out["gradients"][name], samples[name], rtol=0, atol=1e-12)
    # One draw per replicate: the second moment is the mean of the estimates' squares.
    single = h.gradient_samples(model, "relax", 300, 1, seed=9, state=state)
    squares = sum(np.sum(v.reshape(300, -1) ** 2, axis=1) for v in single.values())
    out = h.relax_gradients(model, 300, 1, seed=9, state=state)
    assert np.isclose(out["second_moment"], squares.mean(), rtol=1e-12)
    logits_only = h.relax_gradients(model, 300, 1, seed=9, wrt="logits", state=state)
    expected = np.mean(np.sum(single["logits"] ** 2, axis=1))
    assert np.isclose(logits_only["second_moment"], expected, rtol=1e-12)


@pytest.mark.parametrize("tau,eta", [(0.5, 1.0), (0.1, -2.0), (2.0, 0.0)])
def test_with_r_zero_relax_is_rebar_draw_for_draw(tau, eta):
    model = h.make_model(dim=10, buckets=5, seed=0)
    relax = h.gradient_samples(model, "relax", 500, 3, seed=7, tau=tau, eta=eta)
    rebar = h.gradient_samples(model, "rebar", 500, 3, seed=7, tau=tau, eta=eta)
    for name in rebar:
        np.testing.assert_allclose(relax[name], rebar[name], rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.slow
def test_at_least_1000_times_faster_than_one_tape_per_replicate():
    from replicates import per_replicate_seconds

    options = dict(state=random_state(5))
    loop, batched = per_replicate_seconds(h.make_model(), 100, 100_000, "relax", options)
    assert loop / batched > 1000, f"only {loop / batched:.0f}x faster"


def test_cost_is_three_evaluations_per_sample():
    assert h.ESTIMATORS["relax"].evaluations(5, 4) == 12


def test_optimise_learns_the_state_reproducibly_and_lowers_the_loss():
    model = h.make_model(dim=10, buckets=5, seed=0)
    kwargs = dict(steps=60, n_runs=3, tau=0.5, state_learning_rate=0.02)
    first = h.optimise(model, "relax", seed=1, **kwargs)
    again = h.optimise(model, "relax", seed=1, **kwargs)
    other = h.optimise(model, "relax", seed=2, **kwargs)
    np.testing.assert_array_equal(first["loss"], again["loss"])
    np.testing.assert_array_equal(first["second_moment"], again["second_moment"])
    for name in first["state"]:
        np.testing.assert_array_equal(first["state"][name], again["state"][name])
    assert not np.array_equal(first["loss"], other["loss"])
    assert set(first) == {"loss", "seconds", "second_moment", "state"}
    assert first["seconds"] > 0
    assert first["loss"].shape == (61, 3) and first["second_moment"].shape == (60, 3)
    assert first["state"]["W1"].shape == (3, 5, HIDDEN)
    assert np.all(first["loss"][-1] < first["loss"][0])
    # The runs learn their own states (their own noise), all moved from the start.
    assert not np.allclose(first["state"]["eta"], 1.0)
    assert len(set(np.round(first["state"]["eta"], 12))) == 3


def test_optimise_learns_phi_on_the_distribution_parameters():
    # As in Grathwohl et al.: phi descends the variance of the logits' estimate, the
    # parameters the distribution depends on; with no such trainable parameter, all.
    model = h.make_model(dim=10, buckets=5, seed=0)
    problem, params = model.problem(h.square), model.values()
    assert distribution_names(problem, params, h.model.PARAM_NAMES) == ("logits",)
    assert distribution_names(problem, params, ("A", "B")) == ("A", "B")


def test_optimise_lowers_the_variance_of_the_estimate():
    # theta held (a learning rate of 1e-12 moves it by < 1e-9 in 300 steps), phi learned
    # on the logits' variance: the learned state's logits estimates at theta have
    # clearly less variance (4 s.e.: a false alarm below 1e-4 by the normal
    # approximation) than REBAR's at the starting state, on independent draws.
    model = h.make_model(dim=10, buckets=5, seed=0)
    learned = h.optimise(
        model,
        "relax",
        steps=300,
        learning_rate=1e-12,
        n_samples=16,
        n_runs=1,
        tau=0.5,
        state_learning_rate=0.02,
    )["state"]
    learned = {name: value[0] for name, value in learned.items()}
    exact = h.exact_gradient(model)
    start = h.gradient_samples(model, "relax", 4_000, seed=5, tau=0.5)
    after = h.gradient_samples(model, "relax", 4_000, seed=6, state=learned)
    before, now = (
        h.stats.decomposition({"logits": g["logits"]}, {"logits": exact["logits"]})
        for g in (start, after)
    )
    assert h.stats.clearly_below(
        now["variance"], now["variance_se"], before["variance"], before["variance_se"], z=4
    ), (now, before)
    assert_unbiased(after, exact)  # and still unbiased


def test_existing_estimators_keep_their_optimise_output():
    # No state, no second_moment: the result of every other estimator is as before.
    model = h.make_model(dim=10, buckets=5, seed=0)
    out = h.optimise(model, "rebar", steps=5, n_runs=2, tau=0.5)
    assert set(out) == {"loss", "seconds"}


BAD = [
    (dict(tau=0.0), "tau"),
    (dict(eta=float("nan")), "eta"),
    (dict(state={"eta": 1.0}), r"keys eta, log_tau, W1, b1, w2; got \['eta'\]$"),
    (dict(state=h.relax_state(4)), r"shape \(5, 8\)"),
    (dict(state=h.relax_state(5), tau=0.5), "pass state or tau/eta"),
    (dict(state={**h.relax_state(5), "w2": np.full(8, np.inf)}), "finite"),
]


@pytest.mark.parametrize("options,message", BAD)
def test_bad_options(options, message):
    model = h.make_model(dim=2, buckets=5, seed=0)
    with pytest.raises(ValueError, match=message):
        h.gradient_samples(model, "relax", 3, **options)


def test_relax_gradients_counts_the_two_uniforms_per_category_it_draws(monkeypatch):
    # One estimate of N = 3 draws on K = 5 needs u and v, 2 N K = 30 uniforms: the limit
    # on one estimate's noise lets 30 through and refuses it one value lower.
    model = h.make_model(dim=2, buckets=5, seed=0)
    monkeypatch.setattr(h.sampling, "MAX_VALUES_PER_REPLICATE", 30)
    h.relax_gradients(model, 2, n_samples=3)
    monkeypatch.setattr(h.sampling, "MAX_VALUES_PER_REPLICATE", 29)
    with pytest.raises(ValueError, match="^one estimate needs 30 noise values"):
        h.relax_gradients(model, 2, n_samples=3)


def test_a_given_state_is_kept_as_float64_arrays():
    given = {name: np.asarray(value, np.float32) for name, value in h.relax_state(5).items()}
    given["eta"] = 1  # an int is a valid eta too
    state = checked_state(given, 5)
    assert {name: value.dtype for name, value in state.items()} == dict.fromkeys(
        STATE_NAMES, np.dtype(np.float64)
    )


def test_bad_input_elsewhere():
    model = h.make_model(dim=2, buckets=5, seed=0)
    with pytest.raises(ValueError, match="f must return a tensor of its input's shape and dtype"):
        h.relax_gradients(model, 3, f=lambda z: tf.cast(z, tf.float32))  # a float64 model
    with pytest.raises(ValueError, match="wrt must be a non-empty collection of parameter names"):
        h.relax_gradients(model, 3, wrt=("logits", "E"))
    message = r"^state_learning_rate is for an estimator with a learned state \('relax'\), not "
    with pytest.raises(ValueError, match=message):
        h.optimise(model, "rebar", steps=2, state_learning_rate=0.1)
    with pytest.raises(ValueError, match="state_learning_rate"):
        h.optimise(model, "relax", steps=2, state_learning_rate=-1.0)
    with pytest.raises(ValueError, match="buckets"):
        h.relax_state(1)
    with pytest.raises(ValueError, match="tau"):
        h.relax_state(5, tau=0.0)


@pytest.mark.parametrize("per_replicate", [False, True])
def test_the_control_variate_is_the_documented_network(per_replicate):
    # c_phi(z) = eta f(y) + w2 . tanh(y W1 + b1), y = softmax(z / tau): any c_phi keeps
    # RELAX unbiased, so only a direct check sees a wrong network.
    model = h.make_model(dim=2, buckets=3, seed=8)
    problem, (R, N, K) = model.problem(), (4, 2, 3)
    rng = np.random.default_rng(9)
    state = h.relax_state(K, tau=0.7, eta=0.6, hidden=5, scale=0.8, seed=1)
    state["b1"] = rng.normal(size=5)
    if per_replicate:  # optimise's runs: each replicate its own phi
        state = {k: np.stack([v * (1 + 0.1 * r) for r in range(R)]) for k, v in state.items()}
    params = h.estimators.with_sample_axis(
        {k: tf.broadcast_to(v, (R, *v.shape)) for k, v in model.values().items()}
    )
    z, eps = rng.normal(size=(R, N, 1, K)), rng.normal(size=(R, N))
    tensors = {k: tf.constant(v) for k, v in state.items()}
    got = learned_control(problem, params, tensors, tf.constant(z), tf.constant(eps))
    s = {k: (v if per_replicate else np.broadcast_to(v, (R, *v.shape))) for k, v in state.items()}
    y = np.exp(z / np.exp(s["log_tau"])[:, None, None, None])
    y /= y.sum(axis=-1, keepdims=True)
    hidden = np.tanh(np.einsum("rnik,rkh->rnh", y, s["W1"]) + s["b1"][:, None])
    f_y = problem.objective(params, tf.constant(y), tf.constant(eps)).numpy()
    expected = s["eta"][:, None] * f_y + np.einsum("rnh,rh->rn", hidden, s["w2"])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
