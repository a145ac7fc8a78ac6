"""Exercises, student copies and the static site."""

import html as html_module
import re
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest
from nbclient import NotebookClient

# Project-level tests (files, servers, notebooks run end to end): left out of
# make mutants' fast unit subset.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def load_tool(name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"series_{name}", ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


student = load_tool("student")
series_site = load_tool("site")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_has_exercises_with_tagged_solutions_and_a_check(path):
    cells = nbformat.read(path, as_version=4).cells
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    exercises = re.findall(r"\*\*Exercise (\d)", text)
    assert 2 <= len(exercises) <= 4
    assert any("solution" in c.metadata.get("tags", []) for c in cells)
    assert any(c.cell_type == "code" and "h.exercises.check(" in c.source for c in cells)


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    return student.write_copies(tmp_path_factory.mktemp("student"))


def substantive_lines(source):
    # A function's signature is part of the question (the copy keeps it as a stub).
    return [
        line.strip()
        for line in source.splitlines()
        if len(line.strip()) > 12 and not line.strip().startswith(("#", "def "))
    ]


def test_no_solution_leaks_into_student_copies(copies):
    for original, copy in zip(NOTEBOOKS, copies, strict=True):
        solutions = [
            c
            for c in nbformat.read(original, as_version=4).cells
            if "solution" in c.metadata.get("tags", [])
        ]
        assert solutions
        copied = nbformat.read(copy, as_version=4)
        text = "\n".join(c.source for c in copied.cells)
        for cell in solutions:
            for line in substantive_lines(cell.source):
                assert line not in text, f"{copy.name} leaks: {line}"
        for cell in copied.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None


def test_nbval_tags_steer_the_tests_but_reach_no_reader(copies, tmp_path):
    # Timing cells carry nbval's tag instead of a comment line every student would read.
    tagged = [
        c
        for path in NOTEBOOKS
        for c in nbformat.read(path, as_version=4).cells
        if "nbval-ignore-output" in c.metadata.get("tags", [])
    ]
    assert tagged, "no cell carries the nbval-ignore-output tag"
    for path in NOTEBOOKS:
        assert "NBVAL_" not in path.read_text(), f"{path.name} has an NBVAL_ comment line"
    for copy in copies:
        for cell in nbformat.read(copy, as_version=4).cells:
            assert not any(t.startswith("nbval-") for t in cell.metadata.get("tags", []))
    site = series_site.build(tmp_path / "site")
    for path in NOTEBOOKS:
        page = (site / f"{path.stem}.html").read_text()
        assert "nbval-" not in page, f"{path.stem}.html carries an nbval tag"


def errors_of(cells):
    return [
        out["ename"]
        for c in cells
        if c.cell_type == "code"
        for out in c.outputs
        if out.output_type == "error"
    ]


def run_each_cell_twice(notebook):
    """Run the code cells in order, each one twice in a row, as a student does who runs a cell
    again: the outputs kept are the second run's, so any error a repeat causes shows, in that
    cell or a later one (a name rebound to other data, an input changed in place)."""
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )
    with client.setup_kernel():
        for number, cell in enumerate(notebook.cells):
            for _ in range(2 if cell.cell_type == "code" else 0):
                cell.outputs = []
                client.execute_cell(cell, number)


def test_running_each_cell_twice_shows_a_cell_that_breaks_on_a_repeat():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("def scores():\n    return [1, 2]"),
        nbformat.v4.new_code_cell("scores = scores()"),  # the name rebound to its result
        nbformat.v4.new_code_cell("print(sum(scores))"),
    ]
    run_each_cell_twice(notebook)
    assert errors_of(notebook.cells) == ["TypeError"]


@pytest.mark.parametrize("index", range(len(NOTEBOOKS)), ids=[p.name for p in NOTEBOOKS])
def test_student_copies_run_top_to_bottom_with_each_cell_run_twice(copies, index):
    # Only the unanswered stubs may raise, and the checks must say so.
    notebook = nbformat.read(copies[index], as_version=4)
    run_each_cell_twice(notebook)
    assert set(errors_of(notebook.cells)) <= {"NotImplementedError"}, errors_of(notebook.cells)
    printed = "".join(
        out.get("text", "") for c in notebook.cells if c.cell_type == "code" for out in c.outputs
    )
    assert "Exercise 1: not answered yet" in printed
    assert "Exercise 1: correct" not in printed


def test_student_stubs_keep_what_the_checks_need():
    solution = "def closed_form(model, c=1):\n    return 2.0\n\n\nanswer_1 = 3\nhelper = 4\n"
    stub = student.stubs(solution, {"closed_form", "answer_1"})
    assert (
        stub == "def closed_form(model, c=1):\n    return None  # your code here\nanswer_1 = None\n"
    )


