"""Import TensorFlow without the C++ log lines it writes to stderr (a notebook's first output).

TF_CPP_MIN_LOG_LEVEL=3 and TF_ENABLE_ONEDNN_OPTS=0 remove most (oneDNN off also makes results
reproducible across CPUs); the CUDA-stub line needs descriptor 2 on /dev/null during the import.
JAX and scikit-learn, optional integrations TensorFlow loads when installed (unused here, about
150 MiB per kernel), are hidden while it loads and importable afterwards (Keras's scikit-learn
wrappers stay unavailable in a process that imported the helpers first).
"""

import gc
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

_NOT_NEEDED = ("jax", "sklearn")


def _import_quietly():
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    hidden = [name for name in _NOT_NEEDED if name not in sys.modules]
    try:
        os.dup2(devnull, 2)
        sys.modules.update(dict.fromkeys(hidden))  # None: `import jax` raises ImportError
        import tensorflow
    finally:
        for name in hidden:
            sys.modules.pop(name, None)
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tensorflow


tf = _import_quietly()
# Every full garbage collection scanned TensorFlow's 350,000 lasting objects, 0.2 s each (release_
# traces; Python's own while graphs are traced): collected once, they are frozen out of its sight.
# Objects made before this import are never collected again (gc.freeze); a notebook has few.
gc.collect()
gc.freeze()
# Two notes on intended behaviour are dropped: each estimator, f and option set is traced once
# by design ("retracing" to TensorFlow); an f AutoGraph cannot read (a lambda typed at a
# prompt) runs as is, right for tf ops.
_NOTES = ("triggered tf.function retracing", "AutoGraph could not transform")
tf.get_logger().addFilter(lambda record: not any(n in record.getMessage() for n in _NOTES))
