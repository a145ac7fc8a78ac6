"""The documented numbering of joint configurations: s_1 is the most significant digit,
so configuration c is the c-th tuple of itertools.product(range(K), repeat=n)."""

import itertools

import helpers as h

import numpy as np
import pytest
import tensorflow as tf


@pytest.mark.parametrize("latents, buckets", [(1, 3), (2, 3), (3, 2), (3, 4)])
def test_configurations_follow_itertools_product(latents, buckets):
    expected = np.array(list(itertools.product(range(buckets), repeat=latents)))
    np.testing.assert_array_equal(h.problem.configurations(latents, buckets).numpy(), expected)
    part = h.problem.configurations(latents, buckets, start=1, size=2).numpy()
    np.testing.assert_array_equal(part, expected[1:3])


def test_joint_probabilities_follow_itertools_product():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 4))
    p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    expected = [
        np.prod([p[i, k] for i, k in enumerate(c)]) for c in itertools.product(range(4), repeat=3)
    ]
    got = h.problem.joint_probs(tf.constant(logits), 3).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-13)


def test_the_model_problems_values_follow_itertools_product():
    m = h.make_model(3, 3, seed=4, latents=2)
    problem = m.problem()
    product = list(itertools.product(range(3), repeat=2))
    one_hots = tf.one_hot(product, 3, dtype=tf.float64)  # (C, n, K) in itertools order
    eps = tf.constant(np.linspace(-1, 1, len(product))[None, None])  # (1, 1, C)
    values = m.values()
    all_at_once = problem.objective_all({k: v[None] for k, v in values.items()}, eps)
    one_by_one = problem.objective(
        {k: v[None, None, None] for k, v in values.items()}, one_hots, eps
    )
    np.testing.assert_allclose(all_at_once.numpy(), one_by_one.numpy(), rtol=1e-13)
