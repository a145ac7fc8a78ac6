"""benchmarks/xla_chunks.py, the opt-in XLA compilation of whole chunks (pytest puts
benchmarks/ on the import path: pyproject.toml, [tool.pytest.ini_options])."""

import helpers as h

import numpy as np
import pytest
import xla_chunks


@pytest.mark.parametrize(
    "name,options,n_samples",
    [("elementary", {}, 1), ("gumbel_softmax", {}, 1), ("score_function", dict(baseline="loo"), 2)],
)
def test_chunks_compiled_by_xla_keep_the_noise_and_the_gradients(
    monkeypatch, name, options, n_samples
):
    monkeypatch.setattr(h.sampling, "CHUNK_ELEMENTS", 42)  # whole chunks of 42 // 4 or 42 // 8
    model = h.make_model(dim=2, buckets=4, seed=3)
    sizes = h.estimators.resolve(name).sizes(model.problem(), 1, 4, n_samples, options)
    chunk = 42 // sizes[0]
    R = 37  # whole chunks, then a partial one (fewer than a chunk's replicates)
    assert R % chunk and chunk < R
    as_is = {
        size: h.gradient_samples(model, name, size, n_samples, seed=9, **options)
        for size in (R, chunk - 1)
    }
    compile_calls = []  # one per chunk that takes the compiled pass
    compiled_for_real = xla_chunks.compiled

    def counting_chunks(*args):
        traced = compiled_for_real(*args)
        return lambda *chunk: compile_calls.append(chunk) or traced(*chunk)

    monkeypatch.setattr(xla_chunks, "compiled", counting_chunks)
    xla_chunks.switch_on()  # h.gradient_samples now compiles whole chunks
    try:
        compiled = h.gradient_samples(model, name, R, n_samples, seed=9, **options)
        assert len(compile_calls) == -(-R // chunk)  # every chunk, the partial one padded
        again = h.gradient_samples(model, name, R, n_samples, seed=9, **options)
        below_a_chunk = h.gradient_samples(model, name, chunk - 1, n_samples, seed=9, **options)
    finally:
        xla_chunks.switch_on(False)
    assert len(compile_calls) == 2 * -(-R // chunk)  # a call below one chunk: not compiled
    assert h.sampling.problem_gradient_samples is xla_chunks.HELPERS_PATH  # switched off
    for key in compiled:
        np.testing.assert_array_equal(compiled[key], again[key])  # same seed, same numbers
        # Compiled chunks differ only where XLA fuses or reorders float64 arithmetic:
        # rounding (measured below 1e-14 on the default model), far from a wrong draw's O(1).
        np.testing.assert_allclose(compiled[key], as_is[R][key], rtol=1e-12, atol=1e-13)
        np.testing.assert_array_equal(below_a_chunk[key], as_is[chunk - 1][key])
