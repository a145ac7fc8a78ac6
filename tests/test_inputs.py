"""Bad input gets a ValueError that says what was wrong and what is allowed."""

import itertools
import warnings

import helpers as h

import numpy as np
import pytest
import tensorflow as tf


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(dim=0), "dim must be an integer >= 1"),
        (dict(dim=2.5), "dim must be an integer >= 1"),
        (dict(buckets=1), "buckets must be an integer >= 2"),
        (dict(buckets=True), "buckets must be an integer >= 2"),
        (dict(seed=-1), "seed must be an integer >= 0"),
        (dict(dtype="float16"), "dtype must be float32 or float64"),
        (dict(dtype=np.int32), "dtype must be float32 or float64"),
    ],
)
def test_make_model_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        h.make_model(**kwargs)


@pytest.mark.parametrize(
    "args,kwargs,message",
    [
        (("nope", 10), {}, "unknown estimator 'nope'; known estimators: 'elementary'"),
        ((np.mean, 10), {}, "unknown estimator"),
        (("elementary", 0), {}, "n_replicates must be an integer >= 1"),
        (("elementary", 10), dict(n_samples=0), "n_samples must be an integer >= 1"),
        (("elementary", 10), dict(seed=-3), "seed must be an integer >= 0"),
        (("elementary", 10), dict(seed=1.5), "seed must be an integer"),
        (("elementary", 10), dict(tau=0.5), "has no option 'tau'; allowed options: none"),
        (("elementary", 10), dict(f=tf.reduce_sum), "same shape|of its input's shape"),
        (("elementary", 10), dict(f=np.square), "must return a TensorFlow tensor"),
        (("elementary", 10), dict(f=3.0), "f must be a function"),
        (("elementary", 10), dict(f=lambda z: tf.cast(z, tf.float32)), "shape and dtype"),
    ],
)
def test_gradient_samples_rejects(args, kwargs, message):
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match=message):
        h.gradient_samples(model, *args, **kwargs)


def test_an_unknown_estimator_is_answered_with_every_known_one():
    known = ", ".join(repr(name) for name in h.ESTIMATORS)
    with pytest.raises(ValueError, match=f"^unknown estimator 'nope'; known estimators: {known}"):
        h.gradient_samples(h.make_model(dim=2, buckets=3), "nope", 3)


def test_exact_functions_reject_a_bad_f():
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match="of its input's shape"):
        h.exact_gradient(model, tf.reduce_mean)
    with pytest.raises(ValueError, match="f failed on a tensor"):
        h.exact_loss(model, lambda z: z @ z)


def test_non_finite_parameters_are_rejected():
    model = h.make_model(dim=2, buckets=3)
    model.params["B"].assign(np.nan)
    with pytest.raises(ValueError, match="parameter 'B' holds non-finite values"):
        h.exact_gradient(model)
    with pytest.raises(ValueError, match="parameter 'B' holds non-finite values"):
        h.gradient_samples(model, "elementary", 3)


def test_conditionals_checks_the_last_axis():
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3\) \(last axes = buckets\)"):
        model.conditionals(np.eye(4))
    mu, sigma = model.conditionals(np.eye(3))
    assert mu.shape == sigma.shape == (3,)
    several = h.make_model(dim=2, buckets=3, latents=2)
    with pytest.raises(ValueError, match=r"\(\.\.\., 2, 3\) \(last axes = latents, buckets\)"):
        several.conditionals(np.eye(3))


def test_conditionals_take_integer_one_hots():
    model = h.make_model(dim=2, buckets=3)
    expected = model.conditionals(np.eye(3))
    for got, want in zip(model.conditionals(np.eye(3, dtype=int)), expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_parameters_assigned_with_the_wrong_shape_are_rejected():
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match="Shape mismatch|incompatible"):
        model.params["A"].assign(np.zeros(4))
    with pytest.raises(ValueError, match="Shape mismatch|incompatible"):
        model.params["B"].assign(np.zeros(2))


@pytest.mark.parametrize(
    "call",
    [
        lambda m: h.exact_loss(m),
        lambda m: h.exact_gradient(m),
        lambda m: h.gradient_samples(m, "elementary", 3),
        lambda m: h.noise_for(m, "elementary", 3),
        lambda m: h.optimise(m, "exact", steps=2),
        lambda m: h.sample(m, 3),
    ],
)
def test_something_else_than_a_model_is_rejected(call):
    with pytest.raises(ValueError, match="model must be a helpers Model"):
        call({"logits": np.zeros(3)})


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_infinite_parameters_are_rejected_by_every_entry_point(value):
    model = h.make_model(dim=2, buckets=3)
    model.params["logits"].assign([0.0, value, 1.0])
    for call in (
        lambda: h.exact_loss(model),
        lambda: h.gradient_samples(model, "score_function", 3),
        lambda: h.optimise(model, "elementary", steps=2),
    ):
        with pytest.raises(ValueError, match="parameter 'logits' holds non-finite values"):
            call()


