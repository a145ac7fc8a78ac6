"""The Estimator record, the control-variate record, and the registry that each family file
registers its Estimators in, by name."""

from collections.abc import Callable
from dataclasses import dataclass, field

from ..problem import check_enumerable


@dataclass(eq=False)
class Estimator:
    """An estimator: its surrogate, its noise, its options, its cost, the problems it handles."""

    name: str
    surrogate: Callable  # (problem, params (R, ...), noise, **options) -> (R,) surrogates
    noise: Callable  # (problem, seed, R, n_samples, buckets, **noise_options) -> dict of tensors
    # (buckets, n_samples, latents=1, **options) -> model evaluations per estimate;
    # math.inf for an oracle, which reads the exact gradient off the problem
    evaluations: Callable
    options: dict = field(default_factory=dict)  # option name -> default value
    # (options, n_samples, latents, buckets, dtype=None) -> checked options, or a ValueError
    check: Callable = lambda options, *sizes: options
    # (problem, params, options) -> options, once per gradient_samples call (one shared theta)
    prepare: Callable = None
    enumerates: bool = False  # sums over all K**n joint configurations
    max_latents: int = None  # the most latents it handles; None: any number
    why_max_latents: str = ""  # why not more, and what to use instead
    noise_options: tuple = ()  # options that `noise` also takes, as keywords
    # (problem, latents, buckets, n_samples, options) -> (values one replicate's pass holds:
    # sizes the chunks; values one estimate needs: refused above MAX_VALUES_PER_REPLICATE);
    # by default n K uniforms per sample, noise and working set alike
    sizes: Callable = lambda problem, latents, buckets, n_samples, options: (
        (n_samples * latents * buckets,) * 2
    )
    control: "ControlVariate" = field(default_factory=lambda: NO_STATE)  # optimise's state

    def checked_options(self, options, n_samples, latents, buckets, dtype=None):
        """The options merged with the defaults and checked for a problem of this size and
        dtype (when given: numbers must be representable in it)."""
        if self.max_latents is not None and latents > self.max_latents:
            raise ValueError(
                f"estimator {self.name!r} handles at most {self.max_latents} categorical "
                f"latent(s), got a problem with latents={latents}{self.why_max_latents}"
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
        return self.check({**self.options, **options}, n_samples, latents, buckets, dtype)


def per_sample(buckets, n_samples, latents=1, **options):
    """One model evaluation per sample."""
    return n_samples


@dataclass(frozen=True, eq=False)
class ControlVariate:
    """What optimise carries between steps for a learned or moving control variate, optax-style
    (a baseline that depends on the draws alone is an option of its surrogate: NO_STATE).

    init(problem, params, options) -> state, a dict of tensors, once per call
    value(state, step) -> the options the surrogate reads at this step
    update(state, step, values, state_gradient) -> the state after the step
    gradients(estimator, problem, params, noise, options, names) -> (gradients,
        values (R,), state_gradient); None: one tape, values the surrogates
    report(state, values (steps, R)) -> what optimise returns beside the loss
    """

    init: Callable = lambda problem, params, options: {}
    value: Callable = lambda state, step: {}
    update: Callable = lambda state, step, values, state_gradient: state
    gradients: Callable = None
    report: Callable = lambda state, values: {}


NO_STATE = ControlVariate()
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
    if estimator == "vimco":
        raise ValueError(
            "'vimco' is the VAE's estimator of the importance-weighted bound, not of a "
            "problem's expectation: use it with h.vae.train or h.vae.gradient_samples"
        )
    names = ", ".join(repr(name) for name in ESTIMATORS)
    raise ValueError(f"unknown estimator {estimator!r}; known estimators: {names}")
