"""The static site (`make html`) read offline: every page's math is typeset by the shipped MathJax.

Each page is opened from disk (file://) in headless chromium, inside the offline
namespace of `make test-browser`, so a page that still needed a CDN would show raw
TeX. A copy of a page with the MathJax script removed shows that the check fails.
"""

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
playwright = pytest.importorskip("playwright.sync_api", reason="make test-browser installs it")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Wait for MathJax 3 to finish typesetting, then report what is on the page.
TYPESET = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        await MathJax.startup.promise;
    }
    const prose = document.body.cloneNode(true);  // code may quote TeX: leave it out
    const code = 'pre, code, .jp-CodeCell .jp-InputArea, script';
    prose.querySelectorAll(code).forEach(e => e.remove());
    const text = prose.textContent;
    return {
        typeset: document.querySelectorAll('mjx-container').length,
        raw: (text.match(/\\$\\$|\\\\begin\\{|\\\\frac|\\\\mathbb/g) || []).length,
    };
}"""


def load_site_tool():
    # site.py imports its neighbour student.py, which pyproject.toml puts on the path
    spec = importlib.util.spec_from_file_location("series_site", ROOT / "tools" / "site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    output = load_site_tool().build(tmp_path_factory.mktemp("site") / "_site")
    broken = (output / "01_model.html").read_text()
    broken = re.sub(r'<script async src="mathjax/tex-svg.js"></script>', "", broken)
    (output / "broken_no_mathjax.html").write_text(broken)
    return output


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield instance
        instance.close()


def math_on(browser, page_path):
    page = browser.new_page()
    try:
        page.goto(page_path.as_uri(), wait_until="load", timeout=60_000)
        page.wait_for_function("() => document.readyState === 'complete'")
        page.wait_for_timeout(200)  # let the async MathJax script start
        return page.evaluate(TYPESET)
    finally:
        page.close()


def pages(site):
    return sorted(p for p in site.glob("*.html") if not p.name.startswith("broken"))


def source_has_math(page):
    """Whether the page's source writes TeX ($...$) outside code: the README for index.html,
    a notebook for NN_name.html, docs/NAME.md for the other pages."""
    if page.stem == "index":
        source = ROOT / "README.md"
    elif re.match(r"\d\d_", page.stem):
        source = ROOT / "notebooks" / f"{page.stem}.ipynb"
    else:
        source = ROOT / "docs" / f"{page.stem}.md"
    text = re.sub(r"```.*?```", "", source.read_text(), flags=re.S)
    return "$" in re.sub(r"`[^`\n]*`", "", text)  # TeX outside code


def test_every_page_renders_its_math_offline(site, browser):
    problems = []
    for path in pages(site):
        result = math_on(browser, path)
        if result["raw"] or (result["typeset"] == 0 and source_has_math(path)):
            problems.append(f"{path.name}: {result}")
    assert not problems, problems
    assert sum(source_has_math(path) for path in pages(site)) >= 10  # the check has pages


def test_the_check_fails_without_mathjax(site, browser):
    result = math_on(browser, site / "broken_no_mathjax.html")
    assert result["typeset"] == 0 and result["raw"] > 0
