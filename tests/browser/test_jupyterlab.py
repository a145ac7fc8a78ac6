"""The notebooks as readers meet them: JupyterLab in a real (headless) browser.

Run with `make test-browser` (also part of .ci/run). JupyterLab serves a copy of the
repository's layout as `make lab` does (the root, opening on notebooks/), with
Binder's settings override (.binder/overrides.json). For each notebook: open it in
JupyterLab, restart the kernel and clear outputs, run all cells through the UI,
wait for the kernel to go idle, then check that no cell shows an error, that as
many figures rendered as the stored notebook has, and that the LaTeX rendered
(MathJax output present, no raw $$ left). A full-page screenshot of each goes to
artifacts/screenshots/. Deliberately broken copies show that the checks fail.
Each navigation link (series index, previous, next) is clicked and must open its
target; closing a notebook's tab must shut its kernel down (Binder's override).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api", reason="make test-browser installs it")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TOKEN = "browser-test"
# Headless, and off the network: no background services, updates or QUIC.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on screen
# Scroll the notebook back to its top and return its full height.
NOTEBOOK_HEIGHT = """() => {
    const scroller = document.querySelector(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
    if (!scroller) return 0;
    scroller.scrollTop = 0;
    return scroller.scrollHeight;
}"""
# Finished: the kernel is idle, no cell is queued or running ([*]), and every code
# cell has run, or one raised (Run All stops there).
RUN_FINISHED = """() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
    if (!panel || !indicator || indicator.dataset.status !== 'idle') return false;
    const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
        .map(p => p.textContent);
    if (prompts.length === 0 || prompts.some(t => t.includes('*'))) return false;
    const raised = panel.querySelector(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]');
    return raised !== null || prompts.every(t => /\\[\\d+\\]/.test(t));
}"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """JupyterLab serving a copy of the repository's layout plus broken notebooks.

    As `make lab` serves it: the root holds README.md, docs/ and notebooks/, and the
    lab opens on notebooks/. Stopped whatever happens.
    """
    root = tmp_path_factory.mktemp("served")
    shutil.copy(ROOT / "README.md", root / "README.md")
    shutil.copytree(ROOT / "docs", root / "docs")
    folder = root / "notebooks"
    folder.mkdir()
    for path in NOTEBOOKS:
        shutil.copy(path, folder / path.name)
    write_broken_copies(folder)
    app_settings = tmp_path_factory.mktemp("app-settings")
    shutil.copy(ROOT / ".binder" / "overrides.json", app_settings / "overrides.json")
    settings = tmp_path_factory.mktemp("settings") / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Render every cell (no virtual scrolling), so all outputs are in the page; and
    # no news pop-up (it would fetch from the network and cover the page).
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    apputils = settings.parent / "apputils-extension"
    apputils.mkdir()
    (apputils / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.default_url=/lab/tree/notebooks",
        f"--LabApp.app_settings_dir={app_settings}",
        f"--LabApp.user_settings_dir={settings.parent.parent}",
        f"--LabApp.workspaces_dir={tmp_path_factory.mktemp('workspaces')}",
    ]
    lab = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=3)
                break
            except OSError:
                assert lab.poll() is None, "JupyterLab exited during start-up"
                assert time.monotonic() < deadline, "JupyterLab did not start within 90 s"
                time.sleep(0.5)
        yield url, folder
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


def write_broken_copies(folder):
    """Two copies of notebook 01: one whose cell raises, one whose figure is gone."""
    source = nbformat.read(NOTEBOOKS[0], as_version=4)
    code = [c for c in source.cells if c.cell_type == "code"]
    raises = nbformat.from_dict(json.loads(json.dumps(source)))
    [c for c in raises.cells if c.cell_type == "code"][3].source = "raise RuntimeError('broken')"
    nbformat.write(raises, folder / "broken_raises.ipynb")
    no_figure = nbformat.from_dict(json.loads(json.dumps(source)))
    plotting = next(i for i, c in enumerate(code) if "plt.show()" in c.source)
    cell = [c for c in no_figure.cells if c.cell_type == "code"][plotting]
    cell.source = cell.source.replace("plt.show()", "plt.close()")  # same code, no figure
    nbformat.write(no_figure, folder / "broken_no_figure.ipynb")


def expected_figures(path):
    """The number of figures the stored notebook shows."""
    cells = nbformat.read(path, as_version=4).cells
    return sum(
        "image/png" in out.get("data", {})
        for c in cells
        if c.cell_type == "code"
        for out in c.outputs
    )


def run_in_lab(browser, url, path):
    """Open, restart and clear, run all through the UI; return the page's findings."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    idle = ".jp-StatusBar-TextItem:has-text('| Idle')"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        # A workspace of its own, reset: only this notebook is open.
        open_notebook(page, url, path, workspace=path.stem)
        page.wait_for_selector(idle, timeout=90_000)
        page.click("li.lm-MenuBar-item:has-text('Kernel')")
        page.click("text=Restart Kernel and Clear Outputs of All Cells…")
        page.locator(".jp-Dialog button.jp-mod-accept").click()
        page.wait_for_selector(idle, timeout=60_000)
        page.click("li.lm-MenuBar-item:has-text('Run')")
        page.click("li.lm-Menu-item:has-text('Run All Cells')")
        page.wait_for_function(RUN_FINISHED, timeout=120_000)
        page.wait_for_timeout(500)  # let the last outputs and MathJax settle
        markdown = page.eval_on_selector_all(
            f"{PANEL} .jp-RenderedMarkdown", "els => els.map(e => e.innerText).join('\\n')"
        )
        stderr = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        return {
            "errors": page.locator(f"{PANEL} {stderr}").count(),
            "figures": page.locator(f"{PANEL} .jp-OutputArea-output img").count(),
            "math": page.locator(f"{PANEL} .jp-RenderedMarkdown mjx-container").count(),
            "raw_math": "$$" in markdown,
        }
    finally:
        # The notebook scrolls inside its panel: grow the window to show all of it.
        height = page.evaluate(NOTEBOOK_HEIGHT)
        page.set_viewport_size({"width": 1280, "height": min((height or 900) + 200, 30_000)})
        page.wait_for_timeout(1500)  # lumino lays the panel out again
        page.screenshot(path=SCREENSHOTS / f"{path.stem}.png", full_page=True)
        page.close()
        shut_down_kernels(url)


