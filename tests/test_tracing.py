"""Each estimator and option set is traced once, whatever R, N, seed or tau.

Other tests may have traced the same functions already (other dtypes, shapes),
so these tests count the traces their own calls add.
"""

import helpers as h
from helpers import estimators, sampling


def tracing_count(estimator, static=()):
    structure = h.ModelProblem(f=h.square, latents=1)  # the problem with its tensors left out
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
