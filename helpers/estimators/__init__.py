"""Gradient estimators, each written once as a surrogate loss against a problem.

A surrogate takes a problem (helpers.problem.Problem: the logits of n
categorical latents and an objective), a parameter mapping whose tensors carry
a leading replicate axis R, a batch of noise and its options, and returns R
scalars: the gradient of scalar r with respect to replicate r's parameters is
that replicate's gradient estimate. `sampling.gradient_samples` turns any
registered estimator into per-replicate gradients in one batched pass, and
`optimise` into steps of Adam. No estimator knows which model it differentiates.

The record below says everything the engine needs to know about one estimator;
the families, one file each, write and register theirs: enumeration.py (the
exact gradient, elementary, IndeCateR), relaxations.py (Gumbel-softmax,
Gumbel-Rao), score_function.py (score function and its baselines,
sum-and-sample, unordered set) and control_variates.py (REBAR, RELAX). The
draws they share (Gumbel-max, relaxed one-hots, ...) are in draws.py.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..problem import check_enumerable

Tensors = Mapping  # name -> tensor
# (problem, params (R, ...), noise, **options) -> (R,) surrogates
Surrogate = Callable[..., object]
# (problem, seed, n_replicates, n_samples, buckets, **noise options) -> noise tensors
NoiseMaker = Callable[..., Tensors]
# (buckets, n_samples, latents=1, **options) -> model evaluations per estimate
Cost = Callable[..., float]
# (options, n_samples, latents, buckets, dtype=None) -> checked options, or a ValueError
OptionCheck = Callable[..., dict]
# (problem, params, options) -> options: theta-only work, once per call of gradient_samples
Prepare = Callable[..., dict]
# (problem, latents, buckets, n_samples, options) -> (noise values one replicate draws,
# values its pass holds at once): the first sizes the chunks, the second groups them
Sizes = Callable[..., tuple]
# The parts of a ControlVariate, see there.
Init = Callable[..., Tensors]
Value = Callable[..., dict]
Update = Callable[..., Tensors]
Gradients = Callable[..., tuple]
Report = Callable[..., dict]


def per_category_sizes(problem, latents, buckets, n_samples, options):
    """n K uniforms per sample: noise and working set alike."""
    return (n_samples * latents * buckets,) * 2


@dataclass(frozen=True, eq=False)
class ControlVariate:
    """What optimise carries from one step to the next for a baseline or a learned
    control variate, optax-style: a state, the value read from it, and its update.

    init(problem, params, options) -> state, a dict of tensors with a leading run
        axis (params carry it), made once per call; options hold the estimator's
        options and optimise's settings for it (decay, state_learning_rate).
    value(state, step) -> the options the surrogate reads at this step.
    update(state, step, values, state_gradient) -> the next state, after the step:
        a baseline never sees the draw it multiplies.
    gradients: how a step's estimates are taken, (estimator, problem, params,
        noise, options, names) -> (gradients, values (R,), state_gradient); None:
        one tape over the surrogates, and values are the surrogates.
    report(state, values) -> what optimise returns beside the loss; values
        (steps, R) are every step's.
    A baseline that depends on the draws alone (constant, optimal, leave-one-out)
    needs no state: it is an option of its surrogate, and NO_STATE is its record.
    """

    init: Init = lambda problem, params, options: {}
    value: Value = lambda state, step: {}
    update: Update = lambda state, step, values, state_gradient: state
    gradients: Gradients = None
    report: Report = lambda state, values: {}


NO_STATE = ControlVariate()


@dataclass(eq=False)
class Estimator:
    """An estimator: its surrogate, its noise, its options, its cost, the problems it handles."""

    name: str
    surrogate: Surrogate
    noise: NoiseMaker
    evaluations: Cost  # math.inf for an oracle, which reads the exact gradient off the problem
    options: dict = field(default_factory=dict)  # option name -> default value
    check: OptionCheck = None
    prepare: Prepare = None  # every replicate of gradient_samples shares one theta
    enumerates: bool = False  # sums over all K**n joint configurations
    max_latents: int = None  # the most latents it handles; None: any number
    noise_options: tuple = ()  # options that `noise` also takes, as keywords
    sizes: Sizes = per_category_sizes
    control: ControlVariate = NO_STATE  # what optimise carries between steps

    def checked_options(self, options, n_samples, latents, buckets, dtype=None):
        """The options merged with the defaults and checked, for a problem of this size.

        dtype, when given, is the problem's: numbers must be representable in it.
        """
        if self.max_latents is not None and latents > self.max_latents:
            raise ValueError(
                f"estimator {self.name!r} handles at most {self.max_latents} categorical "
                f"latent(s), got a problem with latents={latents}"
            )
        if self.enumerates:
            check_enumerable(latents, buckets, f"estimator {self.name!r}")
        unknown = sorted(set(options) - set(self.options))
        if unknown and self.evaluations(buckets, n_samples) == float("inf"):
            raise ValueError(f"the {self.name} gradient takes no options, got {unknown}")
        if unknown:
            allowed = ", ".join(sorted(self.options)) or "none"
            raise ValueError(
                f"estimator {self.name!r} has no option {unknown[0]!r}; allowed options: {allowed}"
            )
        merged = {**self.options, **options}
        return (
            self.check(merged, n_samples, latents, buckets, dtype=dtype) if self.check else merged
        )


ESTIMATORS = {}


def register(estimator):
    """Make an Estimator available by name and by its surrogate function."""
    ESTIMATORS[estimator.name] = estimator
    return estimator


def resolve(estimator):
    """The Estimator for a name or a registered surrogate function."""
    if isinstance(estimator, Estimator):
        return estimator
    for known in ESTIMATORS.values():
        if estimator == known.name or estimator is known.surrogate:
            return known
    names = ", ".join(repr(name) for name in ESTIMATORS)
    raise ValueError(f"unknown estimator {estimator!r}; known estimators: {names}")


# Each family registers its estimators on import, in the order of the notebooks.
from .draws import (  # noqa: E402
    conditional_gumbel,
    gumbel,
    gumbel_max,
    gumbel_top_k,
    relaxed_one_hot,
    uniform_per_category,
    with_sample_axis,
)
from .enumeration import (  # noqa: E402
    elementary,
    exact,
    indecater,
    indecater_noise,
    noise_per_configuration,
    one_latent_changed,
)
from .relaxations import gumbel_rao, gumbel_softmax, uniform_and_conditionals  # noqa: E402
from .score_function import (  # noqa: E402
    BASELINES,
    MOVING_AVERAGE,
    leave_one_out_mean,
    noise_with_categories,
    optimal_baseline_at,
    score_function,
    score_term,
    set_weights,
    sum_and_sample,
    unordered_set,
)

# isort: split
from .control_variates import rebar, relax, uniform_twice  # noqa: E402

__all__ = [
    "BASELINES",
    "ESTIMATORS",
    "MOVING_AVERAGE",
    "NO_STATE",
    "ControlVariate",
    "Estimator",
    "conditional_gumbel",
    "elementary",
    "exact",
    "gumbel",
    "gumbel_max",
    "gumbel_rao",
    "gumbel_softmax",
    "gumbel_top_k",
    "indecater",
    "indecater_noise",
    "leave_one_out_mean",
    "noise_per_configuration",
    "noise_with_categories",
    "one_latent_changed",
    "optimal_baseline_at",
    "rebar",
    "register",
    "relax",
    "relaxed_one_hot",
    "resolve",
    "score_function",
    "score_term",
    "set_weights",
    "sum_and_sample",
    "uniform_and_conditionals",
    "uniform_per_category",
    "uniform_twice",
    "unordered_set",
    "with_sample_axis",
]
