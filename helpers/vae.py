"""Training the categorical VAE of notebook 10 with the series' estimators: any registered one
that handles n latents, batched and traced, or "vimco", which maximises the importance-weighted
bound L_N instead of the ELBO; the decoder's weights get their gradient pathwise.
`train_copies` trains many runs (seeds, learning rates) in one pass, `train` one; either
continues a Run (resume=). `h.vae.X` also reaches helpers.vae_model (data, networks, scores),
vae_gradients (gradient samples) and vae_exact (the exact gradient, the encoder's refit); its
last part is notebooks 10 and 11's nine contestants and the rule that stops their training.
Unlike the model's helpers (the model first), these take the estimator, the weights, the
images, then the architecture.
"""

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import checks, vae_exact, vae_gradients, vae_model, vae_relax
from ._tf import tf
from .adam import adam, zero_moments
from .plotting import Contestant
from .sampling import chunk_noise, split_options
from .tracing import release_traces, trace_cache
from .vae_exact import *  # noqa: F403  (h.vae.X reaches the exact gradient too)
from .vae_gradients import *  # noqa: F403  (h.vae.X reaches the gradients too)
from .vae_gradients import checked_estimator, surrogate_loss
from .vae_model import *  # noqa: F403  (h.vae.X reaches the model's names too)

__all__ = [*vae_model.__all__, *vae_gradients.__all__, *vae_exact.__all__, "ANNEAL_TO", "RATES",
           "RULE", "Run", "contestants", "train", "train_copies", "train_until_settled",
           "trained_weights"]  # fmt: skip

EVALUATION_SEED = 10_000  # one fixed set of draws for every held-out -ELBO: common random numbers


def _step(estimator, latents, options, weights, moments, control, t, x, seeds, n_samples,
          rates):  # fmt: skip
    """Step t of C = S L copies at once. Copy c = s L + l starts from seed s's weights and
    takes its images x[s] (S, B, pixels), its noise from the seed seeds[s] folded with t,
    and its learning rate rates[c] (C,). Each copy's loss depends on its own weights only,
    so the gradient of their sum is every copy's own. Weights without the copy axis: one
    copy (train). control: every copy's RELAX psi (vae_relax), learned in the same pass."""
    copies = tf.shape(rates)[0]
    repeats = copies // len(seeds)  # copies per seed
    x = tf.repeat(x, repeats, axis=0)  # (C, B, pixels)
    with tf.GradientTape() as tape:
        tape.watch(weights)
        logits = vae_model.encode(weights, x, latents)  # (C, B, n, K)
        problem = vae_model.DecoderProblem.from_weights(weights, latents)
        params = {"logits": vae_model.rows(logits), "x": tf.reshape(x, [-1, tf.shape(x)[-1]])}
        sizes = tf.shape(x)[1], n_samples, tf.shape(logits)[-1]
        draws = [
            chunk_noise(estimator, problem, tf.random.experimental.stateless_fold_in(seed, t),
                        *sizes, options)
            for seed in seeds
        ]  # fmt: skip
        stacked = {name: tf.stack([d[name] for d in draws]) for name in draws[0]}  # (S, B, ...)
        noise = {name: vae_model.rows(tf.repeat(v, repeats, 0)) for name, v in stacked.items()}
        if control:  # RELAX's surrogate is vae_relax.one_pass's: the KL term only here
            losses = vae_model.kl_to_uniform(params["logits"])
        else:
            losses = surrogate_loss(estimator, problem, params, noise, options)
        loss = tf.reduce_sum(tf.reduce_mean(tf.reshape(losses, [copies, -1]), axis=1))
    if control:
        grads, control = vae_relax.one_pass(tape, loss, weights, problem, params, noise, control, t)
    else:
        grads = tape.gradient(loss, weights)
    for name, grad in grads.items():  # each copy at its own rate
        rate = tf.reshape(rates, [-1] + [1] * (grad.shape.rank - 1))
        weights, moments = adam(weights, grads, moments, t, rate, names=(name,))
    return weights, moments, control