def open_notebook(page, url, path, workspace):
    """Open notebooks/<name> in a workspace of its own, reset: only it is open."""
    where = f"{url}/lab/workspaces/{workspace}/tree/notebooks/{path.name}"
    page.goto(f"{where}?reset&token={TOKEN}")
    page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=90_000)


def kernels(url):
    with urllib.request.urlopen(f"{url}/api/kernels?token={TOKEN}", timeout=10) as response:
        return json.load(response)


def shut_down_kernels(url):
    """Stop the kernels the page started, so each notebook runs alone."""
    with urllib.request.urlopen(f"{url}/api/sessions?token={TOKEN}", timeout=10) as response:
        sessions = json.load(response)
    for session in sessions:
        request = urllib.request.Request(
            f"{url}/api/sessions/{session['id']}?token={TOKEN}", method="DELETE"
        )
        urllib.request.urlopen(request, timeout=30).close()


def problems(found, path):
    wanted = expected_figures(path)
    issues = []
    if found["errors"]:
        issues.append(f"{found['errors']} cell(s) show an error or stderr")
    if found["figures"] != wanted:
        issues.append(f"{found['figures']} figures rendered, {wanted} expected")
    if not found["math"]:
        issues.append("no MathJax output")
    if found["raw_math"]:
        issues.append("raw $$ left in rendered markdown")
    return issues


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_jupyterlab(served, browser, notebook):
    url, folder = served
    found = run_in_lab(browser, url, folder / notebook.name)
    assert not problems(found, notebook), problems(found, notebook)


@pytest.mark.parametrize(
    "name,symptom", [("broken_raises", "show an error"), ("broken_no_figure", "figures rendered")]
)
def test_checks_catch_a_broken_notebook(served, browser, name, symptom):
    url, folder = served
    path = folder / f"{name}.ipynb"
    found = run_in_lab(browser, url, path)
    assert any(symptom in issue for issue in problems(found, path))


