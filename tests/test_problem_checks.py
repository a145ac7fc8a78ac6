"""A user's own problem is checked the same way by every public entry (optimise_problem as
problem_gradient_samples), the shape of what its methods return is checked when they run
as well as when they are traced, and params in another form get a clear message."""

import helpers as h

import numpy as np
import pytest
import tensorflow as tf
from support import PARAMS, T, Toy


class KeepsAnAxis(Toy):
    def objective(self, params, s, noise):  # (..., 1): would mix the runs
        return tf.reduce_sum(s * T, axis=-1) + noise[..., None]


class Stateful(Toy):
    def noise(self, seed, shape):
        return tf.random.normal(shape, dtype=tf.float64)


class NamedDtype(Toy):
    dtype = "float64"


class NumpyDtype(Toy):
    dtype = np.float64


class AveragesSamples(Toy):
    def objective(self, params, s, noise):  # (R,) instead of (R, N)
        return tf.reduce_mean(super().objective(params, s, noise), axis=-1)


class Transposed(Toy):
    def objective(self, params, s, noise):  # (N, R) instead of (R, N)
        return tf.transpose(super().objective(params, s, noise))


class OneChangedWithoutChanges(Toy):
    def objective_one_changed(self, params, s, noise):  # (R, N) instead of (R, N, n, K)
        return tf.zeros(tf.shape(s)[:-2], tf.float64)


class NoDtype:
    latents = 1

    def logits(self, params):
        return params["logits"][..., None, :]


def optimise(problem, **options):
    return h.optimise_problem(problem, PARAMS, "score_function", steps=5, n_runs=3, **options)


def test_optimise_problem_refuses_an_objective_that_would_mix_the_runs():
    with pytest.raises(ValueError, match=r"KeepsAnAxis.objective must return a float64 tensor"):
        optimise(KeepsAnAxis())


@pytest.mark.parametrize("problem", [NamedDtype(), NumpyDtype()])
def test_optimise_problem_takes_a_dtype_by_name_or_numpy_type(problem):
    np.testing.assert_array_equal(optimise(problem)["loss"], optimise(Toy())["loss"])


def test_optimise_problem_refuses_stateful_noise():
    with pytest.raises(ValueError, match=r"Stateful.noise\(seed, shape\) must be stateless"):
        optimise(Stateful())


def test_optimise_problem_asks_for_scored_objective_with_pathwise_z_false():
    with pytest.raises(ValueError, match=r"needs the problem's scored_objective.*Toy has none"):
        optimise(Toy(), pathwise_z=False)


@pytest.mark.parametrize("n_replicates,n_samples", [(4, 4), (1, 3), (5, 2)])
def test_an_objective_averaged_over_the_samples_is_refused(n_replicates, n_samples):
    # (R,) broadcasts against (R, N) when R = N or R = 1: refused by its rank, at any size
    with pytest.raises(ValueError, match=r"AveragesSamples.objective must return"):
        h.problem_gradient_samples(
            AveragesSamples(), PARAMS, "score_function", n_replicates, n_samples
        )


def test_a_transposed_objective_is_refused_when_it_runs():
    # (N, R) has the rank of (R, N): only the sizes, known when it runs, tell them apart
    with pytest.raises(ValueError) as error:
        h.problem_gradient_samples(Transposed(), PARAMS, "score_function", 10, 2)
    message = str(error.value)
    assert "Transposed.objective must return a tensor of shape (10, 2)" in message
    assert "got shape (2, 10)" in message


def test_objective_one_changed_without_its_n_k_axes_is_refused():
    with pytest.raises(ValueError, match=r"OneChangedWithoutChanges.objective_one_changed must"):
        h.problem_gradient_samples(OneChangedWithoutChanges(), PARAMS, "indecater", 4)