@trace_cache
def _traced_steps(estimator, latents, static_options, n_seeds, n_copies):
    # One trace per grid, n_copies a known size (see vae_model.two_layers); False: train's
    # weights without the copy axis, another rank than one copy's (no shapes relaxed).
    @tf.function(reduce_retracing=True)
    def steps(state, start, stop, indices, data, seeds, n_samples, dynamic, rates, taus):
        """Steps start, ..., stop - 1 of every copy in one traced loop: no Python between."""
        for t in tf.range(start, stop):
            options = {**dict(static_options), **dynamic}
            if taus is not None:
                options["tau"] = taus[t]
            x = tf.gather(data, indices[t])  # (S, B, pixels)
            args = t, x, tf.unstack(seeds, n_seeds), n_samples, rates
            state = _step(estimator, latents, options, *state, *args)
        return state

    return steps


@dataclass
class Run:
    """One training run: held-out -ELBO at the checkpoints, and when they were reached.
    From train_copies, weights and test_loss lead with (seeds, learning rates)."""

    weights: dict  # name -> tensor, the final weights
    steps: np.ndarray  # (C,) steps done at each checkpoint, 0 first
    test_loss: np.ndarray  # (C,) mean held-out -ELBO (nats per image); inf or nan: diverged
    seconds: np.ndarray  # (C,) training wall time up to each checkpoint, evaluation left out
    step_seconds: float  # mean wall time of one step (of all copies) after the first
    decoder_evaluations: int  # decoder passes per image per step
    checkpoints: list  # the weights at each checkpoint (name -> tensor)
    state: dict = None  # "relax": the learned psi (name -> array) for gradient_samples' state=
    final: tuple = None  # (weights, Adam moments, control) after the last step: for resume=
    setup: dict = None  # seeds, learning rates, arch, batch_size, ...: what resume= must match


