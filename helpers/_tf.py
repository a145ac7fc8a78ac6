"""Import TensorFlow without the log lines it writes to the process's stderr.

TensorFlow 2.21 prints C++ log lines (CUDA probing, CPU features, oneDNN notes)
straight to file descriptor 2 while it loads, before its own log level applies.
In a notebook those lines land in the first cell's output. Setting
TF_CPP_MIN_LOG_LEVEL=3 and TF_ENABLE_ONEDNN_OPTS=0 removes most of them (oneDNN
off also makes results reproducible across CPUs); the CUDA-stub line needs the
descriptor itself pointed at /dev/null for the duration of the import.

TensorFlow's import also loads two optional integrations when their packages
are installed: tf.lite imports JAX, and Keras's scikit-learn wrappers import
scikit-learn. The series uses neither (scikit-learn only loads notebook 08's
data, later), and together they add about 150 MiB to every kernel, as on
Colab, where both are installed. So they are hidden while TensorFlow loads and
importable again afterwards; Keras's scikit-learn wrappers stay unavailable in
a process that imported the helpers first.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


_NOT_NEEDED = ("jax", "sklearn")  # optional integrations TensorFlow loads if installed


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


class _DropExpectedNotes:
    """Drop two TensorFlow notes that describe intended behaviour here.

    Each estimator, f and option set is traced once by design (helpers.sampling),
    and TensorFlow counts those first traces together as "retracing"; and an f
    whose source AutoGraph cannot read (a lambda typed at a prompt) runs as is,
    which is right for an f made of TensorFlow ops.
    """

    NOTES = ("triggered tf.function retracing", "AutoGraph could not transform")

    def filter(self, record):
        return not any(note in record.getMessage() for note in self.NOTES)


tf.get_logger().addFilter(_DropExpectedNotes())
