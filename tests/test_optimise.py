"""Batched optimisation runs: correct Adam steps, reproducible, every estimator, bad input."""

import helpers as h

import numpy as np
import pytest
import tensorflow as tf


def target(z):
    return (z - 0.7) ** 2


def test_first_exact_step_is_plain_adam():
    # Adam's first step moves every coordinate by -learning_rate * sign(gradient).
    model = h.make_model(dim=3, buckets=4, seed=2)
    grad = h.exact_gradient(model, target)
    out = h.optimise(model, "exact", steps=1, learning_rate=0.01, n_runs=2, f=target)
    for name, variable in model.params.items():
        variable.assign_sub(0.01 * np.sign(grad[name]))
    assert np.allclose(out["loss"][1], float(h.exact_loss(model, target)), rtol=1e-6)


@pytest.mark.parametrize(
    "estimator,options",
    [
        ("exact", {}),
        ("elementary", {}),
        ("gumbel_softmax", dict(n_samples=4, tau=0.5)),
        ("score_function", dict(n_samples=4, baseline="loo")),
        ("score_function", dict(n_samples=4, moving_average=0.9)),
    ],
)
@pytest.mark.parametrize("latents", [1, 3])
def test_every_estimator_lowers_the_objective(estimator, options, latents):
    model = h.make_model(dim=3, buckets=4 if latents == 1 else 3, seed=3, latents=latents)
    out = h.optimise(model, estimator, steps=100, learning_rate=0.02, n_runs=3, f=target, **options)
    assert out["loss"].shape == (101, 3)
    np.testing.assert_allclose(out["loss"][0], float(h.exact_loss(model, target)), rtol=1e-12)
    assert np.all(out["loss"][-1] < 0.2 * out["loss"][0])


def test_runs_differ_and_repeat():
    model = h.make_model(dim=3, buckets=4, seed=4)
    a = h.optimise(model, "score_function", steps=20, n_samples=2, n_runs=3, seed=1)["loss"]
    b = h.optimise(model, h.score_function, steps=20, n_samples=2, n_runs=3, seed=1)["loss"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[:, 0], a[:, 1])


def test_model_is_left_unchanged():
    model = h.make_model(dim=2, buckets=3)
    before = {k: v.numpy().copy() for k, v in model.params.items()}
    h.optimise(model, "elementary", steps=5)
    for name, value in before.items():
        np.testing.assert_array_equal(model.params[name].numpy(), value)


def test_frozen_parameters_keep_their_values():
    # With only the logits trainable, the objective is sum_s p_s E[f | s] with E[f | s]
    # fixed: the exact runs must approach min_s E[f | s], which they cannot pass.
    model = h.make_model(dim=3, buckets=4, seed=5)
    per_category = h.expected_f(*h.model.conditionals_all(model.values(), model.x), target)
    out = h.optimise(
        model, "exact", steps=300, learning_rate=0.1, n_runs=2, f=target, trainable=("logits",)
    )
    best = float(tf.reduce_min(per_category))
    assert np.all(out["loss"][-1] >= best - 1e-12)
    assert np.all(out["loss"][-1] - best < 0.05 * (out["loss"][0] - best))
    free = h.optimise(model, "exact", steps=300, learning_rate=0.1, n_runs=2, f=target)
    assert np.all(free["loss"][-1] < best - 1e-3)  # moving A-D too goes below it


@pytest.mark.parametrize(
    "estimator,kwargs,message",
    [
        ("exact", dict(steps=0), "steps must be an integer >= 1"),
        ("exact", dict(learning_rate=0.0), "learning_rate must be a positive finite number"),
        ("exact", dict(n_runs=0), "n_runs must be an integer >= 1"),
        ("exact", dict(tau=0.5), "the exact gradient takes no options"),
        ("nope", {}, "unknown estimator 'nope'"),
        ("elementary", dict(moving_average=0.9), "for estimator 'score_function' only"),
        ("score_function", dict(moving_average=1.0), r"moving_average must be a decay in \(0, 1\)"),
        ("score_function", dict(moving_average=0.9, baseline="loo", n_samples=2), "do not pass"),
        ("exact", dict(f=tf.reduce_sum), "of its input's shape"),
        ("exact", dict(trainable=("logits", "E")), "trainable must be a non-empty"),
        ("exact", dict(trainable=()), "trainable must be a non-empty"),
    ],
)
def test_bad_input_raises(estimator, kwargs, message):
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match=message):
        h.optimise(model, estimator, **kwargs)


def test_moving_average_refuses_a_value_it_would_ignore():
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match="moving_average supplies the baseline's value"):
        h.optimise(model, "score_function", moving_average=0.9, baseline="constant", value=1.0)


def test_a_run_that_diverges_is_reported_with_its_step():
    # E[-exp(z)] = -exp(mu + sigma^2 / 2) is unbounded below; a step of 10 on log sigma
    # sends it past the largest float64.
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match=r"reached a non-finite objective .* after step \d+"):
        h.optimise(model, "exact", steps=100, learning_rate=10.0, f=lambda z: -tf.exp(z))


@pytest.mark.parametrize("pathwise_z", [True, False])
def test_each_runs_optimal_baseline_is_the_one_at_its_own_theta(pathwise_z):
    # At the first step every run is at the start, so its own optimal baseline is the
    # constant b* there: the same noise then gives the same step (to rounding).
    model = h.make_model(dim=2, buckets=3, seed=4)
    b = h.estimators.optimal_baseline_at(model.problem(target), model.params, pathwise_z)
    run = dict(steps=1, n_runs=3, f=target, pathwise_z=pathwise_z, seed=5)
    own = h.optimise(model, "score_function", baseline="optimal", **run)["loss"]
    constant = h.optimise(model, "score_function", baseline="constant", value=b, **run)["loss"]
    none = h.optimise(model, "score_function", **run)["loss"]
    np.testing.assert_allclose(own, constant, rtol=1e-12)
    assert not np.allclose(own[1], none[1], rtol=1e-6)


def test_a_moving_average_with_one_run_equals_the_first_run_of_two():
    model = h.make_model(dim=3, buckets=4, seed=3)
    one = h.optimise(model, "score_function", steps=5, n_runs=1, moving_average=0.9, seed=4)
    two = h.optimise(model, "score_function", steps=5, n_runs=2, moving_average=0.9, seed=4)
    np.testing.assert_array_equal(one["loss"][:, 0], two["loss"][:, 0])


def test_more_steps_than_memory_can_record_are_refused_before_anything_runs():
    model = h.make_model(dim=3, buckets=4, seed=3)
    with pytest.raises(ValueError, match=r"^steps and n_runs: .* GiB; the limit is 1 GiB"):
        h.optimise(model, "score_function", steps=10**9, n_runs=1)
