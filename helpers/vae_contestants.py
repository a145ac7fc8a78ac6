"""The nine contestants notebooks 10 and 11 train the digits' VAE with, and the rule that stops
their training. Notebook 10 trains them (`train_until_settled`) and saves their weights there;
notebook 11 reads them back (`trained_weights`), or trains them again where the file is
missing or holds another training: the same call, so the same weights.
"""

import hashlib
from pathlib import Path

import numpy as np

from . import checks
from ._tf import tf
from .plotting import Contestant
from .tracing import release_traces

__all__ = ["ANNEAL_TO", "RATES", "RULE", "contestants", "train_until_settled", "trained_weights"]

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
    from . import vae  # here: vae imports this module

    unknown = sorted(set(contestants) - set(RATES))
    if unknown:
        raise ValueError(f"no learning rate for {unknown}: RATES has {sorted(RATES)}")
    runs, change = {}, {}
    for label, c in contestants.items():
        run = None
        while run is None or (
            np.abs(change[label]).max() >= RULE["settled"] and run.steps[-1] < RULE["most"]
        ):
            run = vae.train_copies(
                c.estimator, fit_x, validation_x, arch, c.samples,
                RULE["steps"] if run is None else RULE["more"], RULE["batch_size"], RATES[label],
                seeds, evaluate_every=RULE["evaluate_every"], anneal_to=ANNEAL_TO.get(label),
                resume=run, **c.options,
            )  # fmt: skip
            scored_on = (validation_x, arch.latents) if c.estimator == "vimco" else ()
            change[label] = vae.last_fifth_change(run, *scored_on)[:, 0]  # per seed
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