def _verdicts(capsys, exercise, answers, **context):
    for answer in answers:
        h.exercises.check(exercise, answer, **context)
    return [line.split(": ", 1)[1] for line in capsys.readouterr().out.splitlines()]


def _closed_form(model):
    probs = model.probs().numpy()
    means, scales = (v.numpy() for v in model.conditionals(np.eye(model.buckets)))
    return float(np.sum(probs * ((means - 1) ** 2 + scales**2)))


def test_exercise_check_of_a_function_uses_two_models_and_refuses_exact_loss(capsys):
    model = h.make_model(dim=2, buckets=3)
    answers = [
        None,
        _closed_form,
        lambda m: float(h.exact_loss(m, lambda z: (z - 1) ** 2)),  # not the student's own sum
        lambda m: _closed_form(model),  # right on this model only
        lambda m: float(model.probs().numpy() @ np.ones(m.buckets)),  # the notebook's K
        lambda m: round(_closed_form(m), 3),
        lambda m: _closed_form(m) - float(np.sum(_sigma_squared(m))),  # sigma^2 left out
        lambda m: None,
        1.0,
    ]
    verdicts = _verdicts(capsys, "01.1", answers, model=model)
    failed = "not yet: your function failed on a second model (7 categories) with ValueError: "
    assert verdicts[4].startswith(failed) and verdicts[4].endswith(
        "Take every size and value from the model it is given (e.g. model.buckets), not from "
        "the notebook"
    )
    del verdicts[4]  # NumPy's own message between the two: its wording is NumPy's
    assert verdicts == [
        "not answered yet",
        "correct",
        "not yet: write the sum yourself; your function called h.exact_loss",
        "not yet (on a second model, 7 categories)",
        "not yet: rounded to 3 decimals; keep full precision",
        "not yet: each category's E[(z - 1)^2] includes its variance sigma^2",
        "not answered yet",
        "not yet: expected a function of the model, got a float",
    ]
    assert float(h.exact_loss(model)) > 0  # exact_loss is restored after the check


def _sigma_squared(model):
    """p_k sigma_k^2 per category: the part of the loss a student may leave out."""
    probs = model.probs().numpy()
    return probs * model.conditionals(np.eye(model.buckets))[1].numpy() ** 2


def test_exercise_checks_follow_one_rule_and_name_the_slip(capsys):
    from fractions import Fraction

    model = h.make_model(dim=2, buckets=3)
    b = h.estimators.optimal_baseline_at(model.problem(h.square), model.params, True)
    # The one rule: a relative error up to RTOL = 1e-5 is right, so float32 and six decimals
    # pass; three decimals are named as rounding, a 0.2% error as close but not rounding.
    answers = [b, round(b, 6), np.float32(b), np.array(b), Fraction(b)]
    answers += [round(b, 3), b * (1 + 2e-3), 2 * b, [b], True, np.array(True)]
    verdicts = _verdicts(capsys, "04.1", answers, model=model)
    assert verdicts[:5] == ["correct"] * 5
    assert verdicts[5:] == [
        "not yet: rounded to 3 decimals; keep full precision",
        "not yet: close (relative error 2.0e-03) but more than rounding: a term is off, or the "
        "value is estimated by sampling rather than computed exactly",
        "not yet",
        "not yet: expected a single number, got a list",
        "not yet: expected a single number, got a bool",
        "not yet: expected a single number, got an array of shape ()",
    ]
    assert _verdicts(capsys, "04.1", [np.float32(b * (1 + 2e-3))], model=model) == [
        "not yet: close (relative error 2.0e-03) and in float32: compute in float64 to tell "
        "rounding from a slip"
    ]
    assert _verdicts(capsys, "04.1", [float(h.exact_loss(model))], model=model) == [
        "not yet: that is the mean loss L; the optimal baseline weights each draw by its "
        "squared score"
    ]
    grad = h.exact_gradient(model, lambda z: (z - 0.5) ** 2)["logits"]
    answers = [grad, list(grad), grad.astype(np.float32), -grad, grad[:2], {"logits": grad}]
    assert _verdicts(capsys, "02.1", [*answers, grad + 1], model=model) == [
        "correct",
        "correct",
        "correct",
        "not yet: check the sign",
        "not yet: expected an array of shape (3,), got an array of shape (2,)",
        "not yet: expected an array of shape (3,), got a dict; take its 'logits' entry",
        "not yet",
    ]
    several = h.make_model(dim=2, buckets=3, latents=2)
    grad = h.exact_gradient(several)["logits"]  # (latents, K): 09.1 asks for the first row
    assert _verdicts(capsys, "09.1", [grad[0], grad[1], grad], model=several) == [
        "correct",
        "not yet: row 0 is the first latent",
        "not yet: expected an array of shape (3,), got an array of shape (2, 3)",
    ]