def test_numpy_params_give_the_numbers_of_tensors():
    as_numpy = {"logits": PARAMS["logits"].numpy()}
    grads = h.problem_gradient_samples(Toy(), as_numpy, "score_function", 20, seed=3)
    expected = h.problem_gradient_samples(Toy(), PARAMS, "score_function", 20, seed=3)
    np.testing.assert_array_equal(grads["logits"], expected["logits"])
    losses = h.optimise_problem(Toy(), as_numpy, "score_function", steps=3, n_runs=2)["loss"]
    expected = h.optimise_problem(Toy(), PARAMS, "score_function", steps=3, n_runs=2)["loss"]
    np.testing.assert_array_equal(losses, expected)


@pytest.mark.parametrize(
    "value,got",
    [
        ([0.3, -0.1, 0.4], "got list"),
        (0.5, "got float"),
        (tf.constant([0.3, -0.1, 0.4], tf.float32), "got a float32 tensor"),
    ],
)
@pytest.mark.parametrize("entry", ["problem_gradient_samples", "optimise_problem"])
def test_params_in_another_form_are_refused_by_name(value, got, entry):
    with pytest.raises(ValueError) as error:
        getattr(h, entry)(Toy(), {"logits": value}, "score_function", 3)
    message = str(error.value)
    assert message.startswith("params['logits'] must be one of tensors of the problem's dtype")
    assert "(float64) or numpy arrays" in message and message.endswith(got)


def test_a_problem_without_a_dtype_is_refused_by_name():
    with pytest.raises(ValueError, match=r"NoDtype needs a `dtype` attribute"):
        h.problem_gradient_samples(NoDtype(), PARAMS, "score_function", 3)


class Table(Toy):  # objective_all as the K values alone: its (R, N) axes left out
    def objective_all(self, params, noise):
        return T


class LongTable(Toy):
    def objective_all(self, params, noise):
        return tf.broadcast_to(tf.concat([T, T[:1]], 0), tf.concat([tf.shape(noise)[:2], [4]], 0))


@pytest.mark.parametrize("problem", [Table(), LongTable()], ids=["no (R, N) axes", "K + 1"])
def test_objective_all_needs_all_its_axes_and_k_values(problem):
    name = type(problem).__name__
    with pytest.raises(ValueError, match=f"{name}.objective_all must return .*all its axes"):
        h.problem_gradient_samples(problem, PARAMS, "elementary", 5, 2)


class FlatLogits(Toy):  # the replicate axis folded away: replicates would share one draw
    def logits(self, params):
        return tf.reshape(params["logits"], [-1, 1, 3])


def test_logits_that_lose_the_replicate_axis_are_refused():
    with pytest.raises(ValueError, match="FlatLogits.logits must return"):
        h.problem_gradient_samples(FlatLogits(), PARAMS, "score_function", 5, 2)


class OnlyTheta(Toy):  # ignores s and noise: shape (R, 1) from params alone
    def objective(self, params, s, noise):
        return 2.0 * params["a"] + 0.0 * tf.reduce_sum(params["logits"], -1)


def test_an_objective_of_theta_alone_gets_its_gradient_exactly_with_loo():
    # Every sample has the same value, so the leave-one-out baseline cancels it exactly:
    # the logits' gradient is 0 and a's is 2 in every replicate (no NaN from 0 / 0).
    params = {**PARAMS, "a": tf.constant(1.5, tf.float64)}
    g = h.problem_gradient_samples(OnlyTheta(), params, "score_function", 4, 3, baseline="loo")
    np.testing.assert_array_equal(g["a"], 2.0)
    np.testing.assert_allclose(g["logits"], 0.0, atol=1e-12)


def test_sum_and_sample_counts_its_top_one_hots_in_what_one_estimate_needs():
    # K (N + top) values: with N = 2, top = 1 and K = 2**23 that is past the 2**24 limit,
    # which K N alone would just meet.
    params = {"logits": tf.zeros([2**23], tf.float64)}
    with pytest.raises(ValueError, match="one estimate needs 25,165,824 "):
        h.problem_gradient_samples(Toy(), params, "sum_and_sample", 1, 2, top=1)
