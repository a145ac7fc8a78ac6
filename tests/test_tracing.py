"""Each estimator and option set is traced once, whatever R, N, seed or tau.

Other tests may have traced the same functions already (other dtypes, shapes),
so these tests count the traces their own calls add.
"""

import dataclasses
import functools
import os

import helpers as h
from helpers import estimators, sampling

import numpy as np
import pytest
import tensorflow as tf


def tracing_count(estimator, static=()):
    structure = h.model_problem.ModelProblem(
        f=h.square, latents=1
    )  # the problem with its tensors left out
    traced = sampling._traced(estimators.resolve(estimator), structure, static)
    return traced.experimental_get_tracing_count()


def test_new_replicate_counts_samples_seeds_and_temperatures_do_not_retrace():
    model = h.make_model(dim=6, buckets=4, seed=1)
    static = (("straight_through", False),)
    h.gradient_samples(model, "gumbel_softmax", 5, tau=0.5)
    before = tracing_count("gumbel_softmax", static)
    for i, R in enumerate([10, 1_000, 20_000]):
        for n in (1, 3):
            h.gradient_samples(model, "gumbel_softmax", R, n, seed=i, tau=0.1 * (i + 1))
    assert tracing_count("gumbel_softmax", static) == before


def test_new_model_shapes_share_one_relaxed_trace():
    for dim, buckets in [(2, 3), (3, 7)]:  # a second shape relaxes the signature
        h.gradient_samples(h.make_model(dim, buckets), "elementary", 10)
    before = tracing_count("elementary")
    for dim, buckets in [(5, 11), (8, 2), (1, 40)]:
        h.gradient_samples(h.make_model(dim, buckets), "elementary", 10)
    assert tracing_count("elementary") == before


def test_constant_baseline_values_do_not_retrace():
    model = h.make_model(dim=2, buckets=3, seed=2)
    static = (("baseline", "constant"), ("pathwise_z", True))
    h.gradient_samples(model, "score_function", 50, baseline="constant")
    before = tracing_count("score_function", static)
    for value in (0.1, 0.5, 2.0):
        h.gradient_samples(model, "score_function", 50, value=value, baseline="constant")
    assert tracing_count("score_function", static) == before


OFFSET = 0.0


def shifted(z):
    return tf.square(z - OFFSET)


def test_results_follow_the_objective_as_it_is_at_call_time():
    # A global read by f, a closure cell, a default and a callable object's attribute:
    # change each and the next call must see the new value, in every cached path.
    global OFFSET
    model = h.make_model(dim=3, buckets=4, seed=3)

    def reference(c):
        return h.exact_gradient(model, lambda z: tf.square(z - c))["logits"]

    OFFSET = 0.0
    first = h.exact_gradient(model, shifted)["logits"]
    OFFSET = 5.0
    np.testing.assert_allclose(h.exact_gradient(model, shifted)["logits"], reference(5.0))
    assert not np.allclose(first, reference(5.0))
    grads = h.gradient_samples(model, "elementary", 20_000, f=shifted)["logits"].mean(axis=0)
    assert np.allclose(grads, reference(5.0), atol=0.05 * np.abs(reference(5.0)).max())
    loss = h.optimise(model, "exact", steps=1, n_runs=1, f=shifted)["loss"][0, 0]
    assert loss == pytest.approx(float(h.exact_loss(model, shifted)))
    OFFSET = 0.0

    @dataclasses.dataclass  # unhashable (eq=True, not frozen): keyed by its attributes
    class Target:
        c: float

        def __call__(self, z):
            return tf.square(z - self.c)

    target = Target(1.0)
    h.exact_gradient(model, target)
    target.c = 2.0
    np.testing.assert_allclose(h.exact_gradient(model, target)["logits"], reference(2.0))

    class Shift:  # a callable object with an `args` list (not a functools.partial)
        def __init__(self, c):
            self.args = [c]

        def __call__(self, z):
            return tf.square(z - self.args[0])

    shift = Shift(1.0)
    h.exact_gradient(model, shift)
    shift.args[0] = 3.0
    np.testing.assert_allclose(h.exact_gradient(model, shift)["logits"], reference(3.0))

    def offset_square(z, c):
        return tf.square(z - c)

    for c in (1.0, 4.0):  # a functools.partial: keyed by its function and arguments
        partial = functools.partial(offset_square, c=c)
        np.testing.assert_allclose(h.exact_gradient(model, partial)["logits"], reference(c))

    def with_default(z, c=1.0):
        return tf.square(z - c)

    h.exact_gradient(model, with_default)
    with_default.__defaults__ = (6.0,)  # a default changed after a first call
    np.testing.assert_allclose(h.exact_gradient(model, with_default)["logits"], reference(6.0))