@pytest.mark.parametrize("exercise", [k for k, v in h.exercises.EXERCISES.items() if v.slips])
def test_every_named_slip_is_far_from_the_answer_and_told_by_name(capsys, exercise):
    # The rule's promise: each slip differs from the answer, and from the other slips, by far
    # more than RTOL (1e-3), so a slip is never taken for a right answer or for another slip.
    # Each context holds every slip: several images and latents (10.1, 11.1), a K >= 4 for
    # S = {1, 2, 3} (07.1), as many latents as categories for 09.1's column, and for 05.1
    # MSEs that put each slip on its own budget.
    spec = h.exercises.EXERCISES[exercise]
    if exercise in ("10.1", "11.1"):
        arch = h.vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
        context = dict(weights=h.vae.init_weights(arch, seed=2), x=np.eye(4)[:2], latents=2)
    elif exercise == "10.3":
        arch = h.vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
        u = np.random.default_rng(3).uniform(0.01, 0.99, (3, 4, 2, 3))
        context = dict(weights=h.vae.init_weights(arch, seed=2), x=np.eye(4)[:3], u=u, latents=2)
    elif exercise == "05.1":
        context = dict(
            budgets=np.array([5, 20, 80, 320, 1280]),  # the answer 320; 1e-2 is first met at 20
            mse=np.array([4e-2, 8e-3, 2e-3, 6e-4, 1e-4]),
            elementary_mse=np.array([7e-3, 2e-3, 5e-4, 1e-4, 3e-5]),  # 80
            logits_mse=np.array([9e-4, 2e-4, 5e-5, 1e-5, 3e-6]),  # 5
        )
    elif exercise == "03.1":  # the answer 0.2 or 0.3 (a tie); the N = 1,000 slip 0.4
        context = dict(
            taus=np.array([0.1, 0.2, 0.3, 0.4]),
            squared_bias=np.array([0.0, 1e-6, 2e-6, 9e-6]),
            squared_bias_se=np.full(4, 1e-6),
            variance=np.array([0.08, 0.05, 0.03, 0.01]),
            variance_se=np.full(4, 1e-3),
        )
    elif exercise == "09.1":
        context = dict(model=h.make_model(dim=2, buckets=3, seed=6, latents=3))
    else:
        context = dict(model=h.make_model(dim=2, buckets=4, seed=6))
    expected = np.asarray(spec.expected(**context), dtype=float)
    scale = np.max(np.abs(expected))
    slips = spec.slips(**context)
    for hint, slip in slips.items():
        assert np.max(np.abs(np.asarray(slip) - expected)) / scale > 1e-3, hint
        others = [np.asarray(s) for h_, s in slips.items() if h_ != hint]
        assert all(np.max(np.abs(np.asarray(slip) - s)) > 1e-3 * scale for s in others), hint
    if spec.kind == "function":  # 01.1: a function that gives the slip on every model
        answers = [lambda model, hint=hint: spec.slips(model)[hint] for hint in slips]
    else:
        answers = list(slips.values())
    assert _verdicts(capsys, exercise, answers, **context) == [f"not yet: {hint}" for hint in slips]


def test_exercise_check_accepts_every_choice_the_data_cannot_tell_apart(capsys):
    taus = np.array([0.1, 0.2, 0.3, 0.4])
    soft = {  # one estimator's sweep: one entry per tau
        "squared_bias": np.array([0.0, 1e-6, 2e-6, 9e-6]),
        "squared_bias_se": np.full(4, 1e-6),
        "variance": np.array([0.08, 0.05, 0.03, 0.01]),
        "variance_se": np.full(4, 1e-3),
    }
    # MSE at N = 1e4: 8e-6, 6e-6, 5e-6, 10e-6, each with s.e. ~1.0e-6: 0.2 and 0.3 tie.
    # At N = 1e3 the best is 0.4 (MSE 1.9e-5): the slip of reading the table's N = 1,000.
    answers = [0.3, 0.2, 0.1, 0.4, 0.25, "0.3", np.float32(0.3)]
    assert _verdicts(capsys, "03.1", answers, taus=taus, **soft) == [
        "correct",
        "correct",
        "not yet",
        "not yet: that is the best temperature for N = 1,000 (the table's last row); this asks "
        "for N = 10,000",
        "not yet: answer with one of the values in `taus`",
        "not yet: expected a single number, got a str",
        "correct",  # float32's 0.3 is within the one rule of 0.3
    ]
    # A negative squared bias is zero within its error: counted as zero, the order changes
    # (MSE 6e-6 and 2e-6 clipped; unclipped 1e-6 would put 0.1 first).
    clipped = {
        "squared_bias": np.array([-5e-6, 0.0]),
        "squared_bias_se": np.full(2, 1e-8),
        "variance": np.array([0.06, 0.02]),
        "variance_se": np.full(2, 1e-6),
    }
    assert _verdicts(capsys, "03.1", [0.2, 0.1], taus=taus[:2], **clipped) == ["correct", "not yet"]
    with pytest.raises(ValueError, match="unknown exercise '99.1'"):
        h.exercises.check("99.1", 1.0)


