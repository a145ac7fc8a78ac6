"""Every notebook fits a lesson, and its header's time is computed from its content.

The size rules count what a reader scrolls through: at most 2,500 words of markdown (every
markdown cell, the generated header and footer included, counted as whitespace-separated
words), at most 300 lines of code (every line of every code cell, blank lines and the
generated Colab cell included), and no code cell over 30 lines. The time rule, the one the
course plan (docs/teaching.md) sizes its slots by, is stated and applied in
tools/lesson_time.py.
"""

from pathlib import Path

import nbformat
import pytest
from lesson_time import TIME_LINE, exercise_minutes, measure, reading_minutes

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

MAX_WORDS = 2500
MAX_CODE_LINES = 300
MAX_CELL_LINES = 30


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_fits_a_lesson(path):
    words, _, lines, largest, *_ = measure(nbformat.read(path, as_version=4))
    assert words <= MAX_WORDS, f"{words} words of markdown, more than {MAX_WORDS}"
    assert lines <= MAX_CODE_LINES, f"{lines} lines of code, more than {MAX_CODE_LINES}"
    assert largest <= MAX_CELL_LINES, f"a code cell of {largest} lines, over {MAX_CELL_LINES}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_time_line_is_computed_from_the_content(path):
    notebook = nbformat.read(path, as_version=4)
    found = TIME_LINE.search(notebook.cells[1].source)
    assert found, "the title cell lacks the line " + TIME_LINE.pattern
    _, prose, _, _, items, printed = measure(notebook)
    minutes, numbers = exercise_minutes(notebook)
    assert numbers == list(range(1, len(numbers) + 1)) and 2 <= len(numbers) <= 4, (
        f"exercise labels {numbers}: two to four, numbered from 1, each with its minutes"
    )
    expected = reading_minutes(prose, items, printed)
    assert int(found[1]) == expected, (
        f"R: {prose} words, {items} cells, figures and equations and {printed} printed lines"
        f" give {expected} minutes"
        " (python tools/lesson_time.py rewrites the line)"
    )
    assert int(found[2]) == minutes, f"E: the exercises' labels add up to {minutes} minutes"


def test_the_rules_themselves():
    # The counting rules on a notebook built by hand, so a change in them shows here.
    notebook = nbformat.v4.new_notebook()
    figure = nbformat.v4.new_output("display_data", data={"image/png": "", "text/plain": ""})
    printed = nbformat.v4.new_output("stream", text="one\ntwo\n")
    notebook.cells = [
        nbformat.v4.new_markdown_cell("generated words", metadata={"tags": ["header"]}),
        nbformat.v4.new_markdown_cell("# 99 · Title\n\n**Time**: x\n\n$$\na = b\n$$"),
        nbformat.v4.new_code_cell("a = 1\n\n   \nb = 2\n", outputs=[figure]),
        nbformat.v4.new_markdown_cell(
            "**Exercise 1** (about 10 minutes). One.\n\n**Exercise 2** (about 5 minutes). Two."
        ),
        nbformat.v4.new_code_cell("c = 3", outputs=[printed]),
        nbformat.v4.new_markdown_cell("more generated words", metadata={"tags": ["footer"]}),
    ]
    # 2 + 11 + 12 + 3 words, the header and footer out of the prose; 4 + 1 lines, blanks
    # too; two code cells, one figure and one display equation; two printed lines
    assert measure(notebook) == (28, 23, 5, 4, 4, 2)
    assert exercise_minutes(notebook) == (15, [1, 2])
    assert reading_minutes(0, 1, 0) == 5 and reading_minutes(500, 0, 0) == 5
    assert reading_minutes(501, 0, 0) == 10 and reading_minutes(0, 0, 51) == 10
    assert reading_minutes(2400, 20, 60) == 50
