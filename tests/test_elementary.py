"""The elementary estimator: unbiased, deterministic, batched correctly, fast."""

import time

import helpers as h

import numpy as np
import pytest
import tensorflow as tf
from support import ALPHA, assert_unbiased, randomize, total_variance_and_error

CASES = [
    (dict(dim=10, buckets=5, seed=0), "square", h.square),
    (dict(dim=1, buckets=2, seed=1), "cos", tf.cos),
    (dict(dim=4, buckets=32, seed=2), "shifted", lambda z: (z - 0.7) ** 2 + tf.sin(3 * z)),
]


@pytest.mark.parametrize("sizes,f_name,f", CASES, ids=[c[1] for c in CASES])
def test_elementary_is_unbiased(sizes, f_name, f):
    model = h.make_model(**sizes)
    grads = h.gradient_samples(model, "elementary", 20_000, seed=5, f=f)
    assert_unbiased(grads, h.exact_gradient(model, f))


def test_unbiasedness_check_detects_a_lost_logits_gradient(model):
    # The original notebook's bug: p computed outside the tape, so d/dlogits = 0.
    grads = h.gradient_samples(model, "elementary", 20_000, seed=6)
    grads["logits"] = np.zeros_like(grads["logits"])
    with pytest.warns(h.stats.ZeroSpreadWarning, match="deterministic and biased"):
        worst, bound = h.stats.unbiasedness(grads, h.exact_gradient(model), ALPHA)
    assert worst > bound


def test_more_samples_per_replicate_cut_the_variance(model):
    # Averaging n independent draws divides the variance by n. The ratio of the
    # two estimated total variances has a standard error from the delta method;
    # 5 of them bound a two-sided false alarm below 1e-6, and draws reused
    # instead of independent would leave the ratio near 1, far outside.
    one, se_one = total_variance_and_error(h.gradient_samples(model, "elementary", 20_000, 1, 7))
    four, se_four = total_variance_and_error(h.gradient_samples(model, "elementary", 20_000, 4, 8))
    ratio = one / four
    se_ratio = ratio * np.hypot(se_one / one, se_four / four)
    assert abs(ratio - 4) < 5 * se_ratio, f"ratio {ratio:.3f} +- {se_ratio:.3f}"


def test_batched_gradients_equal_one_tape_per_replicate(model):
    noise = h.noise_for(model, "elementary", n_replicates=3, n_samples=2, seed=9)
    batched = h.gradient_samples(model, "elementary", 3, n_samples=2, seed=9)
    for r in range(3):
        with tf.GradientTape() as tape:
            loss = h.estimators.elementary(
                model.problem(h.square),
                {k: v[None] for k, v in model.params.items()},
                {"eps": noise["eps"][r : r + 1]},
            )
        one = tape.gradient(loss, model.params)
        for name in model.params:
            np.testing.assert_allclose(batched[name][r], one[name].numpy(), rtol=1e-12)


def test_same_seed_same_numbers_other_seed_other_numbers(model):
    a = h.gradient_samples(model, "elementary", 50, n_samples=3, seed=1)
    b = h.gradient_samples(model, h.estimators.elementary, 50, n_samples=3, seed=1)
    c = h.gradient_samples(model, "elementary", 50, n_samples=3, seed=2)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
        assert not np.array_equal(a[name], c[name])


def test_shapes_and_dtypes():
    model = h.make_model(dim=2, buckets=3, dtype="float32")
    grads = h.gradient_samples(model, "elementary", 7, n_samples=2)
    assert list(grads) == list(h.PARAM_NAMES)
    for name, value in grads.items():
        assert value.shape == (7, *model.params[name].shape)
        assert value.dtype == np.float32
        assert np.all(np.isfinite(value))


def test_parameters_set_from_numpy_are_used(model):
    before = h.gradient_samples(model, "elementary", 5, seed=3)
    randomize(model, seed=4)
    after = h.gradient_samples(model, "elementary", 5, seed=3)
    assert not np.array_equal(before["A"], after["A"])


@pytest.mark.slow
def test_hundred_thousand_replicates_well_under_a_second():
    model = h.make_model()
    h.gradient_samples(model, "elementary", 100_000)  # trace once
    start = time.perf_counter()
    h.gradient_samples(model, "elementary", 100_000, seed=1)
    elapsed = time.perf_counter() - start
    # One eager tape per replicate costs ~5 ms, i.e. ~500 s for this call.
    assert elapsed < 1.0, f"100,000 replicates took {elapsed:.2f} s"


@pytest.mark.slow
def test_at_least_1000_times_faster_than_one_tape_per_replicate():
    from replicates import per_replicate_seconds

    loop, batched = per_replicate_seconds(h.make_model(), loop_replicates=100)
    assert loop / batched > 1000, f"only {loop / batched:.0f}x faster"