def test_numbers_of_any_numeric_type_are_accepted():
    from fractions import Fraction

    model = h.make_model(dim=2, buckets=3, dtype=float)  # Python's float is float64
    assert model.dtype == tf.float64
    for n in (np.int64(3), np.array(3), tf.constant(3)):
        assert h.gradient_samples(model, "elementary", n)["A"].shape == (3, 5)
    for tau in (Fraction(1, 2), np.float32(0.5), np.array(0.5)):
        assert h.checks.positive_finite(tau, "tau", model.dtype) == 0.5
    assert h.checks.real(np.int64(1), "value", model.dtype) == 1.0
    assert h.checks.flag(np.bool_(True), "straight_through") is True


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: h.checks.integer(3.0, "n", 1), r"got 3.0 \(a float: pass an int\)"),
        (lambda: h.checks.flag(1, "flag"), "flag must be True or False"),
        (lambda: h.checks.positive_finite(1e-38, "tau", tf.float32), "representable in float32"),
        (lambda: h.checks.positive_finite(1e-310, "tau", tf.float64), "representable in float64"),
        (lambda: h.checks.real(1e39, "value", tf.float32), "representable in float32"),
        (lambda: h.checks.real(float("nan"), "value"), "value must be a finite number"),
    ],
)
def test_numbers_outside_what_the_dtype_represents_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "f,message",
    [
        (lambda z: z + tf.constant(1.0, tf.float64), "keep its input's dtype"),
        (lambda z: tf.constant(z.numpy() ** 2), "when traced into a graph.*TensorFlow ops"),
        (np.square, "must return a TensorFlow tensor"),
    ],
)
def test_objectives_that_would_fail_in_a_trace_are_explained(f, message):
    model = h.make_model(dim=2, buckets=3, dtype="float32")
    with pytest.raises(ValueError, match=message):
        h.gradient_samples(model, "elementary", 2, f=f)


def test_estimator_options_accept_numpy_types_and_respect_the_dtype():
    model = h.make_model(dim=2, buckets=3, dtype="float32")
    for options in (
        dict(baseline="constant", value=np.float32(1)),
        dict(baseline="constant", value=np.int64(1)),
        dict(pathwise_z=np.bool_(False)),
    ):
        assert h.gradient_samples(model, "score_function", 2, **options)["A"].shape == (2, 5)
    assert h.gradient_samples(model, "gumbel_softmax", 2, straight_through=np.bool_(True))
    with pytest.raises(ValueError, match="tau must be a positive finite number representable"):
        h.gradient_samples(model, "gumbel_softmax", 2, tau=1e-38)
    with pytest.raises(ValueError, match="value must be a finite number representable"):
        h.gradient_samples(model, "score_function", 2, baseline="constant", value=1e39)
    with pytest.raises(ValueError, match="learning_rate must be a positive finite number"):
        h.optimise(model, "exact", learning_rate=1e39)


def test_sample_and_every_entry_point_check_parameters_and_context():
    model = h.make_model(dim=2, buckets=3)
    model.params["B"].assign(np.nan)
    with pytest.raises(ValueError, match="parameter 'B' holds non-finite values"):
        h.sample(model, 5)
    model = h.make_model(dim=2, buckets=3)
    model.x = tf.constant([np.nan, 1.0], tf.float64)
    with pytest.raises(ValueError, match=r"vector of finite numbers, got shape \(2,\) with non-"):
        h.exact_gradient(model)
    model.x = tf.constant([[0.5, 1.0]], tf.float64)
    with pytest.raises(ValueError, match=r"context x must be a vector .*, got shape \(1, 2\)$"):
        h.exact_gradient(model)
    model.x = tf.constant([0.5, 1.0, 2.0], tf.float64)  # one entry too many for A and C
    with pytest.raises(ValueError, match=r"parameter 'A' has shape \(5,\).*needs \(6,\)"):
        h.gradient_samples(model, "elementary", 3)


def test_calls_that_cannot_fit_in_memory_are_refused_before_allocating():
    model = h.make_model(dim=10, buckets=5)
    with pytest.raises(ValueError, match=r"would take .* GiB \(float64\); the limit is 1 GiB"):
        h.gradient_samples(model, "elementary", 10**9)
    for n_samples in (10**8, 2**31):
        with pytest.raises(
            ValueError, match="one estimate needs .* average several estimates instead$"
        ):
            h.gradient_samples(model, "elementary", 1, n_samples)
    with pytest.raises(ValueError, match="these noise values would take"):
        h.noise_for(model, "gumbel_softmax", 10**8)
    # The limit itself fits; a value more does not, and the message says by how much.
    limit = h.sampling.MAX_OUTPUT_BYTES // 8
    h.sampling.check_size(limit, 1, tf.float64)
    with pytest.raises(ValueError, match=r"^these gradient estimates would take 1 GiB \(float64"):
        h.sampling.check_size(limit + 1, 1, tf.float64)
    with pytest.raises(ValueError, match=r"would take 2 GiB \(float32\)"):
        h.sampling.check_size(limit * 4, 1, tf.float32)


