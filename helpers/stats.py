"""Summaries of gradient samples against a reference gradient.

`grads` is what `gradient_samples` returns: dict name -> array (R, *shape), one row per
independent replicate; `reference` has the same names without the replicate axis, usually
`exact_gradient(model)`. Per-coordinate results keep the parameter shapes; `total` adds a dict up
over every coordinate (for variances: the trace of the covariance), `by_block` within each name.
"""

import warnings

import numpy as np
from scipy import stats as scipy_stats


class ZeroSpreadWarning(UserWarning):
    """A coordinate has no spread over the replicates, so its z-score is infinite."""


def _replicates(grads, minimum=1, reference=None):
    """The number of replicates R in grads, checked: the same for every name and at least
    `minimum`; reference, if given, has every name of grads, finite, with one estimate's shape."""
    if not isinstance(grads, dict) or not grads:
        raise ValueError(f"grads must be a non-empty dict of arrays, got {type(grads).__name__}")
    count = {np.shape(value)[0] if np.ndim(value) else 0 for value in grads.values()}
    if len(count) != 1:
        raise ValueError(f"grads must hold the same number of replicates for every name: {count}")
    count = count.pop()
    if count < minimum:
        raise ValueError(f"this statistic needs at least {minimum} replicate(s), got {count}")
    for name, value in grads.items() if reference is not None else ():
        if name not in reference:
            raise ValueError(f"reference has no entry {name!r}; it needs every name of grads")
        if np.shape(reference[name]) != np.shape(value)[1:]:
            raise ValueError(
                f"reference[{name!r}] has shape {np.shape(reference[name])}, but one estimate "
                f"of {name!r} has shape {np.shape(value)[1:]}"
            )
        if not np.all(np.isfinite(reference[name])):
            raise ValueError(f"reference[{name!r}] has non-finite entries; it must be finite")
    return count


def mean(grads):
    """The average gradient estimate per coordinate."""
    _replicates(grads)
    return {name: np.mean(value, axis=0) for name, value in grads.items()}


def variance(grads):
    """The sample variance (ddof=1) of one estimate per coordinate."""
    _replicates(grads, minimum=2)
    return {name: np.var(value, axis=0, ddof=1) for name, value in grads.items()}


def standard_error(grads):
    """Standard error of the mean estimate per coordinate: sqrt(variance / R)."""
    n = _replicates(grads)
    return {name: np.sqrt(value / n) for name, value in variance(grads).items()}


def bias(grads, reference):
    """mean estimate - reference, per coordinate."""
    _replicates(grads, reference=reference)
    return {name: value - reference[name] for name, value in mean(grads).items()}


def z_scores(grads, reference):
    """(mean - reference) / standard error, per coordinate."""
    errors = standard_error(grads)
    with np.errstate(divide="ignore", invalid="ignore"):  # a NaN estimate gives NaN
        return {  # no spread: exactly right (0) or surely biased (inf)
            name: np.where(errors[name] == 0, np.where(value == 0, 0, np.inf), value / errors[name])
            for name, value in bias(grads, reference).items()
        }


def total(per_coordinate):
    """The sum over every coordinate of every parameter."""
    return float(sum(np.sum(value) for value in per_coordinate.values()))


def by_block(per_coordinate):
    """The sum over the coordinates of each parameter: dict name -> float."""
    return {name: float(np.sum(value)) for name, value in per_coordinate.items()}


