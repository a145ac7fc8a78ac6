"""RELAX's variance gradient, for notebook 08 (the estimator is in estimators/control_variates.py).

`relax_gradients` gives RELAX's per-replicate gradients and the gradient of their variance
in the control variate's parameters psi, which `optimise` descends to learn psi beside theta.
"""

import numpy as np

from . import checks
from ._tf import tf
from .estimators import ESTIMATORS
from .estimators.control_variates import relax, relax_state, uniform_twice, variance_step
from .model import as_model, square
from .optimise import checked_names
from .problem import join_tensors, split_tensors
from .sampling import check_size, replicate, split_options
from .tracing import trace_cache

__all__ = ["relax", "relax_gradients", "relax_state"]


@trace_cache
def _traced_variance(structure, names):
    @tf.function(reduce_retracing=True)
    def run(params, tensors, state, seed, n_replicates, n_samples):
        problem = join_tensors(structure, tensors)
        buckets = tf.shape(problem.logits(params))[-1]
        noise = uniform_twice(problem, seed, n_replicates, n_samples, buckets)
        return variance_step(problem, replicate(params, n_replicates), noise, state, names)

    return run


def relax_gradients(model, n_replicates, n_samples=1, seed=0, f=square, wrt=None, **options):
    """RELAX's per-replicate gradients and the gradient of its variance with respect to psi.

    options: state (from relax_state, or a learned one), or tau and eta for a state with
    r = 0. wrt: the parameters whose estimates' variance is meant (default: all).
    Returns {"gradients": name -> (R, *shape), the numbers of gradient_samples(model,
    "relax", ...); "second_moment": the mean over all R n_samples draws of |g|^2 of one
    draw's estimate over wrt, an estimate of E|g|^2 = tr Cov + |grad L|^2 for one draw;
    "state_gradient": its gradient in each entry of psi, which is that of tr Cov}.
    The replicates share one pass (no chunks), so R * n_samples is limited.
    """
    model = as_model(model)
    n_replicates = checks.integer(n_replicates, "n_replicates", 1)
    n_samples = checks.integer(n_samples, "n_samples", 1)
    f = checks.objective(f, model.dtype)
    names = checked_names(wrt, "wrt", tuple(model.params))
    options = ESTIMATORS["relax"].checked_options(
        options, n_samples, model.latents, model.buckets, model.dtype
    )
    coordinates = sum(int(np.prod(value.shape)) for value in model.params.values())
    per_draw = n_replicates * n_samples * coordinates  # every draw's own gradient
    uniforms = 2 * n_samples * model.latents * model.buckets  # u and v, n K each per draw
    check_size(per_draw, uniforms, model.dtype, "per-draw gradients")
    _, dynamic = split_options(options, model.dtype)
    structure, tensors = split_tensors(model.problem(f))
    params, seed = model.values(), checks.seed(seed)
    counts = (tf.constant(n_replicates), tf.constant(n_samples))
    run = _traced_variance(structure, names)
    grads, squares, state_grads = run(params, tensors, dynamic["state"], seed, *counts)
    return {
        "gradients": {name: value.numpy() for name, value in grads.items()},
        "second_moment": float(tf.reduce_mean(squares)),
        "state_gradient": {name: v.numpy() / n_replicates for name, v in state_grads.items()},
    }
