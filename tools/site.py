"""Render the executed notebooks and the README into a small static site.

    python tools/site.py [OUTPUT_DIR]               (default: _site/, ignored by git)
    python tools/site.py --student [OUTPUT_DIR]     (default: student/site/, ignored too)

index.html is the README; each page of docs/ (the instructor guide, the findings,
running, performance, testing) becomes its NAME.html; each notebook
becomes NN_name.html with its stored outputs (figures embedded), a navigation
bar, and links between notebooks rewritten from .ipynb to .html; the tests'
nbval-* cell tags are left out. Math is typeset by MathJax in the reader's
browser, as in JupyterLab, from a copy shipped with the site (mathjax/tex-svg.js,
MathJax 3's single-file build with its fonts inside, taken from the
django-static-mathjax package on PyPI, which needs no Django): the pages read
offline. No page loads anything from another host: nbconvert's template asks a CDN for
require.js, which these pages do not need (no widgets), so that script is left out, and
the Binder and Colab badges become text links (a link is followed only when clicked).

The student build (--student, `make html-student`) is the site to give students: every
solution emptied as in the student copies (tools/student.py), the outputs of the
exercises' cells cleared (a check cell's verdict, or a figure drawn from an answer, would
give the answer away), and the instructor guide, which holds the exercises' expected
findings, replaced by a note. Nothing is executed: run `make outputs` first if the
notebooks changed.
"""

import re
import shutil
import sys
from importlib.resources import files
from pathlib import Path

import mistune
import nbformat
from nbconvert import HTMLExporter
from student import student_copy, without_test_tags

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


INSTRUCTOR_ONLY = "teaching"  # docs/teaching.md: the student build replaces it by a note
INSTRUCTOR_NOTE = (
    "# The instructor guide\n\nThis page is for instructors: it holds the exercises' "
    "expected findings, so the students' copy of the site leaves it out. The exercises "
    "are at the end of each notebook; back to the [series index](../README.md).\n"
)


def navigation(student=False):
    links = ['<a href="index.html">Index</a>']
    if not student:
        links.append('<a href="teaching.html">Teaching</a>')
    links.append('<a href="findings.html">Findings</a>')
    links += [f'<a href="{path.stem}.html">{path.stem[:2]}</a>' for path in notebooks()]
    return '<nav class="series">' + "".join(links) + "</nav>"


def rewrite_links(html):
    """Links between pages of the series point at their .html versions, section anchors kept."""
    html = re.sub(
        r'href="(?:notebooks/|\.\./notebooks/)?(\d\d_[\w]+)\.ipynb(#[^"]*)?"',
        r'href="\1.html\2"',
        html,
    )
    html = re.sub(r'href="(?:\.\./)?README\.md"', 'href="index.html"', html)
    html = re.sub(r'href="(?:\.\./)?(?:docs/)?(\w+)\.md(#[^"]*)?"', r'href="\1.html\2"', html)
    # a docs page's figures sit beside it in docs/; the site keeps them in docs/ too
    return re.sub(r'src="(\w+\.png)"', r'src="docs/\1"', html)


def heading_ids(html):
    """Each heading gets GitHub's id for it (lower case, punctuation dropped, spaces to
    hyphens), so a link to docs/page.md#section works on the site as on GitHub."""

    def with_id(found):
        text = re.sub(r"<[^>]+>", "", found[2]).strip().lower()
        slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
        return f'<h{found[1]} id="{slug}">{found[2]}</h{found[1]}>'

    return re.sub(r"<h([1-6])>(.*?)</h\1>", with_id, html)


def protect_math(markdown):
    """Keep $...$ and $$...$$ away from the markdown parser (underscores, asterisks)."""
    stash = []

    def keep(match):
        stash.append(match.group(0))
        return f"MATHPLACEHOLDER{len(stash) - 1}X"

    text = re.sub(r"\$\$.+?\$\$|\$[^$\n]+\$", keep, markdown, flags=re.S)
    return text, stash


