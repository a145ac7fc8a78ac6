"""The series' own files agree with each other: badges, pins, notebooks, Makefile."""

import ast
import importlib.metadata
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest
import yaml
from labserver import serve_and_list
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
import badges  # noqa: E402
import readme_figure  # noqa: E402

# Project-level tests (files, servers, notebooks run end to end): left out of
# make mutants' fast unit subset.
pytestmark = pytest.mark.slow

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SELF = PROJECT["name"]


def requirements(*groups):
    """name -> Requirement for the dependencies ("run") and the named extras."""
    found = {}
    for group in groups:
        texts = (
            PROJECT["dependencies"] if group == "run" else PROJECT["optional-dependencies"][group]
        )
        for text in texts:
            requirement = Requirement(text)
            if requirement.name != SELF:  # an extra that includes another extra
                found[canonicalize_name(requirement.name)] = requirement
    return found


def environment_ranges(path):
    """name -> version range of a conda environment file (its pip section included)."""
    ranges = {}
    for dep in yaml.safe_load(path.read_text())["dependencies"]:
        for item in dep["pip"] if isinstance(dep, dict) else [dep]:
            if not re.match(r"(python|pip)\b", item):  # conda's python=3.11 form
                requirement = Requirement(item)
                ranges[canonicalize_name(requirement.name)] = requirement.specifier
    return ranges


def test_badges_and_links_match_the_repository_setting():
    stale = [p.name for p, text in badges.rendered().items() if p.read_text() != text]
    assert not stale, f"run `make badges`: {stale} disagree with [tool.series]"
    repo, branch = badges.settings()
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert badges.colab_url(repo, branch, path.stem) in readme
        assert badges.binder_url(repo, branch, path.stem) in path.read_text()


def test_a_tag_moves_every_link_and_the_colab_install_off_the_branch():
    series = {"repository": "someone/series", "branch": "main", "tag": "course-2026"}
    files = badges.rendered(series)
    for path, text in files.items():
        assert "/main" not in text and "@main" not in text, f"{path.name} still names main"
    for path in NOTEBOOKS:
        notebook = nbformat.reads(files[path], as_version=4)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        assert 'PACKAGE = "git+https://github.com/someone/series@course-2026"' in code[0].source
        assert "mybinder.org/v2/gh/someone/series/course-2026?labpath=" in notebook.cells[0].source
        assert "colab.research.google.com/github/someone/series/blob/course-2026/" in (
            notebook.cells[0].source
        )
    without_tag = badges.rendered({**series, "tag": ""})
    assert "@main" in without_tag[NOTEBOOKS[0]]
    with pytest.raises(SystemExit, match="git ref"):
        badges.settings({**series, "tag": "no spaces allowed"})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_installs_the_helpers_only(path):
    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert code[0].source == badges.colab_cell(*badges.settings())
    assert '"--no-deps"' in code[0].source and not code[0].outputs


def top_level_imports(path):
    """The top-level modules a Python file imports (absolute imports only), parsed."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names)


def test_package_dependencies_are_what_helpers_imports():
    imported = set().union(*map(top_level_imports, (ROOT / "helpers").glob("*.py")))
    found = importlib.metadata.packages_distributions()  # sklearn -> scikit-learn
    imported = {canonicalize_name(found.get(m, [m])[0]) for m in imported - {"helpers"}}
    assert imported == set(requirements("run"))


def imported_distributions(paths):
    """The installed distributions that these files import directly (not the series' own)."""
    folders = ("helpers", "tools", "tests", "benchmarks")
    local = {path.stem for folder in folders for path in (ROOT / folder).rglob("*.py")}
    local.add("helpers")
    modules = set().union(*map(top_level_imports, paths)) - local
    found = importlib.metadata.packages_distributions()
    # A module not installed here (jax, of the optional bench extra) counts by its own name.
    return {canonicalize_name(found.get(module, [module])[0]) for module in modules}


@pytest.mark.parametrize(
    "pattern,extras",
    [
        ("tools/*.py", ("run", "tools")),
        ("benchmarks/*.py", ("run", "tools", "bench")),
        ("tests/*.py", ("run", "lab", "tools", "test")),
        ("tests/install/*.py", ("run", "lab", "tools", "test")),
        ("tests/browser/*.py", ("run", "lab", "tools", "test", "browser")),
    ],
)
def test_what_tools_and_tests_import_is_declared_in_their_extras(pattern, extras):
    undeclared = imported_distributions(ROOT.glob(pattern)) - set(requirements(*extras))
    assert not undeclared, f"{pattern} imports {undeclared}, not declared in {extras}"


def test_environment_files_use_pyproject_ranges():
    # environment.yml (conda users): the package, lab and the test tools.
    everything = requirements("run", "lab", "tools", "test")
    conda = environment_ranges(ROOT / "environment.yml")
    assert conda == {name: r.specifier for name, r in everything.items()}
    # .binder/: what the notebooks need in JupyterLab, TensorFlow's CPU-only build.
    binder = environment_ranges(ROOT / ".binder" / "environment.yml")
    binder["tensorflow"] = binder.pop("tensorflow-cpu")
    lean = requirements("run", "lab")
    assert binder == {name: r.specifier for name, r in lean.items()}


def test_constraints_pin_every_requirement_within_its_range():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            (version,) = [spec.version for spec in requirement.specifier if spec.operator == "=="]
            pins[canonicalize_name(requirement.name)] = version
    everything = requirements("run", *PROJECT["optional-dependencies"])
    assert set(pins) == set(everything)
    for name, requirement in everything.items():
        assert requirement.specifier.contains(pins[name]), (
            f"{name}=={pins[name]} not in {requirement}"
        )


def test_build_backend_reads_the_pep639_licence():
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]
    assert PROJECT["license"] == "MIT"
    (setuptools,) = [Requirement(r) for r in build["requires"] if r.startswith("setuptools")]
    assert not setuptools.specifier.contains("76.9") and setuptools.specifier.contains("77.0")


