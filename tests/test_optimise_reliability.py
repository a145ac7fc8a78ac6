"""optimise, RELAX and the trace cache on a user's inputs: right numbers or a clear error."""

import itertools
import sys
import time

import helpers as h

import numpy as np
import pytest
import tensorflow as tf

FLOAT32_TAU = r"tau must be a positive finite number representable in float32 \(1.18e-38 < tau"


def test_relax_gradients_checks_tau_against_the_model_dtype():
    # gradient_samples refuses tau = 1e-40 in float32 (a subnormal: z / tau overflows);
    # relax_gradients returned NaN gradients instead.
    model = h.make_model(3, 4, dtype="float32")
    with pytest.raises(ValueError, match=FLOAT32_TAU):
        h.gradient_samples(model, "relax", 4, tau=1e-40)
    with pytest.raises(ValueError, match=FLOAT32_TAU):
        h.relax_gradients(model, 4, tau=1e-40)


@pytest.mark.parametrize(
    "change,message",
    [
        (
            dict(log_tau=np.array(-200.0)),
            r"the RELAX state's tau = exp\(log_tau\) must be a positive finite number represen",
        ),
        (dict(eta=np.array(1e39)), r"RELAX state 'eta' must be finite and representable in fl"),
        (dict(w2=np.full(8, 1e300)), r"RELAX state 'w2' must be finite and representable in fl"),
    ],
)
def test_a_relax_state_is_checked_against_the_model_dtype(change, message):
    # exp(-200) and 1e39 are 0 and inf in float32: every gradient was NaN.
    model = h.make_model(3, 4, dtype="float32")
    state = {**h.relax_state(4), **change}
    with pytest.raises(ValueError, match=message):
        h.relax_gradients(model, 4, state=state)
    with pytest.raises(ValueError, match=message):
        h.gradient_samples(model, "relax", 4, state=state)
    h.relax_gradients(h.make_model(3, 4), 4, state=state)  # float64 holds them all


def test_a_state_learned_by_optimise_is_refused_with_how_to_pass_one_run():
    model = h.make_model(3, 4)
    learned = h.optimise(model, "relax", steps=2, n_runs=2)["state"]
    with pytest.raises(ValueError, match=r"one run's psi .*eta of shape \(2,\)") as error:
        h.gradient_samples(model, "relax", 4, state=learned)
    assert "-1" not in str(error.value)
    one_run = {name: value[1] for name, value in learned.items()}
    assert np.isfinite(h.gradient_samples(model, "relax", 4, state=one_run)["logits"]).all()


def test_adam_takes_a_python_float_learning_rate():
    params, grads = {"a": tf.constant([1.0, -2.0])}, {"a": tf.constant([0.5, -3.0])}
    moments = h.adam.zero_moments(params)
    as_float, _ = h.adam.adam(params, grads, moments, 0, 0.1)
    as_tensor, _ = h.adam.adam(params, grads, moments, 0, tf.constant(0.1))
    np.testing.assert_array_equal(as_float["a"], as_tensor["a"])
    np.testing.assert_allclose(as_float["a"], [0.9, -1.9], rtol=1e-6)  # first step: -0.1 sign


def test_a_python_float_learning_rate_keeps_float64_precision():
    # Adam's first step moves each parameter by lr * g / (|g| + 1e-8): 0.1 in float64, not
    # 0.1 rounded to float32 (0.10000000149...), which is off by 1.5e-9.
    params = {"a": tf.constant([1.0, -2.0], tf.float64)}
    grads = {"a": tf.constant([0.5, -3.0], tf.float64)}
    new, _ = h.adam.adam(params, grads, h.adam.zero_moments(params), 0, 0.1)
    expected = np.array([1.0, -2.0]) - 0.1 * np.array([0.5, -3.0]) / (np.array([0.5, 3.0]) + 1e-8)
    np.testing.assert_allclose(new["a"], expected, rtol=1e-15, atol=0)


class NoExact:
    """A problem with everything the estimators need, but no exact objective."""

    latents, dtype = 1, tf.float64

    def logits(self, params):
        return params["logits"][..., None, :]

    def noise(self, seed, shape):
        return tf.zeros(shape, tf.float64)

    def objective(self, params, s, noise):
        return tf.reduce_sum(s * tf.range(3, dtype=tf.float64), axis=-1)


def test_optimise_problem_needs_an_exact_method_and_says_so():
    params = {"logits": tf.zeros(3, tf.float64)}
    with pytest.raises(ValueError, match="the problem needs an exact method; NoExact has none"):
        h.optimise_problem(NoExact(), params, "score_function", steps=2)


LONG = [0.5] * 10**6


def far_from_long(z):
    return tf.square(z - LONG[0])