def test_static_site_pages_links_and_images_exist(tmp_path):
    site = series_site.build(tmp_path / "site")
    pages = {p.name for p in site.glob("*.html")}
    docs = {f"{p.stem}.html" for p in (ROOT / "docs").glob("*.md")}
    assert {"index.html", "teaching.html", "findings.html"} <= docs | {"index.html"}
    assert {"index.html"} | docs | {f"{p.stem}.html" for p in NOTEBOOKS} <= pages
    for page in site.glob("*.html"):
        html = page.read_text()
        assert "MathJax" in html or "mathjax" in html, f"{page.name} has no math renderer"
        for target in re.findall(r'(?:href|src)="([^"]+)"', html):
            parsed = urlparse(target)
            if parsed.scheme or target.startswith(("#", "data:", "mailto:")):
                continue
            assert (site / parsed.path).exists(), f"{page.name} links to missing {target}"
            if parsed.fragment and parsed.path in docs:  # a section of a docs page
                anchor = f'id="{parsed.fragment}"'
                assert anchor in (site / parsed.path).read_text(), f"{page.name}: no {target}"
    notebook_images = re.findall(
        r'<img[^>]+src="data:image/png', (site / "01_model.html").read_text()
    )
    assert len(notebook_images) >= 4
    assert '<img src="docs/comparison.png"' in (site / "findings.html").read_text()


# What makes a browser fetch from another host when a page opens (a link does not): a
# script, image, frame or media source, a stylesheet or other <link>, a CSS @import.
REMOTE_LOAD = re.compile(
    r"<(?:script|img|iframe|source|video|audio|embed)\b[^>]*\ssrc=\"(?:https?:)?//"
    r"|<link\b[^>]*\shref=\"(?:https?:)?//|@import\s+(?:url\()?\s*[\"']?(?:https?:)?//"
)


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    root = tmp_path_factory.mktemp("sites")
    return series_site.build(root / "full"), series_site.build(root / "student", student=True)


def page_text(html):
    """What a reader sees of a page: tags dropped, entities decoded."""
    return html_module.unescape(re.sub(r"<[^>]+>", "", html))


def solution_probes(cell):
    """Pieces of a solution that survive rendering: code lines, and runs of plain words."""
    if cell.cell_type == "code":
        return substantive_lines(cell.source)
    return [run.strip() for run in re.findall(r"[A-Za-z][A-Za-z ,]{30,}", cell.source)]


def test_no_page_of_either_site_loads_anything_from_another_host(sites):
    nbconvert_template = series_site.HTMLExporter(template_name="lab").from_notebook_node(
        nbformat.read(NOTEBOOKS[0], as_version=4)
    )[0]
    assert REMOTE_LOAD.search(nbconvert_template), "the check no longer sees require.js's CDN"
    for site in sites:
        for page in site.glob("*.html"):
            html = page.read_text()
            found = REMOTE_LOAD.search(html)
            assert not found, f"{page.name} loads {html[found.start() :][:100]}"
    index = (sites[0] / "index.html").read_text()
    assert re.search(r'<a href="https://mybinder\.org/[^"]+">Open in Binder</a>', index)
    assert re.search(r'<a href="https://colab\.research[^"]+">Open in Colab</a>', index)


def test_the_student_site_shows_no_solution_and_no_expected_finding(sites):
    full, student_site = sites
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        shown = page_text((full / f"{path.stem}.html").read_text())
        page = (student_site / f"{path.stem}.html").read_text()
        given = page_text(page)
        for cell in (c for c in cells if "solution" in c.metadata.get("tags", [])):
            probes = solution_probes(cell)
            assert any(probe in shown for probe in probes), "the probes find no solution"
            for probe in probes:
                assert probe not in given, f"{path.stem}.html shows a solution: {probe}"
        start = next(i for i, c in enumerate(cells) if re.search("^## Exercises", c.source, re.M))
        for cell in cells[start:]:
            for out in cell.get("outputs", []):
                text = out.get("text", "").strip()
                if len(text) > 12:  # a verdict or an answer printed in the exercises
                    assert text.splitlines()[0] not in given, f"{path.stem}.html shows {text}"
        assert "Your solution here" in given
        assert 'src="data:image/png' in page  # the figures before the exercises stay
    assert "Expected findings" in page_text((full / "teaching.html").read_text())
    assert "Expected findings" not in page_text((student_site / "teaching.html").read_text())
    assert 'href="teaching.html"' not in (student_site / "01_model.html").read_text()
