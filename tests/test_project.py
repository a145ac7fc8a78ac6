"""The series' own files agree with each other: badges, pins, notebooks, Makefile."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import badges  # noqa: E402
import readme_figure  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def split_requirement(text):
    name, spec = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(.*)", text).groups()
    return name.lower().replace("_", "-"), ",".join(sorted(spec.replace(" ", "").split(",")))


def test_badges_and_links_match_the_repository_setting():
    stale = [p.name for p, text in badges.rendered().items() if p.read_text() != text]
    assert not stale, f"run `make badges`: {stale} disagree with [tool.series]"
    repo, branch = badges.settings()
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert badges.colab_url(repo, branch, path.stem) in readme
        assert badges.binder_url(repo, branch, path.stem) in path.read_text()


def test_environment_yml_pins_what_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(map(split_requirement, project["dependencies"]))
    wanted.update(map(split_requirement, project["optional-dependencies"]["test"]))
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pinned = {}
    for dep in env["dependencies"]:
        for item in dep["pip"] if isinstance(dep, dict) else [dep]:
            name, spec = split_requirement(item)
            if name not in ("python", "pip"):
                pinned[name] = spec
    assert pinned == wanted


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


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_lab_serves_the_notebooks():
    port = free_port()
    env = {**os.environ, "JUPYTER_PORT": str(port), "JUPYTER_TOKEN": "series-test"}
    lab = subprocess.Popen(
        ["make", "lab"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/contents?token=series-test"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    listing = json.load(response)
                break
            except OSError:
                assert lab.poll() is None, "make lab exited early"
                assert time.monotonic() < deadline, "JupyterLab did not answer within 90 s"
                time.sleep(1)
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
    names = {item["name"] for item in listing["content"]}
    assert {path.name for path in NOTEBOOKS} <= names


def test_readme_figure_is_the_stored_notebook_output():
    assert readme_figure.TARGET.read_bytes() == readme_figure.stored_figure()
    assert "docs/comparison.png" in (ROOT / "README.md").read_text()


def test_readme_performance_section_is_the_benchmark_output():
    results = (ROOT / "benchmarks" / "results.md").read_text()
    readme = (ROOT / "README.md").read_text()
    assert f"<!-- performance:start -->\n{results}<!-- performance:end -->" in readme


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