def test_a_long_global_list_is_not_compared_item_by_item_and_never_stale():
    # Comparing a million floats at every call took about 2 s: a container longer than
    # MAX_ITEMS makes f unshared (traced afresh) instead, which is never stale.
    start = time.perf_counter()
    h.tracing.traceable(far_from_long)
    assert time.perf_counter() - start < 0.2  # was about 2 s
    model = h.make_model(3, 4)
    LONG[0] = 3.0
    first = h.exact_gradient(model, far_from_long)["A"]
    np.testing.assert_array_equal(first, h.exact_gradient(model, lambda z: tf.square(z - 3.0))["A"])
    LONG[0] = -1.0
    np.testing.assert_array_equal(
        h.exact_gradient(model, far_from_long)["A"],
        h.exact_gradient(model, lambda z: tf.square(z + 1.0))["A"],
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak memory is read on Linux")
def test_the_optimal_baseline_in_optimise_is_summed_in_chunks():
    # K = 2**20 categories with 16 quadrature nodes each: every (runs, K, 16) float64 tensor
    # of a one-pass sum is 256 MiB and the pass holds several (about 1 GiB measured); in
    # chunks of 2**20 values each is 16 MiB (about 290 MiB measured in all, most of it the
    # step's (runs, K) tensors, which a leave-one-out step also holds: 110 to 170 MiB).
    model = h.make_model(2, 2**20, seed=1)
    options = dict(steps=1, n_runs=2, baseline="optimal", pathwise_z=False)
    h.optimise(model, "score_function", **options)  # traced once: measure the run itself
    peak = h.memory.peak_bytes(lambda: h.optimise(model, "score_function", **options))
    assert peak < 600 * 2**20


def _log_q(theta, shapes, x, s, z, latents, buckets, score_z):
    """log p(s) + log N(z; mu_s, sigma_s) (log p(s) alone without score_z) written from the
    model's definition (float64)."""
    sizes = np.cumsum([int(np.prod(shape)) for shape in shapes.values()])[:-1]
    values = np.split(theta, sizes)
    params = {
        name: v.reshape(shape) for (name, shape), v in zip(shapes.items(), values, strict=True)
    }
    logits = params["logits"].reshape(latents, buckets)
    log_p = sum(logits[i, k] - np.log(np.exp(logits[i]).sum()) for i, k in enumerate(s))
    if not score_z:
        return log_p + 0 * z
    x_s = np.concatenate([x, *(np.eye(buckets)[k] for k in s)])
    mu = 1 / (1 + np.exp(-(x_s @ params["A"] + params["B"])))
    sigma = np.exp(x_s @ params["C"] + params["D"])
    return log_p - 0.5 * ((z - mu) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)


def _optimal_baseline(model, f, score_z):
    """E[f |g|^2] / E[|g|^2], g the score of (s, z) in every parameter (of s alone without
    score_z): every s, 40
    Gauss-Hermite nodes over eps (exact for polynomials of degree 79), g by central
    differences of log q at fixed z."""
    params = {name: np.asarray(value, dtype=np.float64) for name, value in model.values().items()}
    shapes = {name: value.shape for name, value in params.items()}
    theta = np.concatenate([value.ravel() for value in params.values()])
    x, latents, buckets = np.asarray(model.x), model.latents, model.buckets
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    weights = weights / weights.sum()
    numerator = denominator = 0.0
    for s in itertools.product(range(buckets), repeat=latents):
        x_s = np.concatenate([x, *(np.eye(buckets)[k] for k in s)])
        logits = params["logits"].reshape(latents, buckets)
        p = np.prod([np.exp(logits[i, k]) / np.exp(logits[i]).sum() for i, k in enumerate(s)])
        mu = 1 / (1 + np.exp(-(x_s @ params["A"] + params["B"])))
        z = mu + np.exp(x_s @ params["C"] + params["D"]) * nodes

        def log_q(shifted, s=s, z=z):
            return _log_q(shifted, shapes, x, s, z, latents, buckets, score_z)

        step = 1e-6
        score = np.stack(
            [
                (log_q(theta + step * e) - log_q(theta - step * e)) / (2 * step)
                for e in np.eye(len(theta))
            ]
        )
        norm = np.sum(score**2, axis=0)
        numerator += p * np.sum(weights * f(z) * norm)
        denominator += p * np.sum(weights * norm)
    return numerator / denominator


@pytest.mark.parametrize("latents", [1, 2])
def test_the_optimal_baseline_matches_an_independent_enumeration(latents):
    # The helper uses a closed-form |g|^2 and 16 nodes (exact for f = z^2, degree 6);
    # this is numerical differentiation and 40 nodes: they agree to the differences'
    # error (about 1e-9). Dropping one term of |g|^2 moves the baseline by about 2%.
    model = h.make_model(3, 3, seed=4, latents=latents)
    problem = model.problem(h.square)
    got = h.estimators.optimal_baseline_at(problem, model.params, False)
    assert got == pytest.approx(_optimal_baseline(model, np.square, True), rel=1e-7)
    pathwise = h.estimators.optimal_baseline_at(problem, model.params, True)
    assert pathwise == pytest.approx(_optimal_baseline(model, np.square, False), rel=1e-7)
    assert abs(pathwise - got) > 1e-3 * abs(got)  # scoring z does change it
