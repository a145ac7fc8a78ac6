"""Notebook 10's nine contestants, trained once and read back by notebook 11 (helpers.vae)."""

import time

import helpers as h

import numpy as np
import pytest

ARCH = h.vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
X = (np.random.default_rng(0).random((60, 4)) < 0.5).astype(float)
FIT, VALIDATION = X[:40], X[40:]
ONE = {"IndeCateR": h.vae.contestants(6)["IndeCateR"]}


def equal(a, b):
    return all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a) and set(a) == set(b)


def test_trained_weights_reads_back_what_training_saved_without_training_again(tmp_path, capsys):
    path = tmp_path / "trained.npz"
    begin = time.perf_counter()
    runs, _ = h.vae.train_until_settled(ONE, FIT, VALIDATION, ARCH, (0, 1), save=path)
    training = time.perf_counter() - begin
    begin = time.perf_counter()
    first, final = h.vae.trained_weights(path, ONE, FIT, VALIDATION, ARCH, (0, 1))
    assert time.perf_counter() - begin < training / 5  # read, not trained again
    assert capsys.readouterr().out.startswith(f"read {path}")
    assert equal(final["IndeCateR"], runs["IndeCateR"].weights)
    assert equal(first["IndeCateR"], runs["IndeCateR"].checkpoints[0])
    assert final["IndeCateR"]["enc_w1"].shape[:2] == (2, 1)  # (seeds, one rate, ...)


def test_a_missing_file_or_another_trainings_file_is_trained_again_and_rewritten(tmp_path, capsys):
    path = tmp_path / "trained.npz"
    _, final = h.vae.trained_weights(path, ONE, FIT, VALIDATION, ARCH, (0, 1))  # missing
    assert path.exists() and "training again" in capsys.readouterr().out
    runs, _ = h.vae.train_until_settled(ONE, FIT, VALIDATION, ARCH, (3,))
    _, other = h.vae.trained_weights(path, ONE, FIT, VALIDATION, ARCH, (3,))  # other seeds
    assert equal(other["IndeCateR"], runs["IndeCateR"].weights)
    assert not np.array_equal(other["IndeCateR"]["enc_w1"][0], final["IndeCateR"]["enc_w1"][0])
    _, again = h.vae.trained_weights(path, ONE, FIT, VALIDATION, ARCH, (3,))  # rewritten
    assert equal(again["IndeCateR"], other["IndeCateR"])
    path.write_text("not an npz file")  # unreadable: trained again, not an error
    _, read = h.vae.trained_weights(path, ONE, FIT, VALIDATION, ARCH, (3,))
    assert equal(read["IndeCateR"], other["IndeCateR"])


def test_the_nine_are_the_rated_ones_within_the_budget():
    nine = h.vae.contestants(32)
    assert list(nine) == list(h.vae.RATES) and len(nine) == 9
    assert {c.samples for c in nine.values()} == {32, 1, 10}  # REBAR, RELAX: 3 passes each
    with pytest.raises(ValueError, match="budget"):
        h.vae.contestants(2)


def test_a_contestant_without_a_rate_is_refused_by_name():
    unrated = {"my estimator": h.Contestant("score_function", samples=4)}
    with pytest.raises(ValueError, match="no learning rate for \\['my estimator'\\]"):
        h.vae.train_until_settled(unrated, FIT, VALIDATION, ARCH)
