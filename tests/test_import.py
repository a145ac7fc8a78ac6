"""Importing the helpers loads TensorFlow without the optional integrations it probes for,
and their modules import one another without a circle."""

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import sys
import helpers
print(sorted(name for name in ("jax", "sklearn") if name in sys.modules))
import sklearn  # importable afterwards: notebook 10 loads its data with it
print(sklearn.__name__)
"""


def test_tensorflow_loads_without_jax_and_scikit_learn_which_stay_importable():
    if importlib.util.find_spec("sklearn") is None:
        pytest.skip("scikit-learn is not installed")
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "[]"  # neither loaded by `import helpers` (about 150 MiB together)
    assert out[1] == "sklearn"


FAKE_TENSORFLOW = """
import os
os.write(2, b"a C++ log line on file descriptor 2\\n")
try:
    import optional_integration
    integration_loaded = True
except ImportError:
    integration_loaded = False
"""


def test_the_quiet_import_silences_descriptor_2_and_hides_the_integrations(
    tmp_path, monkeypatch, capfd
):
    # A stand-in for TensorFlow's import: it writes to fd 2 and imports an integration.
    from helpers import _tf

    (tmp_path / "tensorflow.py").write_text(FAKE_TENSORFLOW)
    (tmp_path / "optional_integration.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tensorflow")
    monkeypatch.setattr(_tf, "_NOT_NEEDED", ("optional_integration",))
    fake = _tf._import_quietly()
    print("stderr works again", file=sys.stderr)
    assert fake.__file__ == str(tmp_path / "tensorflow.py")
    assert not fake.integration_loaded  # hidden while "TensorFlow" loaded
    assert capfd.readouterr().err == "stderr works again\n"
    assert importlib.import_module("optional_integration")  # and importable afterwards
    monkeypatch.delitem(sys.modules, "optional_integration")
    # Once loaded, the module is returned as it is.
    monkeypatch.setitem(sys.modules, "tensorflow", fake)
    assert _tf._import_quietly() is fake


HELPERS = Path(__file__).resolve().parent.parent / "helpers"


def _module_name(path):
    parts = path.relative_to(HELPERS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node, module, package, modules):
    """The helpers modules one import statement names (function-level imports included)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & modules
    if node.level:
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    submodules = {f"{target}.{alias.name}" for alias in node.names} & modules
    return submodules or ({target} & modules)


def import_graph():
    """helpers' modules -> the helpers modules each imports, read from their source.

    The package's __init__ is left out: it imports every module by design (and
    exercises.py imports the package for its students' `h.` names).
    """
    paths = {_module_name(path): path for path in HELPERS.rglob("*.py")}
    modules = set(paths) - {"helpers"}
    graph = {}
    for module in modules:
        path = paths[module]
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text())
        graph[module] = set().union(
            *(
                _imported(node, module, package, modules)
                for node in ast.walk(tree)
                if isinstance(node, ast.Import | ast.ImportFrom)
            )
        ) - {module}
    return graph


def find_cycle(graph):
    """One cycle of the graph as a list of modules (first repeated last), or None."""
    done, path = set(), []

    def visit(node):
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        path.append(node)
        for child in sorted(graph[node]):
            cycle = visit(child)
            if cycle:
                return cycle
        path.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        cycle = visit(node)
        if cycle:
            return cycle
    return None


def test_find_cycle_finds_a_circle_and_only_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_helpers_modules_import_one_another_without_a_circle():
    # A circle makes the import order matter (a name imported before it is defined),
    # which is why imports used to hide inside functions: those are counted here too.
    graph = import_graph()
    assert {"helpers.model", "helpers.exact", "helpers.sampling"} <= set(graph)
    assert "helpers.model_problem" in graph["helpers.model"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))
