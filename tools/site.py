"""Render the executed notebooks and the README into a small static site.

    python tools/site.py [OUTPUT_DIR]     (default: _site/, ignored by git)

index.html is the README; each page of docs/ (the instructor guide, the findings,
running, performance, testing) becomes its NAME.html; each notebook
becomes NN_name.html with its stored outputs (figures embedded), a navigation
bar, and links between notebooks rewritten from .ipynb to .html; the tests'
nbval-* cell tags are left out. Math is typeset by MathJax in the reader's
browser, as in JupyterLab, from a copy shipped with the site (mathjax/tex-svg.js,
MathJax 3's single-file build with its fonts inside, taken from the
django-static-mathjax package on PyPI, which needs no Django): the pages read
offline. Nothing is executed: run `make outputs` first if the notebooks changed.
"""

import re
import shutil
import sys
from importlib.resources import files
from pathlib import Path

import mistune
import nbformat
from nbconvert import HTMLExporter
from student import without_test_tags

ROOT = Path(__file__).resolve().parent.parent
MATHJAX_FILE = "mathjax/tex-svg.js"
MATHJAX = f"""<script>
window.MathJax = {{tex: {{inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], processEscapes: true}}}};
</script>
<script async src="{MATHJAX_FILE}"></script>"""
STYLE = """<style>
nav.series {font: 14px sans-serif; padding: 8px 16px; background: #f3f3f3;
            border-bottom: 1px solid #ddd; position: sticky; top: 0; z-index: 10;}
nav.series a {margin-right: 14px; text-decoration: none;}
main.readme {max-width: 52em; margin: 2em auto; font: 16px/1.5 sans-serif; padding: 0 1em;}
main.readme table {border-collapse: collapse;} main.readme td, main.readme th
{border: 1px solid #ccc; padding: 4px 8px;} main.readme img {max-width: 100%;}
</style>"""


def notebooks():
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def navigation():
    links = ['<a href="index.html">Index</a>', '<a href="teaching.html">Teaching</a>']
    links.append('<a href="findings.html">Findings</a>')
    links += [f'<a href="{path.stem}.html">{path.stem[:2]}</a>' for path in notebooks()]
    return '<nav class="series">' + "".join(links) + "</nav>"


def rewrite_links(html):
    """Links between pages of the series point at their .html versions."""
    html = re.sub(
        r'href="(?:notebooks/|\.\./notebooks/)?(\d\d_[\w]+)\.ipynb"', r'href="\1.html"', html
    )
    html = re.sub(r'href="(?:\.\./)?README\.md"', 'href="index.html"', html)
    html = re.sub(r'href="(?:\.\./)?(?:docs/)?(\w+)\.md"', r'href="\1.html"', html)
    # a docs page's figures sit beside it in docs/; the site keeps them in docs/ too
    return re.sub(r'src="(\w+\.png)"', r'src="docs/\1"', html)


def protect_math(markdown):
    """Keep $...$ and $$...$$ away from the markdown parser (underscores, asterisks)."""
    stash = []

    def keep(match):
        stash.append(match.group(0))
        return f"MATHPLACEHOLDER{len(stash) - 1}X"

    text = re.sub(r"\$\$.+?\$\$|\$[^$\n]+\$", keep, markdown, flags=re.S)
    return text, stash


def render_markdown(path, title):
    text, stash = protect_math(path.read_text())
    body = mistune.html(text)
    for index, math in enumerate(stash):
        body = body.replace(f"MATHPLACEHOLDER{index}X", math)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"{MATHJAX}{STYLE}</head><body>{navigation()}<main class='readme'>"
        f"{rewrite_links(body)}</main></body></html>"
    )


def use_local_mathjax(html):
    """nbconvert's template loads MathJax 2 from a CDN: load the shipped MathJax 3 instead."""
    html, count = re.subn(
        r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->",
        lambda _: MATHJAX,
        html,
        count=1,
        flags=re.S,
    )
    if count != 1:
        raise RuntimeError("nbconvert's MathJax block was not found: update use_local_mathjax")
    return html


def render_notebook(path, exporter):
    notebook = without_test_tags(nbformat.read(path, as_version=4))
    html, _ = exporter.from_notebook_node(notebook)
    html = use_local_mathjax(html).replace("</head>", f"{STYLE}</head>", 1)
    html = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + navigation(), html, count=1)
    return rewrite_links(html)


def build(output):
    if output.exists():
        shutil.rmtree(output)
    (output / "docs").mkdir(parents=True)
    for figure in (ROOT / "docs").glob("*.png"):  # the README's figures
        shutil.copy(figure, output / "docs" / figure.name)
    (output / "mathjax").mkdir()
    shutil.copy(files("mathjax") / "static/mathjax/es5/tex-svg.js", output / MATHJAX_FILE)
    title = "Gradients through discrete random choices"
    (output / "index.html").write_text(render_markdown(ROOT / "README.md", title))
    for page in (ROOT / "docs").glob("*.md"):
        heading = page.read_text().split("\n", 1)[0].lstrip("# ")
        (output / f"{page.stem}.html").write_text(render_markdown(page, f"{heading} | {title}"))
    exporter = HTMLExporter(template_name="lab")
    for path in notebooks():
        (output / f"{path.stem}.html").write_text(render_notebook(path, exporter))
    return output


if __name__ == "__main__":
    target = build(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_site")
    print(f"site written to {target}/index.html")