def test_noise_for_checks_the_options_against_n_samples_and_the_dtype():
    with pytest.raises(ValueError, match="representable in float32"):
        h.noise_for(h.make_model(dim=2, buckets=3, dtype="float32"), "gumbel_softmax", 3, tau=1e39)
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match="needs n_samples >= 2"):
        h.noise_for(model, "score_function", 3, n_samples=1, baseline="loo")
    with pytest.raises(ValueError, match="2 <= k <= K = 3"):
        h.noise_for(model, "unordered_set", 3, n_samples=5)


@pytest.mark.parametrize(
    "estimator, options, message",
    [
        ("relax", dict(tau=-1.0), "tau must be"),
        ("relax", dict(state=h.relax_state(3), tau=1.0), "^a RELAX state carries its own"),
        ("gumbel_rao", dict(n_gumbel=0), "n_gumbel must be"),
    ],
)
def test_estimator_options_are_named_in_their_messages(estimator, options, message):
    with pytest.raises(ValueError, match=message):
        h.gradient_samples(h.make_model(dim=2, buckets=3), estimator, 3, **options)


def test_a_number_that_is_not_one_is_named_with_what_was_given():
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match=r"^value must be a finite number, got 'a lot'$"):
        h.gradient_samples(model, "score_function", 3, baseline="constant", value="a lot")


def test_a_count_that_is_not_an_integer_is_named_with_what_was_given():
    model = h.make_model(dim=2, buckets=3)
    with pytest.raises(ValueError, match=r"^n_replicates must be an integer >= 1, got 'ten'$"):
        h.gradient_samples(model, "score_function", "ten")
    with pytest.raises(ValueError, match=r", got 2.5 \(a float: pass an int\)$"):
        h.gradient_samples(model, "score_function", 2.5)


def test_exercise_checks_of_notebooks_05_06_and_08(capsys):
    # 05.1: the first budget whose LOO MSE is below 1e-3 (strictly: 1e-3 itself is not).
    budgets = np.array([10, 100, 1000])
    context = dict(budgets=budgets, mse=np.array([2e-3, 1e-3, 5e-4]))
    assert _verdicts(capsys, "05.1", [1000, 100], **context) == ["correct", "not yet"]
    near = _verdicts(capsys, "05.1", [1000 * (1 + 1e-7), 1000 * (1 + 1e-3)], **context)
    assert near == ["correct", "not yet: answer with one of the values in `budgets`"]  # RTOL
    # One run's data can put several slips on one budget, as in notebook 05 (all three at
    # 16K): the verdict names each, so none is blamed alone.
    mse = np.array([2e-2, 5e-3, 5e-4])  # 1e-2 is first met at 100, 1e-3 at 1000
    others = np.array([5e-3, 5e-4, 1e-4])  # first below 1e-3 at 100
    context.update(mse=mse, elementary_mse=others, logits_mse=others)
    assert _verdicts(capsys, "05.1", [100, 10], **context) == [
        "not yet: the elementary estimator's MSE first falls below 1e-3 there, not hybrid + "
        "LOO's; or the logits block's MSE first falls below 1e-3 there, not all coordinates'; "
        "or the MSE first falls below 1e-2 there, not below 1e-3",
        "not yet",
    ]
    # Two budgets below 1e-3: the first of them is the answer.
    below_twice = dict(budgets=budgets, mse=np.array([2e-3, 5e-4, 1e-4]))
    assert _verdicts(capsys, "05.1", [100, 1000], **below_twice) == ["correct", "not yet"]
    # No budget below 1e-3: no answer is right, and the check says why rather than pick one.
    with pytest.raises(ValueError, match="^mse is at or above 1e-3 at every budget"):
        h.exercises.check("05.1", 1000, budgets=budgets, mse=np.full(3, 1e-3))
    # 06.1: p(S = {0, 1, 2}) for K = 4 is the probability that category 3 is drawn last.
    model = h.make_model(dim=2, buckets=4, seed=6)
    p = model.probs().numpy()
    last = sum(
        p[a] * p[b] / (1 - p[a]) * p[c] / (1 - p[a] - p[b])
        for a, b, c in itertools.permutations(range(3))
    )
    assert _verdicts(capsys, "07.1", [last, 1 - p[3]], model=model) == ["correct", "not yet"]
    # 08.1: KL(q(s | x) || uniform) of the first image, from the encoder in NumPy.
    arch = h.vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
    weights = h.vae.init_weights(arch, seed=2)
    x = np.array([[1, 0, 1, 1], [0, 1, 0, 0]], dtype=np.float32)
    w = {k: v.numpy().astype(np.float64) for k, v in weights.items()}
    logits = (np.tanh(x[0] @ w["enc_w1"] + w["enc_b1"]) @ w["enc_w2"] + w["enc_b2"]).reshape(2, 3)
    log_q = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    kl = float(np.sum(np.exp(log_q) * log_q) + 2 * np.log(3))
    context = dict(weights=weights, x=x, latents=2)
    assert _verdicts(capsys, "10.1", [kl, 2 * kl], **context) == ["correct", "not yet"]
    context["x"] = x.astype(np.float64)  # images as NumPy makes them by default
    assert _verdicts(capsys, "10.1", [kl], **context) == ["correct"]