def test_binder_override_is_what_jupyterlab_reads(tmp_path):
    """Run .binder/postBuild (pip stubbed out) and read the settings as JupyterLab does."""
    from jupyterlab.labapp import LabApp
    from jupyterlab_server.settings_utils import get_settings

    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python").write_text(
        "#!/bin/sh\n"
        '[ "$1 $2" = "-m pip" ] && exit 0\n'  # the helpers are installed here already
        f'exec {sys.executable} "$@"\n'
    )
    (shim / "python").chmod(0o755)
    lab_dir = tmp_path / "lab"
    env = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}", "JUPYTERLAB_DIR": str(lab_dir)}
    subprocess.run([str(ROOT / ".binder" / "postBuild")], cwd=ROOT, env=env, check=True)
    # Where postBuild put it is where this JupyterLab looks for overrides.
    assert LabApp(app_dir=str(lab_dir)).app_settings_dir == str(lab_dir / "settings")
    assert (lab_dir / "settings" / "overrides.json").read_text() == (
        ROOT / ".binder" / "overrides.json"
    ).read_text()
    # Each override is a setting of the installed JupyterLab, and its default becomes the
    # override's value when JupyterLab's own settings code reads the folder.
    overrides = json.loads((ROOT / ".binder" / "overrides.json").read_text())
    assert overrides["@jupyterlab/notebook-extension:tracker"] == {"kernelShutdown": True}
    schemas = Path(LabApp().schemas_dir)
    for plugin, values in overrides.items():
        settings, _ = get_settings(
            str(lab_dir / "settings"),
            str(schemas),
            str(tmp_path / "user-settings"),
            schema_name=plugin,
        )
        for key, value in values.items():
            assert key in settings["schema"]["properties"], f"{plugin} has no setting {key}"
            assert settings["schema"]["properties"][key]["default"] == value


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_structure(path):
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    assert "header" in cells[0].metadata.get("tags", [])
    assert "footer" in cells[-1].metadata.get("tags", [])
    assert cells[1].source.startswith(f"# {path.stem[:2]} · ")
    for needed in ("**What you will learn**", "**Prerequisites**", "**Time**"):
        assert needed in cells[1].source
    text = "\n".join(c.source for c in cells)
    assert "## Takeaways" in text and "## Exercises" in text
    assert any("solution" in c.metadata.get("tags", []) for c in cells)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_executed_in_order_without_errors_or_stderr(path):
    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error", cell.source[:80]
            assert out.get("name") != "stderr", f"stderr stored in: {cell.source[:80]}"


