"""The dependence between the coordinates of the conditional Gumbel draws (REBAR's, RELAX's
and Gumbel-Rao's zeta~).

tests/test_beyond_baselines.py checks each coordinate's law given the argmax. A sampler can
get every coordinate right and their dependence wrong; REBAR's control variate reads all K
coordinates of one draw together (its relaxed sample), so it needs the joint law. These tests
compare the law of every pairwise difference with rejection sampling's: a necessary condition
for the joint law, not a proof of it, but one that the two wrong samplers below fail.
Reference: rejection sampling, zeta = log p + G kept where argmax zeta = s.
"""

import itertools

from helpers.estimators import conditional_gumbel

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

LOG_P = np.log(np.array([0.5, 0.25, 0.15, 0.07, 0.03]))
COUNT = 4000  # draws per category s, for each sampler


def helpers_draws(log_p, s, count, seed):
    v = np.random.default_rng(seed).uniform(np.finfo(np.float64).tiny, 1, (count, log_p.size))
    one_hot = np.zeros((count, log_p.size))
    one_hot[:, s] = 1
    return conditional_gumbel(tf.constant(log_p), tf.constant(one_hot), tf.constant(v)).numpy()


def rejection_draws(log_p, s, count, seed):
    rng, kept = np.random.default_rng(seed), []
    while sum(len(zeta) for zeta in kept) < count:
        zeta = log_p + rng.gumbel(size=(200_000, log_p.size))
        kept.append(zeta[np.argmax(zeta, axis=1) == s])
    return np.concatenate(kept)[:count]


def right_marginals_wrong_joint(log_p, s, count, seed):
    """Each coordinate truncated below its own copy of the maximum: every marginal is right
    (the copies have the maximum's law), the dependence between coordinates is not."""
    rng = np.random.default_rng(seed)
    e, e_max = rng.exponential(size=(2, count, log_p.size))
    zeta = -np.log(e / np.exp(log_p) + e_max)
    zeta[:, s] = -np.log(e_max[:, s])
    return zeta


def shared_exponential(log_p, s, count, seed):
    """The maximum drawn right, and every other coordinate truncated below it with one
    exponential shared between them: each marginal is right and s stays on top (a
    per-coordinate test and an argmax check both pass), but the others move together."""
    rng = np.random.default_rng(seed)
    e_max, e_shared = rng.exponential(size=(2, count, 1))
    zeta = -np.log(e_shared / np.exp(log_p) + e_max)
    zeta[:, s] = -np.log(e_max[:, 0])
    return zeta


def features(zeta, s):
    """Differences that carry the dependence: zeta_i - zeta_s for i != s, zeta_i - zeta_j, i < j."""
    K = zeta.shape[1]
    gaps = [zeta[:, i] - zeta[:, s] for i in range(K) if i != s]
    return gaps + [zeta[:, i] - zeta[:, j] for i, j in itertools.combinations(range(K), 2)]


def worst_p(sampler):
    """The smallest two-sample KS p-value over every category s and feature."""
    pvalues = []
    for s in range(LOG_P.size):
        reference = features(rejection_draws(LOG_P, s, COUNT, seed=10 + s), s)
        draws = features(sampler(LOG_P, s, COUNT, 20 + s), s)
        pvalues += [stats.ks_2samp(x, y).pvalue for x, y in zip(draws, reference, strict=True)]
    return min(pvalues), len(pvalues)


def test_conditional_gumbel_matches_rejection_sampling_on_every_pairwise_difference():
    worst, tests = worst_p(helpers_draws)
    # Bonferroni over every (s, feature) pair: family-wise false-alarm rate 1e-3.
    assert worst > 1e-3 / tests, worst


@pytest.mark.parametrize("sampler", [right_marginals_wrong_joint, shared_exponential])
def test_the_difference_test_rejects_right_marginals_with_the_wrong_joint(sampler):
    # Its power: a sampler that passes a per-coordinate test fails this one.
    worst, tests = worst_p(sampler)
    assert worst < 1e-3 / tests, worst
    for s in range(LOG_P.size):  # and its marginals are right, as the docstrings say
        draws = sampler(LOG_P, s, COUNT, 30 + s)
        reference = rejection_draws(LOG_P, s, COUNT, seed=40 + s)
        for i in range(LOG_P.size):
            assert stats.ks_2samp(draws[:, i], reference[:, i]).pvalue > 1e-3 / LOG_P.size**2


def test_the_shared_exponential_keeps_the_maximum_on_top():
    # So an argmax check, like the marginal test, cannot tell it from the right law.
    for s in range(LOG_P.size):
        assert np.all(np.argmax(shared_exponential(LOG_P, s, COUNT, 50 + s), axis=1) == s)