def test_a_model_shows_its_shape():
    assert repr(h.make_model(dim=2, buckets=3)) == "Model(dim=2, buckets=3, dtype=float64)"
    several = h.make_model(dim=2, buckets=3, latents=4, dtype="float32")
    assert repr(several) == "Model(dim=2, buckets=3, latents=4, dtype=float32)"


def test_a_relax_state_names_its_bad_temperature():
    with pytest.raises(ValueError, match="^tau must be"):
        h.relax_state(3, tau=-1.0)


def test_a_number_checked_without_a_dtype_says_only_that_it_must_be_finite():
    with pytest.raises(ValueError, match="^eta must be a finite number, got inf$"):
        h.relax_state(3, eta=np.inf)


def test_the_problems_logits_keep_the_latent_axis():
    for latents, shape in ((1, (1, 3)), (3, (3, 3))):
        model = h.make_model(dim=2, buckets=3, latents=latents)
        assert tuple(model.problem().logits(model.values()).shape) == shape


def test_an_exception_without_a_message_is_reported_by_its_type_alone():
    def fails(z):
        raise RuntimeError()

    message = r"^f failed on a tensor of shape \(2, 3\): RuntimeError: $"
    with pytest.raises(ValueError, match=message):
        h.exact_loss(h.make_model(dim=2, buckets=3), fails)


def test_relax_options_must_be_representable_in_the_models_dtype():
    model = h.make_model(dim=2, buckets=3, dtype="float32")
    for name in ("tau", "eta"):
        with pytest.raises(ValueError, match=f"^{name} must be .*representable in float32"):
            h.gradient_samples(model, "relax", 3, **{name: 1e39})


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda data, arch: h.vae.train("elementary", *data, arch, steps=0), "steps"),
        (lambda data, arch: h.vae.train("elementary", *data, arch, batch_size=0), "batch_size"),
        (
            lambda data, arch: h.vae.train("elementary", *data, arch, evaluate_every=0),
            "evaluate_every",
        ),
        (
            lambda data, arch: h.vae.train("elementary", *data, arch, learning_rate=0),
            "learning_rate",
        ),
        (lambda data, arch: h.vae.Architecture(latents=2, hidden=0), "hidden"),
        (lambda data, arch: h.vae.Architecture(latents=2, buckets=1), "buckets"),
        (lambda data, arch: h.vae.Architecture(latents=2, pixels=0), "pixels"),
    ],
)
def test_the_vaes_messages_name_the_argument(call, name):
    arch = h.vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
    data = (np.array([[1, 0, 1, 1]]), np.array([[0, 1, 0, 0]]))
    with pytest.raises(ValueError, match=f"^{name} must be"):
        call(data, arch)