def test_a_list_and_a_tuple_of_equal_items_are_keyed_apart():
    model = h.make_model(dim=2, buckets=3, seed=3)

    def make(c):
        def f(z):
            return tf.square(z) * (2.0 if isinstance(c, list) else 1.0)

        return f

    as_list, as_tuple = h.exact_gradient(model, make([1.0])), h.exact_gradient(model, make((1.0,)))
    for name, value in as_list.items():
        np.testing.assert_allclose(as_tuple[name], value / 2, rtol=1e-12)


def test_state_as_deep_as_the_documented_depth_is_followed_through_a_partial():
    # traceable follows an objective _DEPTH = 4 levels down: the partial (4), its
    # function (3), the callable object in its closure (2) and the object that one holds
    # (1), whose number changes here. The next call must see it.
    model = h.make_model(dim=2, buckets=3, seed=3)

    class Scale:
        def __init__(self, c):
            self.c = c

        def __call__(self, z):
            return self.c * z

    class Outer:
        def __init__(self, inner):
            self.inner = inner

        def __call__(self, z):
            return self.inner(z)

    inner = Scale(1.0)
    outer = Outer(inner)

    def scaled_square(z, k):
        return k * outer(tf.square(z))

    objective = functools.partial(scaled_square, k=1.0)
    once = h.exact_gradient(model, objective)
    inner.c = 3.0
    thrice = h.exact_gradient(model, objective)
    for name, value in once.items():
        np.testing.assert_allclose(thrice[name], 3 * value, rtol=1e-12)

    def scale_by(c):  # a function at that level instead: its closure is followed too
        return lambda z: c * z

    for c in (5.0, 7.0):
        outer.inner = scale_by(c)
        scaled = h.exact_gradient(model, objective)
        for name, value in once.items():
            np.testing.assert_allclose(scaled[name], c * value, rtol=1e-12)


def test_numpy_scalars_of_different_types_are_keyed_apart():
    model = h.make_model(dim=2, buckets=3, seed=3)

    def make(c):
        def f(z):
            return tf.square(z) * (2.0 if isinstance(c, np.float32) else 1.0)

        return f

    as_float = h.exact_gradient(model, make(np.float32(1.0)))
    as_int = h.exact_gradient(model, make(np.int32(1)))  # equal to 1.0, of another type
    for name, value in as_float.items():
        np.testing.assert_allclose(as_int[name], value / 2, rtol=1e-12)


OUTER_SCALE = 1.0


def _with_an_inner_function(z):
    inner = lambda v: tf.square(v)  # noqa: E731  (a nested code object)
    return OUTER_SCALE * inner(z)


def test_a_global_read_beside_a_nested_function_is_followed():
    global OUTER_SCALE
    model = h.make_model(dim=2, buckets=3, seed=3)
    once = h.exact_gradient(model, _with_an_inner_function)
    OUTER_SCALE = 4.0
    try:
        four = h.exact_gradient(model, _with_an_inner_function)
    finally:
        OUTER_SCALE = 1.0
    for name, value in once.items():
        np.testing.assert_allclose(four[name], 4 * value, rtol=1e-12)


def _half_square(z, inner=False):
    return tf.square(z) if inner else HALF_SQUARE(z, inner=True) / 2


HALF_SQUARE = functools.partial(_half_square)  # reads itself as a global: a cycle


def test_an_objective_that_refers_to_itself_is_keyed_to_a_finite_depth():
    model = h.make_model(dim=2, buckets=3, seed=3)
    half = h.exact_gradient(model, HALF_SQUARE)
    for name, value in h.exact_gradient(model).items():
        np.testing.assert_allclose(half[name], value / 2, rtol=1e-12)