# What makes a browser fetch from another host on opening a page (a link does not).
REMOTE_LOAD = re.compile(
    r"<(?:script|img|iframe|source|video|audio|embed)\b[^>]*\ssrc=\"(?:https?:)?//"
    r"|<link\b[^>]*\shref=\"(?:https?:)?//|@import\s+(?:url\()?\s*[\"']?(?:https?:)?//"
)


def local_only(html):
    """The page without loads from another host: remote scripts dropped, remote images
    (the Binder and Colab badges) replaced by their alt text, which stays a link."""
    html = re.sub(r"<script\b[^>]*\ssrc=\"(?:https?:)?//[^\"]*\"[^>]*>\s*</script>", "", html)
    html = re.sub(
        r"<img\b[^>]*\ssrc=\"(?:https?:)?//[^\"]*\"[^>]*>",
        lambda m: re.search(r'alt="([^"]*)"', m.group(0))[1],
        html,
    )
    remote = REMOTE_LOAD.search(html)
    if remote:
        raise RuntimeError(f"a page would load from another host: {html[remote.start() :][:120]}")
    return html


def render_markdown(path, title, student=False, text=None):
    text, stash = protect_math(path.read_text() if text is None else text)
    body = mistune.html(text)
    for index, math in enumerate(stash):
        body = body.replace(f"MATHPLACEHOLDER{index}X", math)
    return local_only(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"{MATHJAX}{STYLE}</head><body>{navigation(student)}<main class='readme'>"
        f"{rewrite_links(heading_ids(body))}</main></body></html>"
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


def for_students(notebook):
    """The student copy (solutions emptied, outputs cleared) with the stored outputs put
    back in the cells before the Exercises heading, where no answer can show."""
    stored = [(c.get("outputs"), c.get("execution_count")) for c in notebook.cells]
    heading = next(
        (i for i, c in enumerate(notebook.cells) if re.search("^## Exercises", c.source, re.M)),
        len(notebook.cells),
    )
    student_copy(notebook)
    for cell, (outputs, count) in zip(notebook.cells[:heading], stored, strict=False):
        if cell.cell_type == "code" and "solution" not in cell.metadata.get("tags", []):
            cell.outputs, cell.execution_count = outputs, count
    return notebook


def render_notebook(path, exporter, student=False):
    notebook = without_test_tags(nbformat.read(path, as_version=4))
    if student:
        notebook = for_students(notebook)
    html, _ = exporter.from_notebook_node(notebook)
    html = use_local_mathjax(html).replace("</head>", f"{STYLE}</head>", 1)
    nav = navigation(student)
    html = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, html, count=1)
    return local_only(rewrite_links(html))


def build(output, student=False):
    if output.exists():
        shutil.rmtree(output)
    (output / "docs").mkdir(parents=True)
    for figure in (ROOT / "docs").glob("*.png"):  # the README's figures
        shutil.copy(figure, output / "docs" / figure.name)
    (output / "mathjax").mkdir()
    shutil.copy(files("mathjax") / "static/mathjax/es5/tex-svg.js", output / MATHJAX_FILE)
    title = "Gradients through discrete random choices"
    readme = render_markdown(ROOT / "README.md", title, student)
    (output / "index.html").write_text(readme)
    for page in (ROOT / "docs").glob("*.md"):
        text = INSTRUCTOR_NOTE if student and page.stem == INSTRUCTOR_ONLY else None
        heading = (text or page.read_text()).split("\n", 1)[0].lstrip("# ")
        html = render_markdown(page, f"{heading} | {title}", student, text)
        (output / f"{page.stem}.html").write_text(html)
    exporter = HTMLExporter(template_name="lab")
    for path in notebooks():
        (output / f"{path.stem}.html").write_text(render_notebook(path, exporter, student))
    return output


if __name__ == "__main__":
    args = [arg for arg in sys.argv[1:] if arg != "--student"]
    student = "--student" in sys.argv[1:]
    default = ROOT / "student" / "site" if student else ROOT / "_site"
    target = build(Path(args[0]) if args else default, student)
    print(f"{'student ' if student else ''}site written to {target}/index.html")
