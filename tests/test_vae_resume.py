"""train and train_copies continue a Run (resume=): the same numbers as one longer run."""

from helpers import vae

import numpy as np
import pytest
import tensorflow as tf

TINY = vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
RNG = np.random.default_rng(0)
TRAIN, TEST = ((RNG.uniform(size=(m, 4)) < 0.4).astype(float) for m in (40, 10))
# float64, and the same traced steps in both: a resumed run differs from the longer one
# only if it starts from another state, step number, minibatch or noise draw
SIZES = dict(n_samples=3, batch_size=8, evaluate_every=2, dtype=tf.float64)
COPIES = dict(seeds=(0, 1), learning_rates=(1e-2, 3e-2), **SIZES)


def copies(estimator, steps, **options):
    return vae.train_copies(estimator, TRAIN, TEST, TINY, steps=steps, **COPIES, **options)


def assert_same_run(resumed, whole):
    np.testing.assert_array_equal(resumed.steps, whole.steps)
    np.testing.assert_allclose(resumed.test_loss, whole.test_loss, rtol=1e-12)
    assert len(resumed.checkpoints) == len(whole.checkpoints) == len(whole.steps)
    for ours, theirs in zip(resumed.checkpoints, whole.checkpoints, strict=True):
        for name, value in theirs.items():
            np.testing.assert_allclose(ours[name], value, rtol=1e-12, atol=1e-15)
    assert np.all(np.diff(resumed.seconds) >= 0) and np.isfinite(resumed.step_seconds)


@pytest.mark.parametrize(
    "estimator, options",
    [("score_function", {"baseline": "loo"}), ("gumbel_rao", {"n_gumbel": 2}), ("relax", {})],
)
def test_a_resumed_run_is_the_longer_run(estimator, options):
    # 4 steps, then 3 more (a checkpoint at 6, off the first part's grid end): steps 0-6
    whole = copies(estimator, 7, **options)
    resumed = copies(estimator, 3, resume=copies(estimator, 4, **options), **options)
    assert_same_run(resumed, whole)
    if estimator == "relax":  # phi and its Adam moments continue too
        for name, value in whole.state.items():
            np.testing.assert_allclose(resumed.state[name], value, rtol=1e-12, atol=1e-15)


def test_a_resumed_single_run_is_the_longer_run():
    def train(steps, **options):
        return vae.train("indecater", TRAIN, TEST, TINY, steps=steps, seed=3, **SIZES, **options)

    assert_same_run(train(1, resume=train(4)), train(5))  # the first part ends on the grid
    assert np.isnan(train(1, resume=train(1)).step_seconds)  # no step timed after a first one


def test_resumed_annealing_holds_tau_at_its_end():
    start = copies("gumbel_softmax", 3, anneal_to=0.5)
    held = copies("gumbel_softmax", 2, anneal_to=0.5, resume=start)
    fixed = copies("gumbel_softmax", 2, tau=0.5, resume=start)
    other = copies("gumbel_softmax", 2, resume=start)  # tau = 1: the check can fail
    for name, value in fixed.weights.items():
        np.testing.assert_allclose(held.weights[name], value, rtol=1e-12, atol=1e-15)
    assert not np.allclose(other.weights["enc_w1"], fixed.weights["enc_w1"])


def test_a_run_that_cannot_continue_here_is_refused():
    run = copies("score_function", 2)
    with pytest.raises(ValueError, match="resume must be a Run"):
        copies("score_function", 2, resume=run.weights)
    with pytest.raises(ValueError, match="same seeds and learning_rates"):
        vae.train_copies("score_function", TRAIN, TEST, TINY, steps=2, resume=run, **SIZES)
    with pytest.raises(ValueError, match="same arch"):
        wider = vae.Architecture(latents=2, buckets=3, hidden=6, pixels=4)
        vae.train_copies("score_function", TRAIN, TEST, wider, steps=2, resume=run, **COPIES)
    with pytest.raises(ValueError, match="train's run with train"):
        single = vae.train("score_function", TRAIN, TEST, TINY, steps=2, **SIZES)
        copies("score_function", 2, resume=single)
    with pytest.raises(ValueError, match="run is in float64: pass that dtype"):
        vae.train_copies("score_function", TRAIN, TEST, TINY, steps=2, resume=run,
                         **{**COPIES, "dtype": tf.float32})  # fmt: skip
    for other in ({"seeds": (1, 0)}, {"learning_rates": (3e-2, 1e-2)}, {"batch_size": 5}):
        with pytest.raises(ValueError, match="^resume's run was trained with "):
            vae.train_copies("score_function", TRAIN, TEST, TINY, steps=2, resume=run,
                             **{**COPIES, **other})  # fmt: skip
    with pytest.raises(ValueError, match="trained with arch"):  # the same weights' shapes
        swapped = vae.Architecture(latents=3, buckets=2, hidden=5, pixels=4)
        vae.train_copies("score_function", TRAIN, TEST, swapped, steps=2, resume=run, **COPIES)
    relax = copies("relax", 2)
    with pytest.raises(ValueError, match="trained with state_learning_rate None, not 0.5"):
        copies("relax", 2, resume=relax, state_learning_rate=0.5)
    with pytest.raises(ValueError, match="RELAX resumes RELAX"):
        copies("relax", 2, resume=run)