def minibatches(n_images, batch_size, steps, seed):
    """(steps, batch_size) image indices: shuffled epochs, the same for every estimator."""
    rng = np.random.default_rng([seed, 1])
    epochs = -(-steps * batch_size // n_images)
    order = np.concatenate([rng.permutation(n_images) for _ in range(epochs)])
    return order[: steps * batch_size].reshape(steps, batch_size)


# arch=Architecture(): a frozen dataclass, so one shared default is safe
def train(estimator, train_x, test_x, arch=vae_model.Architecture(),  # noqa: B008
          n_samples=1, steps=150, batch_size=32, learning_rate=3e-3, seed=0, evaluate_every=25,
          anneal_to=None, eval_samples=16, dtype=tf.float32, resume=None,
          **options):  # fmt: skip
    """Train the VAE with one estimator from the initialisation of `seed` (train_copies' one
    copy, without the copy axis); a ValueError where the held-out loss is non-finite.

    The same seed gives every estimator the same initial weights and minibatches; its own
    noise is drawn from the seed and the step. anneal_to: lower tau geometrically from
    options["tau"] to anneal_to over the run (as Jang et al. 2017). The held-out loss is
    the -ELBO for "vimco" too: compare it with the ELBO's estimators on exact_scores'
    -log p(x), which both objectives bound. "relax" learns its psi beside the weights
    (helpers.vae_relax) from options["state"] or relax_state(K, tau, eta, latents=n), at
    the option state_learning_rate. resume: a Run to continue for `steps` more steps, from
    its weights, Adam's moments and RELAX's psi, on the minibatches and noise of one longer
    run; the Run returned holds both parts, and anneal_to holds tau at its end.
    """
    sizes = n_samples, steps, batch_size, [learning_rate], [seed], evaluate_every
    return _fit(estimator, train_x, test_x, arch, *sizes, anneal_to, eval_samples, dtype, options,
                False, resume)  # fmt: skip


def train_copies(estimator, train_x, test_x, arch=vae_model.Architecture(),  # noqa: B008
                 n_samples=1, steps=150, batch_size=32, learning_rates=(3e-3,), seeds=(0,),
                 evaluate_every=25, anneal_to=None, eval_samples=16, dtype=tf.float32,
                 resume=None, **options):  # fmt: skip
    """train for every (seed, learning rate) pair at once, one copy each, many times faster
    than a train call per pair. Each copy gets what train with its seed and rate would, up
    to float rounding (its layers are batched matrix products), and shares no numbers with
    the others; where one diverges (train would raise) the others go on. To choose the
    rates, pass validation_split's images as test_x."""
    seeds = _grid(seeds, "seeds", lambda seed: checks.integer(seed, "seeds", 0))
    sizes = n_samples, steps, batch_size, learning_rates, seeds, evaluate_every
    return _fit(estimator, train_x, test_x, arch, *sizes, anneal_to, eval_samples, dtype, options,
                True, resume)  # fmt: skip


def _grid(values, name, check):
    """values (a number or a non-empty sequence) as a list of checked values, or a ValueError."""
    values = np.asarray(values, dtype=object)
    if values.ndim > 1 or not values.size:
        raise ValueError(
            f"{name} must be one value or a non-empty flat sequence of them, "
            f"got {values.tolist()!r}"
        )
    values = [check(value) for value in values.ravel()]
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:  # a repeat trains the same copy twice
        raise ValueError(f"{name} has repeated values {repeated}: give each once")
    return values


def _fit(estimator, train_x, test_x, arch, n_samples, steps, batch_size, learning_rates, seeds,
         evaluate_every, anneal_to, eval_samples, dtype, options, copies, resume):  # fmt: skip
    """train_copies (copy c = s L + l), or train (copies=False: one copy, no copy axis)."""
    dtype = checks.dtype(dtype)
    steps = checks.integer(steps, "steps", 1)
    batch_size = checks.integer(batch_size, "batch_size", 1)
    evaluate_every = checks.integer(evaluate_every, "evaluate_every", 1)
    eval_samples = checks.integer(eval_samples, "eval_samples", 1)
    name = "learning_rates" if copies else "learning_rate"
    check = lambda rate: checks.positive_finite(rate, name, dtype)  # noqa: E731
    rates = _grid(learning_rates, name, check) if copies else [check(learning_rates[0])]
    setup = {"seeds": list(seeds), "learning rates": rates, "arch": arch, "batch_size": batch_size}
    rates = tf.constant(np.tile(rates, len(seeds)), dtype)  # (C,): copy s L + l at rate l
    train_x = vae_model.images(train_x, arch.pixels, "train_x")
    test_x = vae_model.images(test_x, arch.pixels, "test_x")
    state_rate = setup["state_learning_rate"] = options.pop("state_learning_rate", None)
    estimator, options = checked_estimator(estimator, arch, n_samples, dtype, options)
    static, dynamic = split_options(options, dtype)
    control = vae_relax.initial_control(estimator, state_rate, dynamic, len(rates), dtype)
    weights = [vae_model.init_weights(arch, s, train_x.mean(axis=0), dtype) for s in seeds]
    initial = weights[0]  # train's: one copy without the copy axis (_step takes both)
    if copies:
        repeats = len(rates) // len(seeds)
        initial = {k: tf.repeat(tf.stack([w[k] for w in weights]), repeats, 0) for k in initial}
    start = 0 if resume is None else _resumed_steps(resume, initial, control, setup)
    end = start + steps  # the steps of the whole run, resumed or not
    taus = _temperatures(estimator, options, anneal_to, steps, dtype)
    if taus is not None and resume is not None:
        taus = np.full(end, taus[-1])  # the schedule ended at anneal_to: hold it
    indices = np.stack([minibatches(len(train_x), batch_size, end, s) for s in seeds], 1)
    loop = _traced_steps(estimator, arch.latents, static, len(seeds), copies and len(rates))
    fixed = (tf.constant(indices), tf.constant(train_x, dtype),
             tf.stack([checks.seed(s) for s in seeds]), tf.constant(n_samples), dynamic, rates,
             None if taus is None else tf.constant(taus, dtype))  # fmt: skip

    def evaluate(weights, t):
        """Each copy's mean held-out -ELBO; for train a ValueError where it is inf or NaN."""
        scores = vae_model.negative_elbo(
            weights, test_x, arch.latents, eval_samples, EVALUATION_SEED
        )
        loss = tf.reduce_mean(scores, axis=-1).numpy().astype(np.float64)
        if not copies and not np.isfinite(loss):
            raise ValueError(
                f"the held-out -ELBO is non-finite ({loss}) at the checkpoint after step {t} "
                f"of {end}: use a smaller learning_rate"
            )
        return loss

    if resume is None:
        state = initial, zero_moments(initial), control
        done, losses, seconds, kept = [0], [evaluate(initial, 0)], [0.0], [initial]
    else:
        state, done, losses, seconds, kept = resume.final, [], [], [], []
    elapsed, first = 0.0, 0.0
    stops = range((start // evaluate_every + 1) * evaluate_every, end, evaluate_every)
    for stop in sorted({start + 1, end, *stops}):
        begin = time.perf_counter()
        bounds = tf.constant(start, tf.int64), tf.constant(stop, tf.int64)
        state = loop(state, *bounds, *fixed)
        state[0]["dec_b2"].numpy()  # wait for the steps (a GPU runs ahead)
        elapsed, start = elapsed + time.perf_counter() - begin, stop
        first = elapsed if stop == end - steps + 1 else first  # it may trace: left out below
        if stop % evaluate_every == 0 or stop == end:
            done.append(stop)
            losses.append(evaluate(state[0], stop))
            seconds.append(elapsed)
            kept.append(state[0])
    step_seconds = (elapsed - first) / (steps - 1) if steps > 1 else float("nan")
    evaluations = estimator.evaluations(arch.buckets, n_samples, latents=arch.latents, **options)
    if copies:  # (C, ...) -> (S, L, ...)
        grid = [len(seeds), -1]
        kept = [{k: tf.reshape(v, [*grid, *v.shape[1:]]) for k, v in w.items()} for w in kept]
        losses = np.moveaxis(np.reshape(losses, [len(losses), *grid]), 0, -1)
    done, losses, seconds = np.array(done), np.array(losses), np.array(seconds)
    if resume is not None:  # the whole run: the resumed part's curves, then this call's
        done = np.concatenate([resume.steps, done])
        losses = np.concatenate([resume.test_loss, losses], axis=-1)
        seconds = np.concatenate([resume.seconds, resume.seconds[-1] + seconds])
        kept = resume.checkpoints + kept
        parts = [(end - steps - 1, resume.step_seconds), (steps - 1, step_seconds)]
        counted = sum(k for k, _ in parts if k > 0)  # steps timed after a first one
        step_seconds = sum(k * v for k, v in parts if k > 0) / counted if counted else np.nan
    learned = vae_relax.learned_state(state[2], len(seeds) if copies else None)
    curves = done, losses, seconds, float(step_seconds), int(evaluations), kept, learned
    return Run(kept[-1], *curves, state, setup)


def _resumed_steps(resume, initial, control, setup):
    """The steps `resume` (a Run) holds, or a ValueError where it cannot continue here."""
    if not isinstance(resume, Run) or resume.final is None:
        raise ValueError(
            f"resume must be a Run that train or train_copies returned, got {resume!r}"
        )
    weights, _, old_control = resume.final
    if any(list(weights[k].shape) != list(initial[k].shape) for k in initial):
        raise ValueError(
            "resume's run has other weights' shapes: resume it with the same arch, and for "
            "train_copies the same seeds and learning_rates (and train's run with train)"
        )
    if weights["dec_b2"].dtype != initial["dec_b2"].dtype:
        raise ValueError(f"resume's run is in {weights['dec_b2'].dtype.name}: pass that dtype")
    for key, value in setup.items():  # a run continued as one longer run: the same settings
        if resume.setup[key] != value:
            raise ValueError(
                f"resume's run was trained with {key} {resume.setup[key]!r}, not {value!r}: "
                "pass the same to continue it"
            )
    if bool(old_control) != bool(control):
        raise ValueError("resume's run was trained with another estimator: RELAX resumes RELAX")
    return int(resume.steps[-1])


def _temperatures(estimator, options, anneal_to, steps, dtype):
    """Each step's tau, from options["tau"] geometrically to anneal_to; None without."""
    if anneal_to is None:
        return None
    if "tau" not in options:
        why = " (RELAX's tau is part of its state)" if "state" in options else ""
        raise ValueError(
            f"anneal_to needs an estimator with a temperature tau, not {estimator.name!r}{why}"
        )
    tau, anneal_to = options["tau"], checks.positive_finite(anneal_to, "anneal_to", dtype)
    return tau * (anneal_to / tau) ** (np.arange(steps) / max(steps - 1, 1))


# The nine contestants notebooks 10 and 11 train the digits' VAE with, and the rule that stops
# their training. Notebook 10 trains them (train_until_settled) and saves their weights there;
# notebook 11 reads them back (trained_weights), or trains them again where the file is missing
# or holds another training: the same call, so the same weights.

# Adam's learning rate per contestant, chosen on a validation split: docs/vae_rates.md
RATES = {
    "Gumbel-softmax, tau = 1": 1e-2,
    "Gumbel-softmax, tau 1 -> 0.3": 1e-2,
    "straight-through, tau = 1": 1e-2,
    "Gumbel-Rao, J = 4": 1e-2,
    "score function + LOO": 1e-2,
    "IndeCateR": 1e-2,
    "REBAR": 1e-2,
    "RELAX": 1e-2,
    "VIMCO": 3e-2,
}
ANNEAL_TO = {"Gumbel-softmax, tau 1 -> 0.3": 0.3}  # tau lowered geometrically to this
# The rule: STEPS steps, then MORE at a time while some seed's score moved SETTLED nats per
# image or more over the last fifth of its training, up to MOST steps.
RULE = {"steps": 1000, "more": 500, "most": 2000, "settled": 0.3, "batch_size": 32,
        "evaluate_every": 100}  # fmt: skip


def contestants(budget):
    """label -> Contestant: the nine, each at most `budget` decoder passes per image and step
    (REBAR and RELAX take 3 per sample, IndeCateR n K for its one joint draw)."""
    budget = checks.integer(budget, "budget", 3)
    c = Contestant
    return {
        "Gumbel-softmax, tau = 1": c("gumbel_softmax", samples=budget),
        "Gumbel-softmax, tau 1 -> 0.3": c("gumbel_softmax", line="--", samples=budget),
        "straight-through, tau = 1": c(
            "gumbel_softmax", {"straight_through": True}, "straight_through", samples=budget
        ),
        "Gumbel-Rao, J = 4": c("gumbel_rao", {"n_gumbel": 4}, samples=budget),
        "score function + LOO": c("score_function", {"baseline": "loo"}, "loo", samples=budget),
        "IndeCateR": c("indecater", samples=1),
        "REBAR": c("rebar", samples=budget // 3),
        "RELAX": c("relax", samples=budget // 3),  # its control variate learned
        "VIMCO": c("vimco", samples=budget),
    }


def train_until_settled(contestants, fit_x, validation_x, arch, seeds=(0, 1, 2), save=None):
    """Train each contestant from every seed at once (vae.train_copies) at its rate in RATES,
    by RULE: while some seed's score moved RULE["settled"] nats or more over the last fifth
    of its training, train RULE["more"] steps more. The score is the 16-draw validation
    -ELBO, VIMCO's the exact -log p(x). Returns (runs, change): label -> Run, and label ->
    each seed's change over the last fifth. save: a path to write the first and final
    weights to, for trained_weights."""
    unknown = sorted(set(contestants) - set(RATES))
    if unknown:
        raise ValueError(f"no learning rate for {unknown}: RATES has {sorted(RATES)}")
    runs, change = {}, {}
    for label, c in contestants.items():
        run = None
        while run is None or (
            np.abs(change[label]).max() >= RULE["settled"] and run.steps[-1] < RULE["most"]
        ):
            run = train_copies(
                c.estimator, fit_x, validation_x, arch, c.samples,
                RULE["steps"] if run is None else RULE["more"], RULE["batch_size"], RATES[label],
                seeds, evaluate_every=RULE["evaluate_every"], anneal_to=ANNEAL_TO.get(label),
                resume=run, **c.options,
            )  # fmt: skip
            scored_on = (validation_x, arch.latents) if c.estimator == "vimco" else ()
            change[label] = vae_exact.last_fifth_change(run, *scored_on)[:, 0]  # per seed
        runs[label] = run
        release_traces()  # this contestant's graphs are not needed again: frees memory
    if save is not None:
        key = _key(contestants, fit_x, validation_x, arch, seeds)
        first = {label: run.checkpoints[0] for label, run in runs.items()}
        _write(save, key, first, {label: run.weights for label, run in runs.items()})
    return runs, change


def trained_weights(path, contestants, fit_x, validation_x, arch, seeds=(0, 1, 2)):
    """(first, final): label -> the weights (name -> (seeds, 1, ...) tensor) at the start
    and the end of train_until_settled's training, read from path where it holds the same
    training (the same contestants, rates, rule, seeds, images, helpers code and versions),
    else trained (one to three minutes for the nine on two cores) and written there. Prints
    which of the two it did."""
    key = _key(contestants, fit_x, validation_x, arch, seeds)
    try:
        with np.load(path) as stored:
            if str(stored["key"]) == key:
                print(f"read {path}: the same contestants, rates, rule, seeds, images and code")
                return _read(stored, list(contestants))
    except (OSError, KeyError, ValueError):  # missing, unreadable, or from older code
        pass
    print(f"{path} is missing or holds another training: training again, then writing it")
    runs, _ = train_until_settled(contestants, fit_x, validation_x, arch, seeds, save=path)
    first = {label: run.checkpoints[0] for label, run in runs.items()}
    return first, {label: run.weights for label, run in runs.items()}


def _key(contestants, fit_x, validation_x, arch, seeds):
    """A digest of everything the training depends on: the contestants, rates and rule, the
    images, the helpers' own code and the versions of TensorFlow and NumPy."""
    spec = repr((sorted(contestants.items()), RATES, ANNEAL_TO, RULE, arch, list(seeds)))
    digest = hashlib.sha256((spec + tf.__version__ + np.__version__).encode())
    for x in (fit_x, validation_x):
        digest.update(np.ascontiguousarray(x, np.float64).tobytes())
    for source in sorted(Path(__file__).parent.rglob("*.py")):  # an edited helper retrains
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _write(path, key, first, final):
    arrays = {"key": np.array(key)}
    for i, label in enumerate(sorted(first)):  # by label: the key sorts them too
        for part, weights in (("first", first), ("final", final)):
            arrays.update({f"{i}.{part}.{name}": v.numpy() for name, v in weights[label].items()})
    np.savez(path, **arrays)


def _read(stored, labels):
    parts = {"first": {}, "final": {}}
    for i, label in enumerate(sorted(labels)):
        for part, weights in parts.items():
            prefix = f"{i}.{part}."
            names = [k for k in stored.files if k.startswith(prefix)]
            weights[label] = {k[len(prefix) :]: tf.constant(stored[k]) for k in names}
    return parts["first"], parts["final"]
