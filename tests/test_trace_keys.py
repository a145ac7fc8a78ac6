"""What a trace key holds: an objective's trace is shared only when its key follows
everything it reads (README, "When a trace is shared"); otherwise each call traces afresh.

Each test checks an objective's gradient against an independent objective that computes
the same thing directly, so a stale shared trace shows up as wrong numbers.
"""

import time

import helpers as h

import numpy as np
import pytest
import tensorflow as tf

v = None  # a global tf.Variable that `shifted_by_variable` reads, rebound by a test
c = 0.0  # a global that `shifted_through_globals` reads through globals()
NESTED = [[0.0] * 10_000 for _ in range(100)]  # a million floats in 100 lists
BIG = np.zeros(25_000_000)  # 200 MB
LOOP = [1.0]
LOOP.append(LOOP)  # a list that holds itself


class Holder:
    def __init__(self, c):
        self.c = c


HOLDERS = np.array([Holder(0.0)], dtype=object)


def shifted_by_variable(z):
    return tf.square(z - v)


def shifted_through_globals(z):
    return tf.square(z - globals()["c"])


def shifted_through_object_array(z):
    return tf.square(z - HOLDERS[0].c)


def shifted_by_nested(z):
    return tf.square(z - NESTED[0][0])


def shifted_by_big(z):
    return tf.square(z - BIG[0])


def shifted_by_loop(z):
    return tf.square(z - LOOP[0])


@pytest.fixture
def m():
    return h.make_model(3, 4, seed=2)


def shifted(k):
    return lambda z: tf.square(z - k)


def assert_follows(m, f, k):
    got, want = h.exact_gradient(m, f)["B"], h.exact_gradient(m, shifted(k))["B"]
    np.testing.assert_allclose(got, want, rtol=1e-12)  # a stale trace is off by far more


def test_a_rebound_global_variable_is_read_even_when_the_new_one_takes_the_old_id(m):
    # The key held a variable by id: once freed, a new variable could take its id and be
    # handed the old trace, which reads the old variable (v = 4's gradient at v = 6).
    global v
    for i in range(30):
        v = tf.Variable(float(i), dtype=tf.float64)
        assert_follows(m, shifted_by_variable, float(i))
    v = None


def test_the_key_of_a_huge_nested_list_or_array_costs_little_and_is_never_stale(m):
    # The whole key compares at most MAX_ITEMS values and hashes MAX_BYTES (16 MiB) of
    # arrays; past that f is traced afresh. Keying a million floats in 100 lists took
    # 1.9 s and a 200 MB array 0.7 s (a copy of its bytes), at every call; under the
    # budget both stop within microseconds, so 0.1 s leaves room for a slow, busy machine.
    for f in shifted_by_nested, shifted_by_big:
        start = time.perf_counter()
        h.tracing.traceable(f)
        assert time.perf_counter() - start < 0.1
    NESTED[0][0], BIG[0] = 2.0, -1.0
    assert_follows(m, shifted_by_nested, 2.0)
    assert_follows(m, shifted_by_big, -1.0)
    NESTED[0][0], BIG[0] = 0.5, 3.0
    assert_follows(m, shifted_by_nested, 0.5)
    assert_follows(m, shifted_by_big, 3.0)


def test_an_array_under_the_budget_is_still_shared_and_follows_a_change(m):
    small = np.array([0.5, 1.0])
    f = lambda z: tf.square(z - small[0])  # noqa: E731
    h.release_traces()
    assert_follows(m, f, 0.5)
    once = h.release_traces()
    assert_follows(m, f, 0.5)
    assert_follows(m, f, 0.5)
    assert h.release_traces() == once  # the second call shared the first call's traces
    small[0] = -2.0
    assert_follows(m, f, -2.0)


def test_a_list_that_holds_itself_is_traced_afresh_without_a_recursion_error(m):
    assert_follows(m, shifted_by_loop, 1.0)
    LOOP[0] = 2.5
    assert_follows(m, shifted_by_loop, 2.5)


def test_a_global_read_through_globals_is_followed(m):
    global c
    c = 1.0
    assert_follows(m, shifted_through_globals, 1.0)
    c = -3.0
    assert_follows(m, shifted_through_globals, -3.0)


def test_an_attribute_read_through_an_object_array_is_followed(m):
    HOLDERS[0].c = 1.0
    assert_follows(m, shifted_through_object_array, 1.0)
    HOLDERS[0].c = -3.0
    assert_follows(m, shifted_through_object_array, -3.0)


def _tagged(z):
    return z


def test_an_attribute_set_on_a_function_f_reads_is_followed():
    # f reads _tagged.shift through _tagged, a plain function in its globals: in the key.
    model = h.make_model(3, 4, seed=1)

    def f(z):
        return tf.square(_tagged(z) - _tagged.shift)

    for shift in (0.0, 2.0):
        _tagged.shift = shift
        expected = h.exact_gradient(model, lambda z, c=shift: tf.square(z - c))
        got = h.exact_gradient(model, f)
        for name in expected:
            np.testing.assert_allclose(got[name], expected[name], rtol=1e-12)
