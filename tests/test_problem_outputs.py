"""A user's own problem: what its methods return is checked against the Problem protocol
(a clear ValueError naming what was expected and what came back), and an objective that
ignores an argument gets the right numbers."""

import helpers as h

import numpy as np
import pytest
import tensorflow as tf
from support import PARAMS, T, Toy


class IgnoresNoise(Toy):
    def objective(self, params, s, noise):  # allowed: the docstring says noise may be ignored
        return tf.reduce_sum(s * T, axis=[-2, -1])


class KeepsAnAxis(Toy):
    def objective(self, params, s, noise):  # (..., 1): would broadcast replicates together
        return tf.reduce_sum(s * T, axis=-1) + noise[..., None]


class NoLatentAxis(Toy):
    def logits(self, params):  # (..., K) for one latent: every replicate would be the same
        return params["logits"]


class WrongDtype(Toy):
    def objective(self, params, s, noise):
        return tf.cast(super().objective(params, s, noise), tf.float32)


class Stateful(Toy):
    def noise(self, seed, shape):  # ignores the seed: not reproducible
        return tf.random.normal(shape, dtype=tf.float64)


def exact():
    p = tf.nn.softmax(PARAMS["logits"]).numpy()
    return p * (T.numpy() - p @ T.numpy())  # d/dlogits of sum_k p_k T_k


@pytest.mark.parametrize("estimator,n_samples", [("elementary", 1), ("unordered_set", 2)])
def test_an_objective_that_ignores_its_noise_gets_the_right_gradient(estimator, n_samples):
    grads = h.problem_gradient_samples(IgnoresNoise(), PARAMS, estimator, 4000, n_samples)
    with_noise = h.problem_gradient_samples(Toy(), PARAMS, estimator, 4000, n_samples)
    np.testing.assert_array_equal(grads["logits"], with_noise["logits"])  # zero noise: the same
    mean, se = grads["logits"].mean(0), grads["logits"].std(0) / np.sqrt(4000)
    # elementary is exact here (no noise); unordered_set is unbiased: within 5 standard
    # errors (a false alarm has probability below 1e-5 per coordinate, CLT).
    assert np.all(np.abs(mean - exact()) <= 5 * se + 1e-12)


@pytest.mark.parametrize("estimator", ["score_function", "indecater", "rebar", "elementary"])
def test_an_objective_that_keeps_an_axis_is_refused(estimator):
    with pytest.raises(ValueError, match=r"KeepsAnAxis.objective must return a float64 tensor"):
        h.problem_gradient_samples(KeepsAnAxis(), PARAMS, estimator, 10)


def test_logits_without_the_latent_axis_are_refused_at_the_call():
    with pytest.raises(ValueError) as error:
        h.problem_gradient_samples(NoLatentAxis(), PARAMS, "score_function", 10)
    message = str(error.value)
    assert message.startswith("NoLatentAxis.logits must return a float64 tensor of shape (1, None)")
    assert message.endswith("got (3,) float64")


def test_an_objective_of_another_dtype_is_refused():
    with pytest.raises(ValueError, match=r"WrongDtype.objective must return a float64 .* float32"):
        h.problem_gradient_samples(WrongDtype(), PARAMS, "score_function", 10)


def test_the_dtype_may_be_a_name_or_a_numpy_type_and_latents_a_numpy_integer():
    expected = h.problem_gradient_samples(Toy(), PARAMS, "score_function", 10, seed=3)
    for dtype, latents in [("float64", np.int64(1)), (np.float64, 1)]:
        problem = Toy()
        problem.dtype, problem.latents = dtype, latents
        got = h.problem_gradient_samples(problem, PARAMS, "score_function", 10, seed=3)
        np.testing.assert_array_equal(got["logits"], expected["logits"])


def test_a_dtype_or_latents_that_is_not_allowed_is_named():
    problem = Toy()
    problem.dtype = "int32"
    with pytest.raises(ValueError, match=r"^Toy.dtype must be float32 or float64, got 'int32'$"):
        h.problem_gradient_samples(problem, PARAMS, "score_function", 10)
    problem = Toy()
    problem.latents = 1.0
    with pytest.raises(ValueError, match=r"^Toy.latents must be an integer >= 1, got 1.0"):
        h.problem_gradient_samples(problem, PARAMS, "score_function", 10)


def test_pathwise_z_false_needs_a_scored_objective():
    with pytest.raises(ValueError, match=r"pathwise_z=False .* Toy has none: use pathwise_z=True"):
        h.problem_gradient_samples(Toy(), PARAMS, "score_function", 10, pathwise_z=False)


def test_a_noise_that_is_not_stateless_is_refused():
    with pytest.raises(ValueError, match=r"^Stateful.noise\(seed, shape\) must be stateless"):
        h.problem_gradient_samples(Stateful(), PARAMS, "score_function", 10)
