"""The same per-replicate gradients written the way a JAX user would write them.

    python benchmarks/jax_peer.py      (needs the `bench` extra: pip install -e ".[bench]")

jax.jit(jax.vmap(jax.grad(surrogate))) over one PRNG key per replicate, in
float64, on the default model (`h.make_model()`) with f(z) = z^2: the same
model, the same estimators and the same number of samples as h.gradient_samples.
The peer is not slowed down: one compiled function per estimator, reused for
every R, and its output is made ready (block_until_ready) before the clock stops.
h.gradient_samples returns NumPy arrays, so its time includes copying them out.

Next to both: h.gradient_samples again with its opt-in XLA compilation of whole
chunks (benchmarks/xla_chunks.py; the helpers leave it out), timed after a first
call has compiled them; and the helpers' noise floor, the time of drawing, alone,
the noise that h.gradient_samples draws for the same call (each estimator's
`noise`, chunk by chunk with the same seeds, in one traced function), which the
seed promises and which no rewrite of the gradient pass can skip.
"""

import functools
import time

import helpers as h
from helpers import checks, sampling

import numpy as np
import tensorflow as tf
import xla_chunks

TAU = 0.5
PEERS = {  # label -> (h.gradient_samples estimator, options, samples per estimate)
    "elementary": ("elementary", {}, 1),
    "Gumbel-softmax": ("gumbel_softmax", dict(tau=TAU), 1),
    "straight-through": ("gumbel_softmax", dict(tau=TAU, straight_through=True), 1),
    "score function, hybrid": ("score_function", {}, 1),
    "hybrid + optimal": ("score_function", dict(baseline="optimal"), 1),
    "hybrid + LOO (N=2)": ("score_function", dict(baseline="loo"), 2),
}


def peer_functions(model):
    """label -> jitted function keys (R, 2) -> per-replicate gradient dict, for `model`."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    x = jnp.asarray(model.x.numpy())
    dim, buckets = model.dim, model.buckets
    theta = {name: jnp.asarray(value.numpy()) for name, value in model.params.items()}

    def conditionals(p, one_hot):
        mu = jax.nn.sigmoid(x @ p["A"][:dim] + p["B"] + one_hot @ p["A"][dim:])
        return mu, jnp.exp(x @ p["C"][:dim] + p["D"] + one_hot @ p["C"][dim:])

    def f_at(p, one_hot, eps):
        mu, sigma = conditionals(p, one_hot)
        return jnp.square(mu + sigma * eps)

    def elementary(p, key):
        eps = jax.random.normal(key, (buckets,), dtype=jnp.float64)
        values = f_at(p, jnp.eye(buckets), eps)
        return jnp.sum(jax.nn.softmax(p["logits"]) * values)

    def draws(p, key, n):
        key_u, key_eps = jax.random.split(key)
        gumbel = jax.random.gumbel(key_u, (n, buckets), dtype=jnp.float64)
        return jax.nn.log_softmax(p["logits"]), gumbel, jax.random.normal(key_eps, (n,))

    def gumbel_softmax(p, key, straight_through=False):
        log_p, gumbel, eps = draws(p, key, 1)
        y = jax.nn.softmax((log_p + gumbel) / TAU)
        if straight_through:
            hard = jax.nn.one_hot(jnp.argmax(y, axis=-1), buckets, dtype=y.dtype)
            y = hard + y - jax.lax.stop_gradient(y)
        return jnp.mean(f_at(p, y, eps))

    def score_function(p, key, n=1, baseline=0.0, loo=False):
        log_p, gumbel, eps = draws(p, key, n)
        s = jax.nn.one_hot(jnp.argmax(jax.lax.stop_gradient(log_p) + gumbel, axis=-1), buckets)
        log_q = s @ log_p
        f_z = f_at(p, s, eps)
        b = (jnp.sum(f_z) - f_z) / (n - 1) if loo else baseline
        weight = jax.lax.stop_gradient(f_z - b)
        return jnp.mean(f_z + weight * (log_q - jax.lax.stop_gradient(log_q)))

    optimal = h.estimators.optimal_baseline_at(model.problem(), model.values(), True)
    surrogates = {
        "elementary": elementary,
        "Gumbel-softmax": gumbel_softmax,
        "straight-through": lambda p, k: gumbel_softmax(p, k, straight_through=True),
        "score function, hybrid": score_function,
        "hybrid + optimal": lambda p, k: score_function(p, k, baseline=optimal),
        "hybrid + LOO (N=2)": lambda p, k: score_function(p, k, n=2, loo=True),
    }

    def batched(surrogate):
        per_key = jax.vmap(jax.grad(surrogate), in_axes=(None, 0))
        run = jax.jit(per_key)
        return lambda keys: jax.block_until_ready(run(theta, keys))

    keys = lambda R: jax.random.split(jax.random.key(0), R)  # noqa: E731
    return {label: batched(s) for label, s in surrogates.items()}, keys


def best_seconds(run, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def noise_floor(model, estimator, n_replicates, n_samples, options):
    """A function that draws the noise of gradient_samples(model, estimator, R, N, seed=1)."""
    spec = h.estimators.resolve(estimator)
    problem, buckets = model.problem(), model.buckets
    options = spec.checked_options(options, n_samples, model.latents, buckets, problem.dtype)
    per_replicate, _ = spec.sizes(problem, model.latents, buckets, n_samples, options)
    extra = {name: options[name] for name in spec.noise_options}

    @tf.function(reduce_retracing=True)
    def draw(seed, size):
        return spec.noise(problem, seed, size, tf.constant(n_samples), buckets, **extra)

    def run():
        for size, seed in sampling.chunks(n_replicates, per_replicate, checks.seed(1)):
            draw(seed, tf.constant(size))

    return run


def with_xla(run):
    """run, called with the helpers' XLA compilation of whole chunks switched on."""

    def compiled():
        xla_chunks.switch_on()
        try:
            return run()
        finally:
            xla_chunks.switch_on(False)

    return compiled


def side_by_side(replicates=(10**4, 10**5, 10**6), repeats=5):
    """Rows (label, R, helpers, helpers with XLA, noise floor, peer): seconds per replicate."""
    model = h.make_model()
    peers, keys = peer_functions(model)
    rows = []
    for label, (estimator, options, n) in PEERS.items():
        for R in replicates:
            ours = functools.partial(h.gradient_samples, model, estimator, R, n, 1, **options)
            runs = (ours, with_xla(ours), noise_floor(model, estimator, R, n, options))
            runs += (functools.partial(peers[label], keys(R)),)
            for run in runs:  # trace and compile for this R
                run()
            rows.append((label, R, *(best_seconds(run, repeats) / R for run in runs)))
        print(f"  {label}: done", flush=True)
    return rows


def render(rows):
    lines = [
        "| estimator | R | helpers | helpers, XLA on whole chunks | helpers' noise alone "
        "| JAX peer | peer / helpers | peer / helpers with XLA |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, R, ours, compiled, floor, theirs in rows:
        times = " | ".join(f"{s * 1e6:.3g}" for s in (ours, compiled, floor, theirs))
        lines.append(
            f"| {label} | 10^{int(np.log10(R))} | {times} "
            f"| {theirs / ours:.2f}x | {theirs / compiled:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main():
    print(render(side_by_side()), flush=True)


if __name__ == "__main__":
    main()