def test_make_lab_honours_jupyter_port_and_needs_no_browser():
    dry = subprocess.run(
        ["make", "-n", "lab", "JUPYTER_PORT=9123", f"ENV_READY={ROOT / 'pyproject.toml'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--port=9123" in dry and "--no-browser" in dry


def test_make_lab_serves_the_repository_and_opens_on_the_notebooks():
    root, notebooks, landing = serve_and_list(
        ["make", "lab"], ROOT, os.environ, token="series-test", name="make lab"
    )
    # The root is the repository: the notebooks' ../README.md and docs/ are inside it.
    assert {"README.md", "notebooks", "docs"} <= root
    assert {path.name for path in NOTEBOOKS} <= notebooks
    assert landing == "/lab/tree/notebooks"


MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def relative_links(text):
    for target in MARKDOWN_LINK.findall(text):
        if not urllib.parse.urlparse(target).scheme and not target.startswith("#"):
            yield urllib.parse.unquote(target.split("#")[0])


def test_every_relative_link_in_the_docs_and_notebooks_resolves_inside_the_repository():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    texts = {page: page.read_text() for page in pages}
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        texts[path] = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    for page, text in texts.items():
        links = list(relative_links(text))
        assert links or page.parent.name == "docs", f"no relative link found in {page.name}"
        for link in links:
            target = (page.parent / link).resolve()
            assert target.is_relative_to(ROOT), f"{page.name}: {link} leaves the repository"
            assert target.exists(), f"{page.name}: {link} does not exist"


def fake_python(folder, name, version):
    """A command that answers every question like a Python of the given version would."""
    path = folder / name
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)


def make_env(folder, *args):
    # PATH holds only the fake interpreters (the recipes run /bin/bash by its full path),
    # and no virtualenv or conda environment counts as active.
    env = {"PATH": str(folder), "HOME": os.environ.get("HOME", "/tmp")}
    venv = folder / "venv"
    return subprocess.run(
        [shutil.which("make"), *args, "env", f"VENV={venv}", f"ENV_READY={venv}/.ready"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_makefile_stops_with_advice_when_python3_is_unsupported(tmp_path):
    fake_python(tmp_path, "python3", "3.14")
    result = make_env(tmp_path)
    assert result.returncode != 0
    assert "needs Python 3.11, 3.12 or 3.13" in result.stderr
    assert "PYTHON3=/path/to/python3.12" in result.stderr
    assert not (tmp_path / "venv").exists()


@pytest.mark.parametrize(
    "available,chosen",
    [
        ({"python3": "3.14", "python3.12": "3.12", "python3.11": "3.11"}, "python3.12"),
        ({"python3": "3.14", "python3.13": "3.14", "python3.11": "3.11"}, "python3.11"),
        ({"python3": "3.12"}, "python3"),
    ],
)
def test_makefile_makes_the_venv_with_the_newest_supported_python(tmp_path, available, chosen):
    for name, version in available.items():
        fake_python(tmp_path, name, version)
    result = make_env(tmp_path, "-n")
    assert result.returncode == 0, result.stderr
    assert f"{chosen} -m venv {tmp_path / 'venv'}" in result.stdout


def test_makefile_takes_the_python_it_is_given(tmp_path):
    fake_python(tmp_path, "python3", "3.14")
    result = make_env(tmp_path, "-n", "PYTHON3=/opt/python3.12/bin/python3")
    assert "/opt/python3.12/bin/python3 -m venv" in result.stdout


@pytest.mark.parametrize("target", readme_figure.FIGURES, ids=lambda p: p.name)
def test_readme_figure_is_the_stored_notebook_output(target):
    assert target.read_bytes() == readme_figure.stored_figure(readme_figure.FIGURES[target])
    assert f"]({target.name})" in (ROOT / "docs" / "findings.md").read_text()


def test_performance_page_is_the_benchmark_output():
    results = (ROOT / "benchmarks" / "results.md").read_text()
    page = (ROOT / "docs" / "performance.md").read_text()
    assert f"<!-- performance:start -->\n{results}<!-- performance:end -->" in page


CODE_THAT_READS_FILES_OR_NETWORK = re.compile(
    r"\bopen\(|urlopen|requests\.|np\.load|read_csv|get_file|tfds\.|wget|curl|savefig"
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_read_no_files_and_no_network(path):
    # Each notebook stands alone: it neither reads files another notebook wrote nor
    # downloads anything (the Colab cell installs helpers only when run on Colab).
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code" and "google.colab" not in cell.source:
            assert not CODE_THAT_READS_FILES_OR_NETWORK.search(cell.source), cell.source[:80]


@pytest.mark.skipif(not os.environ.get("SERIES_OFFLINE"), reason="not run by tools/offline.sh")
def test_offline_runs_really_have_no_network():
    with pytest.raises(OSError):
        socket.create_connection(("pypi.org", 443), timeout=3)


def test_notebook_10_trains_at_the_rates_its_validation_page_chose():
    # benchmarks/vae_rates.py chooses each contestant's rate on a validation split and
    # writes docs/vae_rates.md; notebooks 10 and 11 train every contestant at h.vae.RATES.
    from helpers import vae

    import vae_rates

    assert vae.RATES == vae_rates.chosen_rates()
    assert set(vae.RATES) == set(vae_rates.CONTESTANTS)
