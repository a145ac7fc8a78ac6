"""The model: a categorical s selects a Gaussian z | s, both depending on theta.

    p = softmax(logits),                s ~ Categorical(p),   K = buckets
    x_s = concat(x, onehot(s))          (length dim + K)
    mu_s = sigmoid(x_s . A + B),        log sigma_s = x_s . C + D
    z = mu_s + sigma_s * eps,           eps ~ N(0, 1)

theta = (logits, A, B, C, D). The functions below take a parameter mapping
`params` whose tensors may carry leading batch axes (one per replicate, say):
they broadcast against the leading axes of `one_hot`, so one traced pass can
evaluate many parameter copies at once. `Model` holds the tf.Variables.
"""

import numpy as np

from . import checks
from ._tf import tf

PARAM_NAMES = ("logits", "A", "B", "C", "D")


def square(z):
    """The original notebook's objective f(z) = z**2."""
    return tf.square(z)


def probs(params):
    """p(s) for every s: shape (..., K)."""
    return tf.nn.softmax(params["logits"], axis=-1)


def log_probs(params):
    """log p(s) for every s, computed stably: shape (..., K)."""
    return tf.nn.log_softmax(params["logits"], axis=-1)


def _context_terms(params, x):
    """x . A[:dim] + B and x . C[:dim] + D, the parts shared by every s."""
    dim = tf.shape(x)[-1]  # dynamic: traced functions may see any dim
    mu_shared = tf.reduce_sum(params["A"][..., :dim] * x, axis=-1) + params["B"]
    log_sigma_shared = tf.reduce_sum(params["C"][..., :dim] * x, axis=-1) + params["D"]
    return mu_shared, log_sigma_shared


def conditionals(params, x, one_hot):
    """(mu, sigma) of z given a one-hot or relaxed s of shape (..., K)."""
    dim = tf.shape(x)[-1]
    mu_shared, log_sigma_shared = _context_terms(params, x)
    mu_pre = mu_shared + tf.reduce_sum(one_hot * params["A"][..., dim:], axis=-1)
    log_sigma = log_sigma_shared + tf.reduce_sum(one_hot * params["C"][..., dim:], axis=-1)
    return tf.sigmoid(mu_pre), tf.exp(log_sigma)


def conditionals_all(params, x):
    """(mu_s, sigma_s) for every category at once: each of shape (..., K).

    The same as `conditionals(params, x, eye(K))` without the K x K product.
    """
    dim = tf.shape(x)[-1]
    mu_shared, log_sigma_shared = _context_terms(params, x)
    mu = tf.sigmoid(mu_shared[..., None] + params["A"][..., dim:])
    sigma = tf.exp(log_sigma_shared[..., None] + params["C"][..., dim:])
    return mu, sigma


class Model:
    """The parameters theta (tf.Variables) and the fixed context x of one model."""

    def __init__(self, x, params):
        self.x = x
        self.params = params

    @property
    def dim(self):
        return int(self.x.shape[0])

    @property
    def buckets(self):
        return int(self.params["logits"].shape[0])

    @property
    def dtype(self):
        return self.x.dtype

    def values(self):
        """The current parameter values as tensors, checked to be finite."""
        values = {}
        for name in PARAM_NAMES:
            value = tf.convert_to_tensor(self.params[name])
            if not np.all(np.isfinite(value.numpy())):
                raise ValueError(f"parameter {name!r} holds non-finite values; assign finite ones")
            values[name] = value
        return values

    def probs(self):
        """p(s) for s = 0..K-1: shape (K,)."""
        return probs(self.params)

    def conditionals(self, one_hot):
        """(mu, sigma) for a one-hot or relaxed s of shape (..., K); each (...)."""
        one_hot = tf.convert_to_tensor(one_hot, dtype=self.dtype)
        if one_hot.shape.rank == 0 or one_hot.shape[-1] != self.buckets:
            raise ValueError(
                f"one_hot must have shape (..., {self.buckets}) (last axis = buckets), "
                f"got {tuple(one_hot.shape)}"
            )
        return conditionals(self.params, self.x, one_hot)

    def __repr__(self):
        return f"Model(dim={self.dim}, buckets={self.buckets}, dtype={self.dtype.name})"


def as_model(value):
    """value itself if it is a Model, else a ValueError that says what is expected."""
    if not isinstance(value, Model):
        raise ValueError(
            f"model must be a helpers Model (from h.make_model), got {type(value).__name__}"
        )
    return value


def make_model(dim=10, buckets=5, seed=0, dtype="float64"):
    """A model with dim context features and buckets categories.

    Parameters are drawn from a numpy Generator seeded with `seed`, at scales
    chosen so that the K components are distinct and sigma is small enough to
    tell them apart, for any dim and K:
    logits ~ N(0, 1); A[:dim] ~ N(0, 1/dim), so x . A stays O(1) instead of
    saturating the sigmoid, and A[dim:] ~ N(0, 2^2), so the means mu_s spread
    over (0, 1); B ~ N(0, 0.5^2); C is drawn like A[:dim] for all its entries
    at half the scale; D ~ N(-2, 0.3^2), so sigma is typically 0.05 to 0.3;
    the context x ~ N(0, 1).
    """
    dim = checks.integer(dim, "dim", 1)
    buckets = checks.integer(buckets, "buckets", 2)
    dtype = checks.dtype(dtype)
    rng = np.random.default_rng(checks.integer(seed, "seed", 0))

    def context_weights():
        return rng.normal(size=dim) / np.sqrt(dim)

    initial = {
        "logits": rng.normal(size=buckets),
        "A": np.concatenate([context_weights(), 2.0 * rng.normal(size=buckets)]),
        "B": 0.5 * rng.normal(),
        "C": 0.5 * np.concatenate([context_weights(), rng.normal(size=buckets)]),
        "D": -2.0 + 0.3 * rng.normal(),
    }
    x = rng.normal(size=dim)
    params = {
        name: tf.Variable(np.asarray(value), dtype=dtype, name=name)
        for name, value in initial.items()
    }
    return Model(tf.constant(x, dtype=dtype), params)


def sample(model, n, seed=0):
    """n ancestral draws (s, z) from the model: int array (n,), float array (n,)."""
    model = as_model(model)
    n = checks.integer(n, "n", 1)
    seed_s, seed_z = tf.random.experimental.stateless_split(checks.seed(seed), num=2)
    logits = tf.broadcast_to(model.params["logits"], [n, model.buckets])
    s = tf.random.stateless_categorical(logits, 1, seed=seed_s)[:, 0]
    mu, sigma = model.conditionals(tf.one_hot(s, model.buckets, dtype=model.dtype))
    eps = tf.random.stateless_normal([n], seed=seed_z, dtype=model.dtype)
    return s.numpy(), (mu + sigma * eps).numpy()
