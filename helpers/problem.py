"""The interface every estimator is written against (`Problem`), and helpers for it.

Estimators see a problem only through `Problem`; the series' model is one provider
(helpers.model_problem), and a new problem (a discrete VAE's decoder) changes no estimator.
"""

import contextlib
import dataclasses
import functools
import math
from typing import Protocol

import numpy as np

from . import checks
from ._tf import tf
from .tracing import stable


class Problem(Protocol):
    """An objective with n categorical latents, as the estimators see it.

    L(theta) = E_{s, noise}[ g_theta(s, noise) ]: s = (s_1, ..., s_n) are n independent
    categoricals of K categories each whose logits depend on theta, `noise` the problem's own
    continuous noise (the model's Gaussian eps; a problem without one returns zeros and ignores
    them). `params` may carry leading batch axes (per replicate, per sample) that broadcast
    against those of s and noise: one traced pass, many replicates. A method that takes s or
    noise may leave out (or have of size 1) the axes of an argument it ignores: its value is
    broadcast; logits keep params' batch axes. `Checked` checks shapes and dtypes.

    Required:
        latents: n, an int (static: it selects the traced code); dtype: float32 or float64
        logits(params) -> (..., n, K), the logits of the n categoricals
        objective(params, s, noise) -> (...), g_theta(s, noise) for s (..., n, K), one-hot
            or relaxed, and noise (...)
        noise(seed, shape) -> noise of shape `shape` (stateless: a seed, the same numbers)

    Optional, each a fast or extra path an estimator uses when it is there:
        objective_all(params, noise) -> (..., N, K**n), the objective at every joint
            configuration (numbered as in `configurations`) for N noise draws each (noise
            (..., N, K**n)), without K**n one-hots (elementary)
        objective_one_changed(params, s, noise) -> (..., n, K), the objective at a one-hot s
            with latent i set to category k, for every (i, k) (noise broadcastable to
            (..., n, K)), without n K changed one-hots (IndeCateR)
        scored_objective(params, s, noise) -> (values with the continuous sample held fixed,
            its log density given s) (the score function with pathwise_z=False)
        optimal_baseline(params, pathwise_z) -> (..., 1), the score function's variance-optimal
            constant baseline (baseline="optimal")
        exact(params) -> (...), the exact objective, which `optimise` records

    The helpers' own problems (frozen dataclasses) share traced functions (`split_tensors`); any
    other object is traced afresh at every call, so a changed attribute is always seen.
    """

    latents: int
    dtype: tf.DType

    def logits(self, params): ...

    def objective(self, params, s, noise): ...

    def noise(self, seed, shape): ...


# Joint configurations are numbered with s_1 the most significant digit: c = sum_i s_i
# K**(n - 1 - i), so for n = 1 configuration c is category c. Enumerating more raises a
# ValueError: at 2**20 (K = 4, n = 10) the exact gradient took 0.7 s (f = square) to 5 s
# (quadrature) on a shared 2-core CPU and the elementary estimator pays 2**20 evaluations per
# sample, both linear in K**n (benchmarks/run.py). The enumeration runs in chunks.
MAX_CONFIGURATIONS = 2**20


def check_enumerable(latents, buckets, what):
    """A ValueError when K**n joint configurations are too many to enumerate (K**n of 2**64
    or more is given by its power of ten: 2**20000 has too many digits)."""
    if buckets > 1 and latents * math.log2(buckets) >= 64:
        count = f"about 10**{latents * math.log10(buckets):.0f}"
    elif buckets**latents > MAX_CONFIGURATIONS:
        count = f"{buckets**latents:,}"
    else:
        return
    raise ValueError(
        f"{what} enumerates all K**n = {buckets}**{latents} = {count} joint configurations, "
        f"more than the limit of 2**20 = {MAX_CONFIGURATIONS:,} (at the limit the exact "
        "gradient takes seconds on a laptop CPU, and time grows linearly beyond); use fewer "
        "latents or categories, or a sampling estimator (score_function, gumbel_softmax)"
    )


