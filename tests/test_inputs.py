"""Bad input gets a ValueError that says what was wrong and what is allowed."""

import helpers as h

import numpy as np
import pytest
import tensorflow as tf


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(dim=0), "dim must be an integer >= 1"),
        (dict(dim=2.5), "dim must be an integer >= 1"),
        (dict(buckets=1), "buckets must be an integer >= 2"),
        (dict(buckets=True), "buckets must be an integer >= 2"),
        (dict(seed=-1), "seed must be an integer >= 0"),
        (dict(dtype="float16"), "dtype must be float32 or float64"),
        (dict(dtype=np.int32), "dtype must be float32 or float64"),
    ],
)
def test_make_model_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        h.make_model(**kwargs)


@pytest.mark.parametrize(
    "args,kwargs,message",
    [
        (("nope", 10), {}, "unknown estimator 'nope'; known estimators: 'elementary'"),
        ((np.mean, 10), {}, "unknown estimator"),
        (("elementary", 0), {}, "n_replicates must be an integer >= 1"),
        (("elementary", 10), dict(n_samples=0), "n_samples must be an integer >= 1"),
        (("elementary", 10), dict(seed=-3), "seed must be an integer >= 0"),
        (("elementary", 10), dict(seed=1.5), "seed must be an integer"),
        (("elementary", 10), dict(tau=0.5), "has no option 'tau'; allowed options: none"),
        (("elementary", 10), dict(f=tf.reduce_sum), "same shape|of its input's shape"),
        (("elementary", 10), dict(f=np.square), "must return a TensorFlow tensor"),
        (("elementary", 10), dict(f=3.0), "f must be a function"),
        (("elementary", 10), dict(f=lambda z: tf.cast(z, tf.float32)), "shape and dtype"),
    ],
)
def test_gradient_samples_rejects(args, kwargs, message):
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match=message):
        h.gradient_samples(model, *args, **kwargs)


def test_exact_functions_reject_a_bad_f():
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match="of its input's shape"):
        h.exact_gradient(model, tf.reduce_mean)
    with pytest.raises(ValueError, match="f failed on a tensor"):
        h.exact_loss(model, lambda z: z @ z)


def test_non_finite_parameters_are_rejected():
    model = h.make_model(dim=2, buckets=3)
    model.params["B"].assign(np.nan)
    with pytest.raises(ValueError, match="parameter 'B' holds non-finite values"):
        h.exact_gradient(model)
    with pytest.raises(ValueError, match="parameter 'B' holds non-finite values"):
        h.gradient_samples(model, "elementary", 3)


def test_conditionals_checks_the_last_axis():
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3\)"):
        model.conditionals(np.eye(4))
    mu, sigma = model.conditionals(np.eye(3))
    assert mu.shape == sigma.shape == (3,)


def test_parameters_assigned_with_the_wrong_shape_are_rejected():
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match="Shape mismatch|incompatible"):
        model.params["A"].assign(np.zeros(4))
    with pytest.raises(ValueError, match="Shape mismatch|incompatible"):
        model.params["B"].assign(np.zeros(2))


@pytest.mark.parametrize(
    "call",
    [
        lambda m: h.exact_loss(m),
        lambda m: h.exact_gradient(m),
        lambda m: h.gradient_samples(m, "elementary", 3),
        lambda m: h.noise_for(m, "elementary", 3),
        lambda m: h.optimise(m, "exact", steps=2),
        lambda m: h.sample(m, 3),
    ],
)
def test_something_else_than_a_model_is_rejected(call):
    with pytest.raises(ValueError, match="model must be a helpers Model"):
        call({"logits": np.zeros(3)})


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_infinite_parameters_are_rejected_by_every_entry_point(value):
    model = h.make_model(dim=2, buckets=3)
    model.params["logits"].assign([0.0, value, 1.0])
    for call in (
        lambda: h.exact_loss(model),
        lambda: h.gradient_samples(model, "score_function", 3),
        lambda: h.optimise(model, "elementary", steps=2),
    ):
        with pytest.raises(ValueError, match="parameter 'logits' holds non-finite values"):
            call()


def test_exercise_checks(capsys):
    model = h.make_model(dim=2, buckets=3)
    h.exercises.check("01.1", None, model=model)
    h.exercises.check("01.1", float(h.exact_loss(model, lambda z: (z - 1) ** 2)), model=model)
    h.exercises.check("01.1", 0.0, model=model)
    h.exercises.check("01.1", "a word", model=model)
    assert capsys.readouterr().out.splitlines() == [
        "Exercise 1: not answered yet",
        "Exercise 1: correct",
        "Exercise 1: not yet",
        "Exercise 1: not yet",
    ]
    with pytest.raises(ValueError, match="unknown exercise '09.1'"):
        h.exercises.check("09.1", 1.0)
