"""The model: categorical choices s select a Gaussian z | s, all depending on theta.

    p_i = softmax(logits_i),            s_i ~ Categorical(p_i),  i = 1..n,  K = buckets
    x_s = concat(x, onehot(s_1), ..., onehot(s_n))   (length dim + n K)
    mu_s = sigmoid(x_s . A + B),        log sigma_s = x_s . C + D
    z = mu_s + sigma_s * eps,           eps ~ N(0, 1)

theta = (logits, A, B, C, D); n = `latents`, 1 in the original notebook (logits of shape (K,)),
else logits of shape (n, K). `Model` holds the tf.Variables; the mathematics is in
helpers.model_math, the model as an estimators' problem in helpers.model_problem.
"""

import numpy as np

from . import checks
from ._tf import tf
from .model_math import conditionals, conditionals_all, probs, square
from .model_problem import ModelProblem

__all__ = ["PARAM_NAMES", "Model", "conditionals", "conditionals_all", "make_model", "sample"]

PARAM_NAMES = ("logits", "A", "B", "C", "D")  # theta's parts, the keys of model.params, in order


class Model:
    """The parameters theta (tf.Variables) and the fixed context x of one model."""

    def __init__(self, x, params):
        self.x, self.params = x, params

    @property
    def dim(self):
        return int(self.x.shape[0])

    @property
    def buckets(self):
        return int(self.params["logits"].shape[-1])

    @property
    def latents(self):
        """n, the number of categorical choices: logits have shape (K,) if 1, else (n, K)."""
        shape = self.params["logits"].shape
        return 1 if shape.rank == 1 else int(shape[0])

    @property
    def dtype(self):
        return self.x.dtype

    @property
    def event_shape(self):
        """The shape of one s as a one-hot: (K,) for n = 1, (n, K) for n > 1."""
        return (self.buckets,) if self.latents == 1 else (self.latents, self.buckets)

    def values(self):
        """The current parameter values as tensors, checked: finite, and shaped for x and K."""
        x = tf.convert_to_tensor(self.x)
        if x.shape.rank != 1 or not np.all(np.isfinite(x.numpy())):
            raise ValueError(
                f"the context x must be a vector of finite numbers, got shape {tuple(x.shape)}"
                + ("" if x.shape.rank != 1 else " with non-finite values")
            )
        width = (self.dim + self.latents * self.buckets,)
        shapes = {"logits": self.event_shape, "A": width, "B": (), "C": width, "D": ()}
        values = {name: tf.convert_to_tensor(self.params[name]) for name in PARAM_NAMES}
        for name, value in values.items():
            if tuple(value.shape) != shapes[name]:
                raise ValueError(
                    f"parameter {name!r} has shape {tuple(value.shape)}, but a model with dim="
                    f"{self.dim} (the length of x), {self.latents} latent(s) and {self.buckets} "
                    f"categories needs {shapes[name]}"
                )
            if not np.all(np.isfinite(value.numpy())):
                raise ValueError(f"parameter {name!r} holds non-finite values; assign finite ones")
        return values

    def probs(self):
        """p(s): shape (K,) for n = 1, (n, K) for n > 1 (row i: p(s_i))."""
        return probs(self.params)

    def conditionals(self, one_hot):
        """(mu, sigma) for a one-hot or relaxed s of shape (..., K), or (..., n, K) for n > 1."""
        one_hot = tf.convert_to_tensor(one_hot, dtype=self.dtype)
        event = self.event_shape
        if one_hot.shape.rank < len(event) or tuple(one_hot.shape[-len(event) :]) != event:
            names = "buckets" if len(event) == 1 else "latents, buckets"
            raise ValueError(
                f"one_hot must have shape (..., {', '.join(map(str, event))}) (last axes = "
                f"{names}), got {tuple(one_hot.shape)}"
            )
        return conditionals(self.params, self.x, one_hot, self.latents)

    def problem(self, f=square):
        """This model with objective f as a problem (helpers.problem.Problem); f is checked
        (checks.objective), so its traces need no AutoGraph."""
        return ModelProblem(f=checks.objective(f, self.dtype), latents=self.latents, x=self.x)

    def __repr__(self):
        latents = f", latents={self.latents}" if self.latents > 1 else ""
        return f"Model(dim={self.dim}, buckets={self.buckets}{latents}, dtype={self.dtype.name})"


def as_model(value):
    """value itself if it is a Model, else a ValueError that says what is expected."""
    if not isinstance(value, Model):
        raise ValueError(f"model must be a helpers Model, got {type(value).__name__}")
    return value


def make_model(dim=10, buckets=5, seed=0, dtype="float64", latents=1):
    """A model with dim context features and `latents` choices of buckets categories, drawn from
    numpy's Generator seeded with `seed` at scales that keep the K components distinct for any
    dim and K: x, logits ~ N(0, 1); A[:dim] ~ N(0, 1/dim) keeps x . A O(1) (no saturated
    sigmoid); A[dim:] ~ N(0, 2^2 / n) spreads the means mu_s over (0, 1) whatever n; B ~ N(0,
    0.5^2); C is half a draw like A's with unit one-hot scale; D ~ N(-2, 0.3^2) makes sigma
    typically 0.05 to 0.3. latents=1 draws the original model's numbers."""
    dim = checks.integer(dim, "dim", 1)
    buckets = checks.integer(buckets, "buckets", 2)
    latents = checks.integer(latents, "latents", 1)
    dtype = checks.dtype(dtype)
    rng = np.random.default_rng(checks.integer(seed, "seed", 0))
    width, spread = latents * buckets, 1.0 if latents == 1 else 1 / np.sqrt(latents)

    def weights(scale):  # A or C: x's part ~ N(0, 1/dim), the one-hot part ~ N(0, scale^2 / n)
        context = rng.normal(size=dim) / np.sqrt(dim)
        return np.concatenate([context, scale * spread * rng.normal(size=width)])

    initial = {
        "logits": rng.normal(size=buckets if latents == 1 else (latents, buckets)),
        "A": weights(2.0),
        "B": 0.5 * rng.normal(),
        "C": 0.5 * weights(1.0),
        "D": -2.0 + 0.3 * rng.normal(),
    }
    params = {
        name: tf.Variable(np.asarray(v), dtype=dtype, name=name) for name, v in initial.items()
    }
    return Model(tf.constant(rng.normal(size=dim), dtype=dtype), params)


def sample(model, n, seed=0):
    """n ancestral draws (s, z): s int (n,) for one latent, (n, latents) for several; z (n,)."""
    model = as_model(model)
    n = checks.integer(n, "n", 1)
    params = model.values()  # checked: finite, with the model's shapes
    seed_s, seed_z = tf.random.experimental.stateless_split(checks.seed(seed), num=2)
    logits = tf.broadcast_to(params["logits"], [n, *model.event_shape])  # one row per draw
    s = tf.random.stateless_categorical(tf.reshape(logits, [-1, model.buckets]), 1, seed=seed_s)
    s = tf.reshape(s, [n, model.latents] if model.latents > 1 else [n])
    one_hot = tf.one_hot(s, model.buckets, dtype=model.dtype)
    mu, sigma = conditionals(params, model.x, one_hot, model.latents)
    eps = tf.random.stateless_normal([n], seed=seed_z, dtype=model.dtype)
    return s.numpy(), (mu + sigma * eps).numpy()
