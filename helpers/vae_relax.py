"""RELAX's control variate phi learned while the VAE trains (helpers.vae.train("relax")).

Each copy of the training has its own phi (eta, log_tau and r_rho's W1, b1, w2), moved
by Adam at every step down the gradient in phi of sum_b mean_n |g_bn|^2, g_bn the
estimate from draw n of the gradient of image b's reconstruction term with respect to
its encoder LOGITS (variance_step of estimators.control_variates). E g does not depend on
phi, so this gradient is that of the estimates' variance. A departure from Grathwohl et
al. (2018, Algorithms 1 and 2), who descend the variance of the gradient of the
distribution's parameters theta, here the encoder's weights: the logits stand in for
them (the weights' gradient is the chain rule through the logits), one cheap gradient
per image instead of one per weight and draw. The weights' own gradient is the RELAX
surrogate's, which this step leaves unchanged.
"""

from . import checks
from ._tf import tf
from .adam import adam, zero_moments
from .estimators.control_variates import variance_step

# Adam's rate for phi: 1e-2 moves phi's few entries by order 1 over a few hundred steps
# (the length of notebook 08's runs) from REBAR's start; 1e-3 barely moves them there.
STATE_LEARNING_RATE = 1e-2


def initial_control(estimator, rate, dynamic, copies, dtype):
    """{"phi": every copy's phi (C, ...), Adam's "moments" and "rate"} for "relax", from
    dynamic["state"] (split_options' tensors, popped: the learned phi replace it);
    {} for the others. rate: the option state_learning_rate (STATE_LEARNING_RATE when
    None), which only "relax" takes: otherwise a ValueError."""
    if estimator.control.gradients is None:
        if rate is not None:
            raise ValueError(
                f"state_learning_rate is the learning rate of RELAX's control variate; "
                f"estimator {estimator.name!r} learns none: leave it out"
            )
        return {}
    rate = checks.positive_finite(
        STATE_LEARNING_RATE if rate is None else rate, "state_learning_rate", dtype
    )
    phi = {k: tf.repeat(v[None], copies, axis=0) for k, v in dynamic.pop("state").items()}
    return {"phi": phi, "moments": zero_moments(phi), "rate": tf.constant(rate, dtype)}


def per_row(phi, images):
    """Copy c's phi (C, ...) for each of its rows c B + b, B = images: (C B, ...)."""
    return {name: tf.repeat(value, images, axis=0) for name, value in phi.items()}


def learn_control(problem, params, noise, control, step):
    """One Adam step of every copy's phi, for the rows params (C B, ...) and their noise,
    the draws that gave the weights' gradient at this step."""
    phi = control["phi"]
    images = tf.shape(params["logits"])[0] // tf.shape(phi["eta"])[0]
    params = {name: tf.stop_gradient(value) for name, value in params.items()}
    _, _, grads = variance_step(problem, params, noise, per_row(phi, images), ("logits",))
    grads = {  # d/dphi_c of the sum over copy c's images
        name: tf.ensure_shape(
            tf.reduce_sum(tf.reshape(g, tf.concat([[-1, images], tf.shape(g)[1:]], 0)), 1),
            phi[name].shape,
        )
        for name, g in grads.items()
    }
    phi, moments = adam(phi, grads, control["moments"], step, control["rate"])
    return {**control, "phi": phi, "moments": moments}


def learned_state(control, seeds):
    """The learned phi, name -> array: (S, L, ...) for `seeds` seeds of train_copies, one
    copy's (no copy axis) for seeds None; None where nothing was learned."""
    if not control:
        return None
    phi = {name: value.numpy() for name, value in control["phi"].items()}
    if seeds is None:
        return {name: value[0] for name, value in phi.items()}
    return {name: value.reshape(seeds, -1, *value.shape[1:]) for name, value in phi.items()}
