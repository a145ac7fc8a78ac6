"""Every `helpers` name a notebook uses is public: listed in its module's `__all__`, documented.

The notebooks' code cells are parsed, not run. A use is an attribute chain that starts
at a name bound to a helpers module (`import helpers as h`, `from helpers import vae`:
`h.stats.variance`, `vae.train`), followed for as long as it reaches modules, or a name
that `from helpers... import` brings in. Every module is the live one, so whatever
`__all__` a module defines is the rule for it. A module that defines no `__all__` yet
counts only the names it defines itself (not those it imports) as public, and the
module is reported as an expected failure until it lists its public names. A name with
a leading underscore is never public.
"""

import ast
import importlib
import inspect
import json
import types
from collections import defaultdict
from pathlib import Path

import pytest

NOTEBOOKS = sorted(
    (Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb")
)


def _cells(path):
    """Each code cell's syntax tree, IPython's magic and shell lines blanked out."""
    for index, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        if cell["cell_type"] != "code":
            continue
        lines = "".join(cell["source"]).splitlines()
        python = ["" if line.lstrip().startswith(("%", "!")) else line for line in lines]
        yield index, ast.parse("\n".join(python))


def _is_helpers(module_name):
    return module_name == "helpers" or module_name.startswith("helpers.")


def _chain(node):
    """`a.b.c` as ["a", "b", "c"], or None when the chain does not start at a name."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    return [node.id, *reversed(names)] if isinstance(node, ast.Name) else None


def notebook_uses(path):
    """Every (module, name, where) of a helpers name the notebook uses."""
    trees = list(_cells(path))
    aliases = {}  # a local name -> the helpers module it is bound to
    uses = []
    for index, tree in trees:  # imports first: a name bound in one cell serves the next
        for node in ast.walk(tree):
            where = f"{path.name}, cell {index}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if _is_helpers(alias.name):
                        top = alias.name if alias.asname else alias.name.split(".")[0]
                        aliases[alias.asname or top] = importlib.import_module(top)
            elif isinstance(node, ast.ImportFrom) and _is_helpers(node.module or ""):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    uses.append((module, alias.name, where))
                    value = getattr(module, alias.name, None)
                    if isinstance(value, types.ModuleType):
                        aliases[alias.asname or alias.name] = value
    for index, tree in trees:
        for node in ast.walk(tree):
            chain = _chain(node) if isinstance(node, ast.Attribute) else None
            if chain is None or chain[0] not in aliases:
                continue
            module = aliases[chain[0]]
            for name in chain[1:]:
                uses.append((module, name, f"{path.name}, cell {index}"))
                value = getattr(module, name, None)
                if not isinstance(value, types.ModuleType):
                    break
                module = value
    return uses


def _all_uses():
    return [use for path in NOTEBOOKS for use in notebook_uses(path)]


def _defined_here(module, name):
    """For a module without __all__: whether `name` is its own, not imported from elsewhere."""
    value = getattr(module, name)
    if isinstance(value, types.ModuleType):
        return value.__name__.startswith(module.__name__ + ".")
    origin = getattr(value, "__module__", None)
    if inspect.isclass(value) or inspect.isfunction(value):
        return origin == module.__name__ or str(origin).startswith(module.__name__ + ".")
    return True  # a constant: it has no record of where it was defined


def is_public(module, name):
    if name.startswith("_") or not hasattr(module, name):
        return False
    if hasattr(module, "__all__"):
        return name in module.__all__
    return _defined_here(module, name)


def _documented(value):
    if isinstance(value, types.ModuleType) or inspect.isclass(value) or callable(value):
        return bool(inspect.getdoc(value))
    return True  # constants carry no docstring: their modules describe them


def test_every_notebook_is_parsed_and_found_to_use_helpers():
    assert NOTEBOOKS
    for path in NOTEBOOKS:  # an empty list here would make the tests below pass vacuously
        assert {name for _, name, _ in notebook_uses(path)} >= {"exercises", "check"}, path.name


def test_every_helpers_name_a_notebook_uses_is_public():
    private = sorted(
        {
            f"{module.__name__}.{name} ({where})"
            for module, name, where in _all_uses()
            if not is_public(module, name)
        }
    )
    assert not private, "not public (add to the module's __all__, or use a public name):\n" + (
        "\n".join(private)
    )


def test_every_helpers_function_class_and_module_a_notebook_uses_is_documented():
    undocumented = sorted(
        {
            f"{module.__name__}.{name}"
            for module, name, _ in _all_uses()
            if hasattr(module, name) and not _documented(getattr(module, name))
        }
    )
    assert not undocumented, "no docstring: " + ", ".join(undocumented)


def _modules_reached():
    modules = defaultdict(set)
    for module, name, _ in _all_uses():
        modules[module.__name__].add(name)
    return sorted(modules)


@pytest.mark.parametrize("module_name", _modules_reached())
def test_every_helpers_module_a_notebook_uses_lists_its_public_names(module_name):
    module = importlib.import_module(module_name)
    if not hasattr(module, "__all__"):
        pytest.xfail(f"{module_name} defines no __all__ yet: its own names count as public")
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ lists names it does not define: {missing}"


@pytest.mark.parametrize(
    ("source", "public"),
    [
        ("import helpers as h\nh.make_model()", True),
        ("import helpers as h\nh.stats.variance(g)", True),
        ("import helpers as h\nh.ESTIMATORS['elementary'].evaluations(5, 1)", True),
        ("from helpers import vae\nvae.train", True),
        ("import helpers as h\nh.model._per_latent", False),
        ("import helpers as h\nh._tf.tf", False),
        ("from helpers.model import _context_terms", False),
        ("import helpers\nhelpers.exact.gauss_hermite()", False),
        ("import helpers as h\nh.tf", False),
    ],
)
def test_the_rule_itself(tmp_path, source, public):
    cell = {"cell_type": "code", "source": source.splitlines(keepends=True)}
    path = tmp_path / "00_example.ipynb"
    path.write_text(json.dumps({"cells": [cell]}), encoding="utf-8")
    uses = notebook_uses(path)
    assert uses and all(is_public(module, name) for module, name, _ in uses) is public


def test_a_module_without_all_counts_only_the_names_it_defines():
    fake = types.ModuleType("helpers.fake")

    def own():
        """Defined in the module."""

    own.__module__ = "helpers.fake"
    fake.own, fake._hidden, fake.LIMIT = own, own, 3
    fake.dumps, fake.json, fake.square = json.dumps, json, importlib.import_module("helpers").square
    assert is_public(fake, "own") and is_public(fake, "LIMIT")
    assert not any(is_public(fake, name) for name in ("_hidden", "dumps", "json", "square", "gone"))