def test_checking_an_answer_warns_about_nothing(capsys):
    model = h.make_model(dim=2, buckets=4, seed=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a deprecation in NumPy would show in a student's cell
        assert _verdicts(capsys, "07.1", [0.5], model=model) == ["not yet"]


def _numpy_kl_first_image(weights, x, latents):
    """KL(q(s | x[0]) || uniform) from the encoder, in NumPy float64."""
    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    hidden = np.tanh(np.asarray(x[0], dtype=np.float64) @ w["enc_w1"] + w["enc_b1"])
    logits = (hidden @ w["enc_w2"] + w["enc_b2"]).reshape(latents, -1)
    log_q = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(np.sum(np.exp(log_q) * log_q) + latents * np.log(logits.shape[1]))


@pytest.mark.parametrize("images", [np.float32, np.float64, tf.float64])
def test_exercise_08_1_judges_float64_weights(capsys, images):
    arch = h.vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
    weights = h.vae.init_weights(arch, seed=2, dtype=tf.float64)
    x = np.array([[1, 0, 1, 1], [0, 1, 0, 0]])
    x = tf.constant(x, images) if isinstance(images, tf.DType) else x.astype(images)
    kl = _numpy_kl_first_image(weights, np.asarray(x), 2)
    context = dict(weights=weights, x=x, latents=2)
    assert _verdicts(capsys, "10.1", [kl, 2 * kl], **context) == ["correct", "not yet"]
    numpy_weights = {k: v.numpy() for k, v in weights.items()}  # float64 NumPy arrays
    assert _verdicts(capsys, "10.1", [kl], **{**context, "weights": numpy_weights}) == ["correct"]


def test_make_model_takes_numpy_and_tensor_integers_as_the_python_ints():
    model = h.make_model(np.int64(3), np.int32(4), seed=np.uint8(5), latents=np.int64(2))
    same = h.make_model(3, 4, seed=5, latents=2)
    assert repr(model) == repr(same) == "Model(dim=3, buckets=4, latents=2, dtype=float64)"
    for name in h.model.PARAM_NAMES:
        np.testing.assert_array_equal(model.params[name].numpy(), same.params[name].numpy())
    np.testing.assert_array_equal(model.x.numpy(), same.x.numpy())
    assert type(model.latents) is int
    np.testing.assert_array_equal(
        h.exact_gradient(model)["logits"], h.exact_gradient(same)["logits"]
    )
    assert repr(h.make_model(tf.constant(3), 4, latents=tf.constant(2))) == repr(same)


def test_exercise_06_1_accepts_the_logits_gradient_built_from_the_categories(capsys):
    # 06.1: dL/dl_k = p_k (m_k - L) with m_k = mu_k^2 + sigma_k^2 for f = z^2, built in NumPy
    # from each category's mu and sigma: an answer independent of the quadrature it is checked by.
    model = h.make_model(dim=10, buckets=20, seed=3)
    mu, sigma = (t.numpy() for t in model.conditionals(np.eye(20)))
    p, m = model.probs().numpy(), mu**2 + sigma**2
    built = p * (m - p @ m)
    slips = [-built, p * m, m - p @ m, built + 0.1 * np.abs(built).max()]
    answers = [built, list(built), built.astype(np.float32), *slips, built[:19]]
    assert _verdicts(capsys, "06.1", answers, model=model) == [
        "correct",
        "correct",
        "correct",  # float32 is close enough: the exercise asks for the sum, not its precision
        "not yet: check the sign of each term",
        "not yet: each category's mean loss is compared with L",
        "not yet: each term carries its category's probability",
        "not yet",  # wrong in no named way
        "not yet: expected an array of shape (20,), got an array of shape (19,)",
    ]


def test_exercise_02_1_names_the_slips_of_the_logits_gradient_built_from_the_categories(capsys):
    # 02.1: dL/dl_k = p_k (m_k - L) with m_k = (mu_k - 0.5)^2 + sigma_k^2, built in NumPy; each
    # slip changes one thing in it. A whole gradient dict is pointed to its logits.
    model = h.make_model(dim=10, buckets=5, seed=0)
    mu, sigma = (t.numpy() for t in model.conditionals(np.eye(5)))
    p, m, no_variance = model.probs().numpy(), (mu - 0.5) ** 2 + sigma**2, (mu - 0.5) ** 2
    built = p * (m - p @ m)
    whole = h.exact_gradient(model, lambda z: (z - 0.5) ** 2)
    answers = [built, -built, p * m, p * (no_variance - p @ no_variance), m - p @ m, whole]
    assert _verdicts(capsys, "02.1", answers, model=model) == [
        "correct",
        "not yet: check the sign",
        "not yet: each category's mean loss is compared with L",
        "not yet: each category's E[(z - 0.5)^2] includes its variance sigma^2",
        "not yet: each term carries its category's probability",
        "not yet: expected an array of shape (5,), got a dict; take its 'logits' entry",
    ]


def _numpy_conditional_gumbel(model, shift=0.0):
    """Exercise 08.1 in NumPy: s by Gumbel-max from u, then zeta~ given s from v (log space);
    shift != 0 uses unnormalised log-probabilities, the likely slip."""
    draws = h.noise_for(model, "rebar", 20_000, seed=9)
    logits = model.params["logits"].numpy()
    log_p = logits - np.log(np.sum(np.exp(logits)))
    s = np.eye(model.buckets)[np.argmax(log_p - np.log(-np.log(draws["u"][:, 0])), axis=-1)]
    log_e = np.log(-np.log(draws["v"][:, 0]))
    log_e_s = np.sum(s * log_e, axis=-1, keepdims=True)
    others = -np.logaddexp(log_e - (log_p + shift), log_e_s)
    return np.where(s > 0, -log_e_s, others)


def test_exercise_check_of_the_conditional_gumbel_draws(capsys):
    # 08.1: the draws for noise_for(model, "rebar", 20_000, seed=9), written independently here.
    model = h.make_model(dim=3, buckets=4, seed=2)
    right = _numpy_conditional_gumbel(model)
    unnormalised = _numpy_conditional_gumbel(model, shift=0.5)  # still puts s on top
    assert np.all(np.argmax(unnormalised, -1) == np.argmax(right, -1))
    verdicts = _verdicts(capsys, "08.1", [right, unnormalised, right[:10]], model=model)
    assert verdicts[:2] == ["correct", "not yet"]
    assert (
        verdicts[2]
        == "not yet: expected an array of shape (20000, 4), got an array of shape (10, 4)"
    )


def test_exercise_04_1_slips_start_from_the_optimal_baseline_written_out():
    model = h.make_model(dim=2, buckets=4, seed=3)
    p = model.probs().numpy()
    means = sum(v.numpy() ** 2 for v in model.conditionals(np.eye(4)))  # mu^2 + sigma^2
    r = np.sum((np.eye(4) - p) ** 2, axis=1)  # the logits' squared score for each s
    b = h.estimators.optimal_baseline_at(model.problem(h.square), model.params, True)
    np.testing.assert_allclose(p @ (means * r) / (p @ r), b, rtol=1e-12)
    assert _verdicts_of("04.1", [p @ (means * r)], model=model) == [
        "not yet: divide by the mean squared score, sum_s p_s r_s"
    ]


def _verdicts_of(exercise, answers, **context):
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()) as out:
        for answer in answers:
            h.exercises.check(exercise, answer, **context)
    return [line.split(": ", 1)[1] for line in out.getvalue().splitlines()]