def configurations(latents, buckets, start=0, size=None):
    """The joint configurations start, ..., start + size - 1 as category indices: (size, n).
    buckets and start may be tensors (traced functions see any K); size defaults to K**n."""
    buckets = tf.cast(buckets, tf.int64)
    size = buckets**latents if size is None else size
    flat = tf.cast(start, tf.int64) + tf.range(tf.cast(size, tf.int64), dtype=tf.int64)
    digits = [(flat // buckets ** (latents - 1 - i)) % buckets for i in range(latents)]
    return tf.stack(digits, axis=-1)


def gather_configurations(per_category, index):
    """sum_i per_category[..., i, index[c, i]] for every configuration c: (..., C).
    per_category: (..., n, K), a log-probability or an additive contribution per latent and
    category; index (C, n) from `configurations`."""
    shape = tf.shape(per_category)
    latents, buckets = index.shape[-1], tf.cast(shape[-1], tf.int64)
    flat = tf.reshape(per_category, tf.concat([shape[:-2], [-1]], 0))  # (..., n K)
    positions = tf.range(latents, dtype=tf.int64) * buckets + index
    return tf.reduce_sum(tf.gather(flat, positions, axis=-1), axis=-1)


def joint_probs(logits, latents, index=None):
    """p(s = c) for joint configurations c: (..., C), from logits (..., n, K). For n = 1
    softmax(logits) itself (index is not used); for n > 1 the product of the n marginal
    probabilities, over `index` (all K**n configurations by default)."""
    if latents == 1:
        return tf.nn.softmax(logits[..., 0, :], axis=-1)
    if index is None:
        index = configurations(latents, tf.shape(logits)[-1])
    return tf.exp(gather_configurations(tf.nn.log_softmax(logits, axis=-1), index))


def split_tensors(problem):
    """(the problem with its tensor fields (the model's x) set to None, which selects a traced
    function; those tensors by name, its arguments). A problem that is not one of the helpers'
    own dataclasses (never shared: helpers.tracing) is passed as it is."""
    if not dataclasses.is_dataclass(problem) or not stable(type(problem)):
        return problem, {}
    fields = {field.name: getattr(problem, field.name) for field in dataclasses.fields(problem)}
    tensors = {name: value for name, value in fields.items() if tf.is_tensor(value)}
    return dataclasses.replace(problem, **dict.fromkeys(tensors)), tensors


def join_tensors(structure, tensors):
    """The problem `split_tensors` took apart (one without tensors was passed as it was)."""
    return dataclasses.replace(structure, **tensors) if tensors else structure


# The methods whose value may leave out (or have of size 1) an axis of an argument it ignores:
# (`extra` axes of 1 appended to params' batch axes, the trailing non-batch axes of each other
# argument: s's (n, K)). The value's shape is those batch axes broadcast together.
SHAPES = {
    "objective": (0, (2, 0)),
    "scored_objective": (0, (2, 0)),  # a pair, each checked
    "objective_all": (2, (0,)),
    "objective_one_changed": (2, (0, 0)),
    "exact": (0, ()),
}
SHAPE_CHECK = "Problem output shape:"  # marks `Checked`'s run-time assertion for shape_errors


@contextlib.contextmanager
def shape_errors():
    """A problem method's output of the wrong shape (found when it ran) as a ValueError."""
    try:
        yield
    except tf.errors.InvalidArgumentError as err:
        if SHAPE_CHECK not in err.message:
            raise
        text = err.message[err.message.index(SHAPE_CHECK) + len(SHAPE_CHECK) :].splitlines()[0]
        message, full, broadcast, got = text.strip(" []").split("] [")
        full, got = (tuple(int(size) for size in shape.split()) for shape in (full, got))
        raise ValueError(f"{message} {full}, {broadcast} {got}") from None


class Checked:
    """A problem as the estimators see it: latents an int, dtype a tf.DType (a name or a numpy
    type is accepted), and the shape and dtype of its methods' values checked when traced (the
    static shape) and when they run (an assertion on the shape), since a value broadcast
    against the other replicates gives wrong gradients. params: dict name -> tensor or numpy
    array (`self.params`), with `batch` leading batch axes (optimise's runs)."""

    def __init__(self, problem, params, batch=0):
        self.inner, self.name = problem, type(problem).__name__
        for attribute in ("latents", "dtype"):
            if not hasattr(problem, attribute):
                raise ValueError(
                    f"{self.name} needs a `{attribute}` attribute (helpers.problem.Problem: "
                    "latents, the number n of categoricals; dtype, float32 or float64)"
                )
        self.latents = checks.integer(problem.latents, f"{self.name}.latents", 1)
        self.dtype = checks.dtype(problem.dtype, f"{self.name}.dtype")
        self.params = self._params(params)
        self.ranks = {name: len(value.shape) - batch for name, value in self.params.items()}
        # The helpers' own problems are tested to return the documented shapes and draw
        # statelessly: they skip the checks and their tracing time. Others: one small draw
        # twice at a call's entry (not in a trace).
        self.trusted = stable(type(problem))
        if tf.executing_eagerly() and not self.trusted:
            seed, shape = tf.constant([1, 0], tf.int64), tf.constant([2, 3])
            if not np.array_equal(self.noise(seed, shape), self.noise(seed, shape)):
                raise ValueError(
                    f"{self.name}.noise(seed, shape) must be stateless (the same seed gives "
                    "the same numbers, e.g. tf.random.stateless_normal(shape, seed)); it gave "
                    "different numbers for one seed"
                )

    def _params(self, params):
        """params with numpy arrays as tensors of the problem's dtype, or a ValueError."""
        allowed = f"tensors of the problem's dtype ({self.dtype.name}) or numpy arrays"
        if not isinstance(params, dict) or not params:
            raise ValueError(
                f"params must be a non-empty dict name -> {allowed}, got {type(params).__name__}"
            )
        out = {}
        for name, value in params.items():
            if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
                value = tf.constant(value, self.dtype)
            if not tf.is_tensor(value) or value.dtype != self.dtype:
                tensor = tf.is_tensor(value)
                got = f"a {value.dtype.name} tensor" if tensor else type(value).__name__
                raise ValueError(f"params[{name!r}] must be one of {allowed}, got {got}")
            out[name] = value
        return out

    def __getattr__(self, name):  # an optional method the problem lacks: AttributeError
        if name == "scored_objective" and not hasattr(self.inner, name):
            raise ValueError(
                "pathwise_z=False scores the continuous sample too, so it needs the problem's "
                f"scored_objective(params, s, noise); {self.name} has none: use pathwise_z=True"
            )
        method = getattr(self.inner, name)
        if name not in SHAPES or self.trusted:
            return method
        extra, trailing = SHAPES[name]

        def checked(params, *args):
            parts = [(v, self.ranks[k], extra) for k, v in params.items() if k in self.ranks]
            parts += [(t, axes, 0) for t, axes in zip(args, trailing, strict=True)]
            out = method(params, *args)
            if name == "scored_objective":
                return tuple(self._fit(name, value, parts) for value in out)
            return self._fit(name, out, parts)

        return checked

    def _error(self, what, out, expected, broadcast=""):
        got = f"{out.shape} {out.dtype.name}" if tf.is_tensor(out) else type(out).__name__
        return ValueError(
            f"{self.name}.{what} must return a {self.dtype.name} tensor of shape {expected} "
            f"(None: any size){broadcast}, got {got}"
        )

    def _fit(self, what, out, parts):
        """out, broadcast to the shape the batch axes of `parts` broadcast to: each (tensor, its
        trailing axes that are not batch axes, axes of 1 to append). out may leave out leading
        axes only down to some argument's batch axes (or a scalar): the sizes of a trace's axes
        are unknown, so (R,) would otherwise pass as (R, N) whenever R = N."""
        batch = [t.shape[: len(t.shape) - d].concatenate([1] * e) for t, d, e in parts]
        expected = functools.reduce(tf.broadcast_static_shape, batch)
        if tf.is_tensor(out) and out.shape.rank is None:  # nothing known to check
            return out
        rank, shape = (out.shape.rank, list(out.shape)) if tf.is_tensor(out) else (-1, [])
        pairs = list(zip(shape[::-1], list(expected)[::-1], strict=False))
        # objective_all's and objective_one_changed's own axes must be in any value
        ranks = {0, *(s.rank for s in batch)} if not any(e for *_, e in parts) else set()
        fits = rank in {expected.rank, *ranks} and out.dtype == self.dtype
        if not fits or any(d not in (None, 1, e) and e is not None for d, e in pairs):
            rule = ", or one that broadcasts to it"
            if not ranks:
                rule = ", with all its axes (each that size or 1)"
            raise self._error(what, out, expected, rule)
        shapes = [
            tf.concat([tf.shape(t)[: len(t.shape) - d], tf.ones([e], tf.int32)], 0)
            for t, d, e in parts
        ]
        full = functools.reduce(tf.broadcast_dynamic_shape, shapes)
        got, want = tf.shape(out), full[expected.rank - rank :]
        message = f"{SHAPE_CHECK} {self.name}.{what} must return a tensor of shape"
        broadcast = "or one that broadcasts to it (each axis that size or 1), got shape"
        ok = tf.reduce_all((got == want) | (got == 1))
        ok = tf.debugging.Assert(ok, [message, full, broadcast, got], summarize=64)
        with tf.control_dependencies([ok]):
            out = tf.identity(out)
        if len(pairs) == expected.rank and all(d != 1 or e == 1 for d, e in pairs):
            return out
        return tf.broadcast_to(out, full)

    def _exactly(self, what, out, expected):
        if tf.is_tensor(out) and out.dtype == self.dtype and out.shape.is_compatible_with(expected):
            return out
        raise self._error(what, out, expected)

    def logits(self, params):
        """(..., n, K): at least the batch axes of params (a problem's own may follow them)."""
        batch = [len(v.shape) - self.ranks[k] for k, v in params.items() if k in self.ranks]
        out = self.inner.logits(params)
        rank = max(out.shape.rank or 0, max(batch) + 2) if tf.is_tensor(out) else 2
        expected = tf.TensorShape([None] * (rank - 2) + [self.latents, None])
        return self._exactly("logits", out, expected)

    def noise(self, seed, shape):
        shape = tf.convert_to_tensor(shape)
        known = tf.get_static_value(shape, partial=True)
        expected = tf.TensorShape([None] * shape.shape[0] if known is None else known)
        return self._exactly("noise", self.inner.noise(seed, shape), expected)
