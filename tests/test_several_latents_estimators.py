"""REBAR, RELAX and Gumbel-Rao for n categorical latents; sum-and-sample and the unordered
set refuse n > 1 and say what to use instead.

Strongest first: REBAR and RELAX (a fixed random control variate, and one learned by
optimise) unbiased against the exact gradient (Bonferroni over every coordinate, false
alarms below ALPHA); Gumbel-Rao's mean equal to straight-through's for every number of
conditional Gumbels; relax_gradients and the state's shape for n latents; the refusals.
"""

import helpers as h

import numpy as np
import pytest
from support import ALPHA, LATENT_MODELS, assert_unbiased

# (sizes, f): n = 2 (K = 3, z^2) and n = 3 (K = 5, (z - 0.7)^2), from the shared models.
SEVERAL = [(LATENT_MODELS[0][0], LATENT_MODELS[0][2]), (LATENT_MODELS[2][0], LATENT_MODELS[2][2])]
IDS = ["n2", "n3"]


def random_state(model, seed=3):
    """A RELAX control variate far from REBAR's, with W1 (n K, 8) for the model's n latents."""
    return h.relax_state(
        model.buckets, tau=0.7, eta=-0.6, scale=1.0, seed=seed, latents=model.latents
    )


@pytest.mark.parametrize("name,n_samples,options", [
    ("rebar", 1, dict(tau=0.5, eta=1.0)),
    ("rebar", 2, dict(tau=0.1, eta=-2.0)),  # a low temperature, a control of the wrong sign
    ("relax", 1, {}),  # a fixed random state (below)
    ("relax", 2, {}),
])  # fmt: skip
@pytest.mark.parametrize("sizes,f", SEVERAL, ids=IDS)
def test_rebar_and_relax_are_unbiased(name, n_samples, options, sizes, f):
    model = h.make_model(**sizes)
    if name == "relax":
        options = dict(state=random_state(model))
    grads = h.gradient_samples(model, name, 20_000, n_samples, seed=11, f=f, **options)
    assert_unbiased(grads, h.exact_gradient(model, f))


def test_the_relax_control_is_not_rebars_for_several_latents():
    # The random r_rho over all n K relaxed values moves the estimates far from REBAR's.
    model = h.make_model(**SEVERAL[1][0])
    relax = h.gradient_samples(model, "relax", 2_000, seed=11, state=random_state(model))
    rebar = h.gradient_samples(model, "rebar", 2_000, seed=11, tau=0.7, eta=-0.6)
    assert np.max(np.abs(relax["logits"] - rebar["logits"])) > 0.1


@pytest.mark.parametrize("sizes,f", SEVERAL, ids=IDS)
def test_a_learned_relax_control_stays_unbiased(sizes, f):
    # optimise learns phi (W1 over the n K relaxed values) beside theta; the learned phi,
    # as any, gives unbiased estimates at the model's theta.
    model = h.make_model(**sizes)
    out = h.optimise(model, "relax", steps=30, n_runs=2, f=f, tau=0.5, state_learning_rate=0.05)
    assert out["state"]["W1"].shape == (2, model.latents * model.buckets, 8)
    learned = {name: value[1] for name, value in out["state"].items()}
    start = h.relax_state(model.buckets, latents=model.latents)  # tau=0.5's W1 too
    assert not np.allclose(learned["W1"], start["W1"])
    assert np.all(np.isfinite(out["loss"])) and np.all(np.isfinite(out["second_moment"]))
    grads = h.gradient_samples(model, "relax", 20_000, seed=12, f=f, state=learned)
    assert_unbiased(grads, h.exact_gradient(model, f))


def test_relax_gradients_for_several_latents_are_gradient_samples():
    model = h.make_model(**SEVERAL[1][0])
    state = random_state(model)
    out = h.relax_gradients(model, 300, 2, seed=9, state=state)
    samples = h.gradient_samples(model, "relax", 300, 2, seed=9, state=state)
    for name in samples:
        np.testing.assert_allclose(out["gradients"][name], samples[name], rtol=0, atol=1e-12)
    assert {name: value.shape for name, value in out["state_gradient"].items()} == {
        name: np.shape(value) for name, value in state.items()
    }


def test_a_one_latent_state_is_refused_for_several_latents():
    model = h.make_model(dim=2, buckets=3, latents=2, seed=0)
    message = r"'W1' must have shape \(6, 8\) for n = 2 latents of K = 3"
    with pytest.raises(ValueError, match=message):
        h.gradient_samples(model, "relax", 3, state=h.relax_state(3))


@pytest.mark.parametrize("sizes", [SEVERAL[0][0], dict(dim=3, buckets=4, latents=3, seed=5)])
def test_gumbel_rao_has_straight_through_mean_for_every_number_of_gumbels(sizes):
    # Rao-Blackwellising over the Gumbels given s keeps straight-through's mean, latent by
    # latent. Two-sample z-scores of the means, Bonferroni over coordinates and the 3 M's.
    model = h.make_model(**sizes)
    st = h.gradient_samples(
        model, "gumbel_softmax", 200_000, seed=1, tau=0.5, straight_through=True
    )
    for i, m in enumerate([1, 10, 100]):
        gr = h.gradient_samples(model, "gumbel_rao", 50_000, seed=2 + i, tau=0.5, n_gumbel=m)
        se_st, se_gr = h.stats.standard_error(st), h.stats.standard_error(gr)
        diff = h.stats.bias(gr, h.stats.mean(st))
        worst = max(np.max(np.abs(diff[k]) / np.hypot(se_st[k], se_gr[k])) for k in diff)
        assert worst < h.stats.bonferroni_z(3 * h.stats.n_coordinates(gr), ALPHA), (m, worst)


def test_gumbel_rao_noise_and_cost_for_several_latents():
    model = h.make_model(dim=2, buckets=3, latents=4, seed=0)
    noise = h.noise_for(model, "gumbel_rao", 6, 2, n_gumbel=5)
    assert noise["u"].shape == (6, 2, 4, 3) and noise["v"].shape == (6, 2, 5, 4, 3)
    assert h.ESTIMATORS["gumbel_rao"].evaluations(3, 2, latents=4) == 2


@pytest.mark.parametrize("name,n_samples", [("sum_and_sample", 2), ("unordered_set", 2)])
def test_sum_and_sample_and_unordered_set_refuse_several_latents_and_say_why(name, n_samples):
    model = h.make_model(dim=2, buckets=3, latents=2, seed=0)
    message = (
        f"^estimator '{name}' handles at most 1 categorical latent\\(s\\), got a problem "
        r"with latents=2: .*shrinks geometrically in n.*Use 'indecater'.*'score_function' "
        r"with baseline='loo'"
    )
    with pytest.raises(ValueError, match=message):
        h.gradient_samples(model, name, 3, n_samples)
    with pytest.raises(ValueError, match=message):
        h.optimise(model, name, steps=2, n_samples=n_samples)


def test_relax_state_refuses_a_bad_number_of_latents():
    with pytest.raises(ValueError, match="latents"):
        h.relax_state(3, latents=0)
    assert h.relax_state(3, latents=4)["W1"].shape == (12, 8)