def n_coordinates(grads):
    """The number of coordinates of one estimate: the sizes of every parameter, added up."""
    return int(sum(np.size(value) // _replicates(grads) for value in grads.values()))


def bonferroni_z(n_tests, alpha=1e-3):
    """The |z| bound that n_tests two-sided tests share at family-wise level alpha: if every
    mean estimate is unbiased and close to normal (CLT over R replicates), all n_tests |z|
    stay below it with probability at least 1 - alpha."""
    if isinstance(n_tests, bool) or not isinstance(n_tests, int | np.integer) or n_tests < 1:
        raise ValueError(f"n_tests must be an integer >= 1, got {n_tests!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be a probability in (0, 1), got {alpha!r}")
    return float(scipy_stats.norm.isf(alpha / (2 * n_tests)))


def unbiasedness(grads, reference, alpha=1e-3):
    """Worst |z| over all coordinates, and the Bonferroni bound it should stay under. A
    coordinate with the same estimate in every replicate that differs from the reference gets
    z = inf and a ZeroSpreadWarning (see the warning's message)."""
    scores = z_scores(grads, reference)
    untestable = [f"{name}[{i}]" for name, z in scores.items() for i in np.flatnonzero(np.isinf(z))]
    if untestable:
        warnings.warn(
            f"{len(untestable)} coordinate(s) ({', '.join(untestable[:3])}) have the same value "
            f"in all {_replicates(grads)} replicates and differ from the reference: their z is "
            "infinite. Either the estimator is deterministic and biased there, or there are too "
            "few replicates to test them (a category never drawn gives this)",
            ZeroSpreadWarning,
            stacklevel=2,
        )
    scores = np.concatenate([np.ravel(value) for value in scores.values()])
    worst = float(np.max(np.abs(scores)))  # NaN anywhere (a NaN estimate) stays NaN: no pass
    return worst, bonferroni_z(n_coordinates(grads), alpha)


def relative_error(estimate, reference):
    """||estimate - reference|| / ||reference|| over all coordinates."""
    return norm({k: estimate[k] - reference[k] for k in reference}) / norm(reference)


def norm(per_coordinate):
    """The Euclidean norm over every coordinate of every parameter, e.g. ||grad L||."""
    return float(np.sqrt(total({name: np.square(value) for name, value in per_coordinate.items()})))


def clearly_below(a, a_se, b, b_se, z=2.0):
    """Whether a < b by more than z combined standard errors (elementwise): two estimates
    whose difference is within z * sqrt(a_se^2 + b_se^2) are a tie, neither ranked above."""
    if not np.all(np.isfinite(z)) or np.any(np.asarray(z) <= 0):
        raise ValueError(f"z must be a positive number of standard errors, got {z!r}")
    a, a_se, b, b_se = (np.asarray(v, dtype=float) for v in (a, a_se, b, b_se))
    if np.any(a_se < 0) or np.any(b_se < 0):
        raise ValueError("standard errors must be >= 0")
    return a + z * np.hypot(a_se, b_se) < b


def effective_categories(probs):
    """K_eff = 1 / sum_s p_s^2: K for uniform p, close to 1 when one category dominates."""
    p = np.asarray(probs, dtype=float)
    if p.ndim < 1 or p.shape[-1] < 1 or np.any(p < 0) or not np.allclose(p.sum(-1), 1):
        raise ValueError("probs must be non-negative and sum to 1 along the last axis")
    return 1.0 / np.sum(np.square(p), axis=-1)


def decomposition(grads, reference):
    """Squared bias, variance and MSE of one estimate, each with a standard error. squared_bias =
    ||mean - reference||^2 - sum(variance) / R removes the noise of the mean itself (the plain
    ||mean - reference||^2 overstates a small bias by tr Cov / R), so it can come out slightly
    negative when the bias is below the noise. Standard errors: normal approximation for the
    squared bias, with the covariance between coordinates (their errors move together: the
    logits' sum to zero), and the CLT over the per-replicate squared norms for the variance."""
    n = _replicates(grads, 2, reference)
    flat = np.hstack([np.reshape(value, (n, -1)) for value in grads.values()])
    ref = np.concatenate([np.ravel(reference[name]) for name in grads])
    centred = flat - flat.mean(axis=0)
    var = centred.var(axis=0, ddof=1)
    diff = flat.mean(axis=0) - ref
    squared_bias = float(np.sum(diff**2) - np.sum(var) / n)
    # Var ||mean - reference||^2 ~ 4 d' Cov d / R + 2 tr(Cov^2) / R^2 (delta method, Gaussian
    # mean), with the covariance between coordinates: tr(Cov^2) from the smaller Gram matrix.
    projected = centred @ diff
    gram = centred @ centred.T if n < centred.shape[1] else centred.T @ centred
    trace_cov2 = np.sum(gram**2) / (n - 1) ** 2
    squared_bias_se = float(
        np.sqrt(4 * projected @ projected / ((n - 1) * n) + 2 * trace_cov2 / n**2)
    )
    variance = float(np.sum(var))
    variance_se = float(np.sum(centred**2, axis=1).std(ddof=1) / np.sqrt(n))
    return {
        "squared_bias": squared_bias,
        "squared_bias_se": squared_bias_se,
        "variance": variance,
        "variance_se": variance_se,
        "mse": squared_bias + variance,
        "mse_se": float(np.hypot(squared_bias_se, variance_se)),
    }


def paired_mse_difference(grads_a, grads_b, reference):
    """MSE(a) - MSE(b) and its standard error, for two estimators whose replicate r used the same
    noise. Per replicate, d_r = ||a_r - reference||^2 - ||b_r - reference||^2 over every
    coordinate; the difference is mean(d) and its standard error std(d) / sqrt(R). Pairing
    removes the noise the two share (two unpaired standard errors overstate the uncertainty when
    the estimates move together), and summing within a replicate keeps the covariance between
    coordinates (a standard error per coordinate, added up, would ignore it)."""
    n = _replicates(grads_a, 2, reference)
    if _replicates(grads_b, 2, reference) != n or set(grads_a) != set(grads_b):
        raise ValueError("grads_a and grads_b must hold the same names and number of replicates")
    squared = [
        sum(np.sum(np.reshape(g[k] - reference[k], (n, -1)) ** 2, axis=1) for k in grads_a)
        for g in (grads_a, grads_b)
    ]
    d = squared[0] - squared[1]
    return {"difference": float(d.mean()), "difference_se": float(d.std(ddof=1) / np.sqrt(n))}


# Public: every function and class defined above without a leading underscore.
__all__ = sorted(
    name
    for name, value in list(globals().items())
    if not name.startswith("_") and getattr(value, "__module__", None) == __name__
)