# The relative links of the first and last cells (header and footer), as rendered:
# JupyterLab points a link to a file in the served tree at /files/<path from the root>
# and opens that file itself when it is clicked.
LOCAL_LINK = "a[href*='/files/']"
NAVIGATION_LINKS = """(selector) => {
    const cells = document.querySelectorAll(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell');
    return [cells[0], cells[cells.length - 1]].flatMap(cell =>
        [...cell.querySelectorAll(selector)].map(a => ({
            text: a.innerText,
            path: decodeURIComponent(new URL(a.href).pathname.replace(/^\\/files\\//, '')),
        })));
}"""
CURRENT_TAB = ".lm-DockPanel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel"
SHOWN = ".lm-DockPanel-widget:not(.lm-mod-hidden)"


def expected_links(path):
    """(text, path from the served root) of each relative link in the header and footer."""
    cells = nbformat.read(path, as_version=4).cells
    links = []
    for cell in (cells[0], cells[-1]):
        for text, target in re.findall(r"\[([^\]]+)\]\(([^)]+)\)", cell.source):
            if "://" not in target:
                resolved = (Path("/notebooks") / target).resolve()
                links.append((text, str(resolved.relative_to("/"))))
    return links


def first_line_of(target):
    """A line the target shows once open: the README's title, a notebook's heading."""
    if target.endswith(".ipynb"):
        heading = nbformat.read(ROOT / target, as_version=4).cells[1].source
        return heading.splitlines()[0].lstrip("# ")
    return (ROOT / target).read_text().splitlines()[0].lstrip("# ")


def click_link(page, index):
    page.locator(f"{PANEL} .jp-Cell").first.wait_for()
    cells = page.locator(f"{PANEL} .jp-Cell")
    links = [link for cell in (cells.first, cells.last) for link in cell.locator(LOCAL_LINK).all()]
    links[index].click()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_every_navigation_link_opens_its_target(served, browser, notebook):
    url, _ = served
    wanted = expected_links(notebook)
    assert any(text == "Series index" for text, _ in wanted), "no series index link"
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        open_notebook(page, url, notebook, workspace=f"links-{notebook.stem}")
        # Links get their resolved address a moment after the cell renders.
        count = f"({NAVIGATION_LINKS})(selector).length === {len(wanted)}"
        try:
            page.wait_for_function(f"(selector) => {count}", arg=LOCAL_LINK, timeout=30_000)
        except playwright.TimeoutError:
            pass  # the comparison below says what is missing
        rendered = page.evaluate(NAVIGATION_LINKS, LOCAL_LINK)
        found = [(link["text"], link["path"]) for link in rendered]
        assert found == wanted, "the rendered links differ from the cells' links"
        for index, (_, target) in enumerate(wanted):
            click_link(page, index)
            name = Path(target).name
            page.wait_for_function(
                """([selector, name]) => [...document.querySelectorAll(selector)]
                    .some(tab => tab.innerText === name)""",
                arg=[CURRENT_TAB, name],
                timeout=30_000,
            )
            shown = page.locator(SHOWN).filter(has_text=first_line_of(target))
            shown.first.wait_for(timeout=30_000)
            # Back to the notebook for the next link.
            page.locator(".lm-DockPanel .lm-TabBar-tab", has_text=notebook.name).click()
            page.locator(f"{CURRENT_TAB}:text-is('{notebook.name}')").wait_for()
    finally:
        page.close()
        shut_down_kernels(url)


def test_closing_a_notebook_tab_shuts_its_kernel_down(served, browser):
    """Binder's override (kernelShutdown) as JupyterLab applies it."""
    url, _ = served
    shut_down_kernels(url)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        open_notebook(page, url, NOTEBOOKS[0], workspace="kernel-shutdown")
        page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')", timeout=90_000)
        assert len(kernels(url)) == 1
        tab = page.locator(".lm-DockPanel .lm-TabBar-tab", has_text=NOTEBOOKS[0].name)
        tab.locator(".lm-TabBar-tabCloseIcon").click()
        deadline = time.monotonic() + 30
        while kernels(url) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert kernels(url) == [], "the kernel outlived its closed tab"
    finally:
        page.close()
        shut_down_kernels(url)
