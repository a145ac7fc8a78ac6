"""Code that is not the helpers' own keeps AutoGraph: a Python `if` on a tensor still works.

The helpers trace their own estimators and problems without AutoGraph (converting the code took
most of a trace's time); a registered estimator or a problem class of yours may branch in Python
on a tensor, which only AutoGraph turns into graph control flow, so its traces keep it. Each
test gives the same numbers as the helpers' own code, through gradient_samples and optimise.
"""

import dataclasses

import helpers as h

import numpy as np
import pytest
import tensorflow as tf
from support import PARAMS, Toy


def test_a_registered_estimator_may_branch_on_a_tensor(monkeypatch):
    def branching(problem, params, noise, **options):
        values = h.score_function(problem, params, noise, **options)
        if tf.reduce_all(tf.math.is_finite(values)):  # a tensor as a Python bool
            return values
        return tf.zeros_like(values)

    model = h.make_model(dim=2, buckets=3, seed=1)
    monkeypatch.setitem(h.ESTIMATORS, "branching", None)  # removed again after the test
    known = h.ESTIMATORS["score_function"]
    h.estimators.register(dataclasses.replace(known, name="branching", surrogate=branching))
    got = h.gradient_samples(model, "branching", 300, 2, seed=3, baseline="loo")
    want = h.gradient_samples(model, "score_function", 300, 2, seed=3, baseline="loo")
    for name in want:
        np.testing.assert_array_equal(got[name], want[name])
    got = h.optimise(model, "branching", steps=3, n_runs=2)["loss"]
    np.testing.assert_array_equal(
        got, h.optimise(model, "score_function", steps=3, n_runs=2)["loss"]
    )


class BranchingToy(Toy):
    """Toy, whose objective branches in Python on a tensor (always the same branch)."""

    def objective(self, params, s, noise):
        if tf.reduce_any(s < 0):  # never: one-hots and relaxed samples are not negative
            return tf.zeros_like(noise)
        return super().objective(params, s, noise)


def test_a_problem_of_yours_may_branch_on_a_tensor():
    for estimator in ("score_function", "gumbel_softmax"):
        got = h.problem_gradient_samples(BranchingToy(), PARAMS, estimator, 50, 2, seed=4)
        want = h.problem_gradient_samples(Toy(), PARAMS, estimator, 50, 2, seed=4)
        for name in want:
            np.testing.assert_array_equal(got[name], want[name])
    got = h.optimise_problem(BranchingToy(), PARAMS, "score_function", steps=3, n_runs=2)
    want = h.optimise_problem(Toy(), PARAMS, "score_function", steps=3, n_runs=2)
    np.testing.assert_array_equal(got["loss"], want["loss"])


def test_an_objective_must_trace_without_autograph_wherever_it_enters():
    # The traces run f without AutoGraph, so a Python `if` on a tensor is refused up front,
    # by gradient_samples and by model.problem (whose problem problem_gradient_samples takes).
    def branching(z):
        return z if tf.reduce_all(z > 0) else -z

    model = h.make_model(dim=2, buckets=3, seed=1)
    message = "f failed when traced into a graph, on a tensor of shape"
    with pytest.raises(ValueError, match=message):
        h.gradient_samples(model, "score_function", 5, f=branching)
    with pytest.raises(ValueError, match=message):
        model.problem(branching)
