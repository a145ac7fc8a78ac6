"""The notebooks as readers meet them: JupyterLab in a real (headless) browser.

Run with `make test-browser` (also part of .ci/run). For each notebook: open it in
JupyterLab, restart the kernel and clear outputs, run all cells through the UI,
wait for the kernel to go idle, then check that no cell shows an error, that as
many figures rendered as the stored notebook has, and that the LaTeX rendered
(MathJax output present, no raw $$ left). A full-page screenshot of each goes to
artifacts/screenshots/. Deliberately broken copies show that the checks fail.
"""

import json
import os
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
    """JupyterLab serving copies of the notebooks plus broken ones; stopped whatever happens."""
    folder = tmp_path_factory.mktemp("served")
    for path in NOTEBOOKS:
        shutil.copy(path, folder / path.name)
    write_broken_copies(folder)
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
        f"--ServerApp.root_dir={folder}",
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
        page.goto(f"{url}/lab/workspaces/{path.stem}/tree/{path.name}?reset&token={TOKEN}")
        page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=90_000)
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