def test_objectives_that_are_equal_share_their_traces():
    # f closing over an equal new tensor (or list) is the same objective: no new trace.
    model = h.make_model(dim=2, buckets=3, seed=3)

    def make(c):
        value, values = tf.constant(c, tf.float64), [c]
        return lambda z: tf.square(z - value) + values[0]

    h.release_traces()
    h.exact_gradient(model, make(2.0))
    one = h.release_traces()
    h.exact_gradient(model, make(2.0))
    h.exact_gradient(model, make(2.0))
    assert h.release_traces() == one


@pytest.mark.slow
def test_equal_fresh_lambdas_share_one_trace_and_memory_stays_flat():
    model = h.make_model(dim=3, buckets=4, seed=4)

    def rss_mib():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    def calls(n):
        for _ in range(n):
            f = lambda z: (z - 0.3) ** 2  # noqa: E731  (a new function object every time)
            h.gradient_samples(model, "score_function", 10, f=f)
            h.exact_gradient(model, f)
            h.optimise(model, "elementary", steps=2, n_runs=2, f=f)

    calls(5)  # warm up: the first traces and TensorFlow's own caches
    before = rss_mib()
    calls(200)
    assert rss_mib() - before < 50


def test_release_traces_empties_every_cache_and_keeps_the_numbers():
    model = h.make_model(dim=3, buckets=4, seed=5)
    before = h.gradient_samples(model, "score_function", 20, 2, seed=3, baseline="loo")
    h.exact_gradient(model)
    h.optimise(model, "elementary", steps=2, n_runs=2)
    assert h.release_traces() >= 3  # gradient_samples, exact_gradient and optimise traced
    assert h.release_traces() == 0
    after = h.gradient_samples(model, "score_function", 20, 2, seed=3, baseline="loo")
    for name in before:
        np.testing.assert_array_equal(after[name], before[name])


@pytest.mark.slow
def test_released_traces_give_their_memory_back_to_later_traces():
    def rss_mib():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    def trace_many(seed):  # a new objective each time: new traces of every function
        model = h.make_model(dim=2, buckets=3, seed=seed)
        for i in range(12):
            f = lambda z, c=0.1 * i + seed: (z - c) ** 2  # noqa: E731
            h.optimise(model, "score_function", steps=2, n_runs=2, baseline="loo", n_samples=2, f=f)

    trace_many(0)
    h.release_traces()
    before = rss_mib()
    for seed in range(1, 4):
        trace_many(seed)
        h.release_traces()
    # Kept (without the release), these three rounds of traces add about 190 MiB.
    assert rss_mib() - before < 20


def test_a_new_trace_cache_is_emptied_by_release_traces():
    @h.tracing.trace_cache
    def build(key):
        return object()

    h.release_traces()
    first = build("a")
    assert build("a") is first and h.release_traces() >= 1
    assert build("a") is not first  # released: built again


def test_only_the_two_expected_notes_are_dropped():
    import logging

    def passes(message):  # through the filters of TensorFlow's logger
        record = logging.LogRecord("tensorflow", logging.WARNING, __file__, 1, message, (), None)
        return bool(tf.get_logger().filter(record))

    assert not passes("5 calls triggered tf.function retracing. Tracing is ...")
    assert not passes("AutoGraph could not transform <lambda> and will run it")
    assert passes("any other warning")


def test_the_helpers_and_tensorflows_own_functions_are_not_wrapped():
    # exact_loss recognises h.square (its closed form) by identity.
    assert h.tracing.traceable(h.square) is h.square
    assert h.tracing.traceable(tf.square) is tf.square
    assert isinstance(h.tracing.traceable(lambda z: z**2), h.tracing.Traceable)


@pytest.mark.parametrize("name", sorted(h.ESTIMATORS))
def test_every_estimator_reuses_its_trace_for_a_new_seed(name):
    # Tracing takes hundreds of milliseconds, a traced call of 10 replicates a few: a later
    # call that retraced (a key that cannot be shared) would take about as long as the first.
    import time

    model = h.make_model(3, 4, seed=1)
    h.release_traces()
    times = []
    for seed in range(4):
        start = time.perf_counter()
        h.gradient_samples(model, name, 10, 2, seed=seed)
        times.append(time.perf_counter() - start)
    assert 5 * min(times[1:]) < times[0], times