def test_exercise_09_1_slips_start_from_the_exact_sum_over_the_other_latents():
    # The slips change one thing in the sum the student writes; unchanged, it is the answer.
    model = h.make_model(dim=3, buckets=3, seed=1, latents=3)
    slips = h.exercises.EXERCISES["09.1"].slips(model)
    exact = h.exact_gradient(model)["logits"][0]
    np.testing.assert_allclose(-slips["check the sign"], exact, rtol=1e-12)


def _numpy_nll_first_image(weights, x, latents):
    """-log p(x[0]) by enumerating every code through the decoder, in NumPy float64."""
    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    buckets = w["dec_w1"].shape[0] // latents
    codes = np.array(list(itertools.product(range(buckets), repeat=latents)))
    one_hot = np.eye(buckets)[codes].reshape(len(codes), -1)  # (K**n, n K)
    logits = np.tanh(one_hot @ w["dec_w1"] + w["dec_b1"]) @ w["dec_w2"] + w["dec_b2"]
    image = np.asarray(x[0], dtype=np.float64)
    log_px_s = (image * logits - np.logaddexp(0, logits)).sum(axis=1)
    return latents * np.log(buckets) - float(np.logaddexp.reduce(log_px_s))


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_exercise_11_1_accepts_the_likelihood_by_enumeration_and_names_the_prior(capsys, dtype):
    arch = h.vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
    weights = h.vae.init_weights(arch, seed=2, dtype=dtype)
    x = np.array([[1, 0, 1, 1], [0, 1, 0, 0]], dtype=np.float32)
    nll = _numpy_nll_first_image(weights, x, 2)
    context = dict(weights=weights, x=x, latents=2)
    answers = [nll, np.float32(nll), -nll, nll - 2 * np.log(3)]
    verdicts = _verdicts(capsys, "11.1", answers, **context)
    assert verdicts[:2] == ["correct", "correct"]
    assert "check the sign" in verdicts[2] and "the prior p(s) = K**-n enters" in verdicts[3]


def _vimco_by_hand(weights, x, u, latents):
    """VIMCO's surrogate written out as a student would, and its gradient for enc_b2."""
    x, u = tf.cast(x, weights["enc_w1"].dtype), tf.cast(u, weights["enc_w1"].dtype)
    buckets, draws = u.shape[-1], u.shape[1]
    decoder = h.vae.DecoderProblem.from_weights(weights, latents)
    with tf.GradientTape() as tape:
        tape.watch(weights["enc_b2"])
        log_probs = tf.nn.log_softmax(h.vae.encode(weights, x, latents))[:, None]
        s = tf.one_hot(
            tf.argmax(log_probs - tf.math.log(-tf.math.log(u)), -1), buckets, dtype=u.dtype
        )
        log_q = tf.reduce_sum(s * log_probs, axis=[-2, -1])
        log_w = -latents * np.log(buckets) - decoder.objective({"x": x[:, None]}, s, None) - log_q
        bound = tf.reduce_logsumexp(log_w, axis=1) - np.log(draws)
        others = (tf.reduce_sum(log_w, axis=1, keepdims=True) - log_w) / (draws - 1)
        replaced = tf.linalg.set_diag(tf.repeat(log_w[:, None], draws, axis=1), others)
        baselines = tf.reduce_logsumexp(replaced, axis=-1) - np.log(draws)
        signal = tf.stop_gradient(bound[:, None] - baselines)
        loss = tf.reduce_mean(-bound - tf.reduce_sum(signal * log_q, axis=1))
    return tape.gradient(loss, weights["enc_b2"]).numpy()


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_exercise_10_3_accepts_vimco_written_out_and_names_a_dropped_baseline(capsys, dtype):
    # The check's answer comes from vae.vimco; a version written from the paper must match it.
    arch = h.vae.Architecture(latents=2, buckets=3, hidden=5, pixels=4)
    weights = h.vae.init_weights(arch, seed=2, dtype=dtype)
    u = np.random.default_rng(3).uniform(0.01, 0.99, (3, 4, 2, 3))
    x = np.eye(4)[:3]
    answer = _vimco_by_hand(weights, x, u, 2)
    context = dict(weights=weights, x=x, u=u, latents=2)
    verdicts = _verdicts(capsys, "10.3", [answer, list(answer), 3 * answer], **context)
    assert verdicts[0] == "correct" and "average the surrogate" in verdicts[2]
