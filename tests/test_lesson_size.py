"""Every notebook fits a lesson, and its header's time is computed from its content.

The size rules count what a reader scrolls through: at most 2,500 words of markdown (every
markdown cell, the generated header and footer included, counted as whitespace-separated
words), at most 300 lines of code (every line of every code cell, blank lines and the
generated Colab cell included), and no code cell over 30 lines.

The time rule, the one the course plan (docs/teaching.md) sizes its slots by: the title
cell says

    **Time**: about R minutes to read and run, and E minutes for the exercises.

with R = 5 * ceil((words / 120 + code_cells / 2) / 5), where words leave out the generated
header and footer (navigation, not reading), reading at 120 words a minute and
half a minute per code cell, rounded up to five minutes, and E the sum of the minutes the
exercises' labels state, `**Exercise N** (about M minutes).`
"""

import math
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

MAX_WORDS = 2500
MAX_CODE_LINES = 300
MAX_CELL_LINES = 30
WORDS_PER_MINUTE = 120
MINUTES_PER_CODE_CELL = 0.5


TIME_LINE = re.compile(
    r"\*\*Time\*\*: about (\d+) minutes to read and run, and (\d+) minutes for the exercises\."
)
EXERCISE_LABEL = re.compile(r"\*\*Exercise (\d+)\*\* \(about (\d+) minutes\)\.")


def measure(notebook):
    """Words of all markdown, words of prose (without the generated header and footer), code
    lines, the largest code cell's lines and the number of code cells."""
    words = prose = lines = largest = cells = 0
    for cell in notebook.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "markdown":
            n = len(cell.source.split())
            words, prose = words + n, prose + (0 if tags & {"header", "footer"} else n)
        elif cell.cell_type == "code":
            n = len(cell.source.splitlines())
            lines, largest, cells = lines + n, max(largest, n), cells + 1
    return words, prose, lines, largest, cells


def reading_minutes(words, code_cells):
    """R of the time rule: reading and running, rounded up to five minutes."""
    minutes = words / WORDS_PER_MINUTE + code_cells * MINUTES_PER_CODE_CELL
    return 5 * math.ceil(minutes / 5)


def exercise_minutes(notebook):
    """E of the time rule, and the exercise numbers the labels carry."""
    labels = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            labels += EXERCISE_LABEL.findall(cell.source)
    return sum(int(minutes) for _, minutes in labels), [int(number) for number, _ in labels]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_fits_a_lesson(path):
    words, _, lines, largest, _ = measure(nbformat.read(path, as_version=4))
    assert words <= MAX_WORDS, f"{words} words of markdown, more than {MAX_WORDS}"
    assert lines <= MAX_CODE_LINES, f"{lines} lines of code, more than {MAX_CODE_LINES}"
    assert largest <= MAX_CELL_LINES, f"a code cell of {largest} lines, over {MAX_CELL_LINES}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_time_line_is_computed_from_the_content(path):
    notebook = nbformat.read(path, as_version=4)
    found = TIME_LINE.search(notebook.cells[1].source)
    assert found, "the title cell lacks the line " + TIME_LINE.pattern
    _, words, _, _, code_cells = measure(notebook)
    minutes, numbers = exercise_minutes(notebook)
    assert numbers == list(range(1, len(numbers) + 1)) and 2 <= len(numbers) <= 4, (
        f"exercise labels {numbers}: two to four, numbered from 1, each with its minutes"
    )
    expected = reading_minutes(words, code_cells)
    assert int(found[1]) == expected, (
        f"R: {words} words and {code_cells} code cells give {expected} minutes"
    )
    assert int(found[2]) == minutes, f"E: the exercises' labels add up to {minutes} minutes"


def test_the_rules_themselves():
    # The counting rules on a notebook built by hand, so a change in them shows here.
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("generated words", metadata={"tags": ["header"]}),
        nbformat.v4.new_markdown_cell("# 99 · Title\n\n**Time**: x"),
        nbformat.v4.new_code_cell("a = 1\n\n   \nb = 2\n"),
        nbformat.v4.new_markdown_cell(
            "**Exercise 1** (about 10 minutes). One.\n\n**Exercise 2** (about 5 minutes). Two."
        ),
        nbformat.v4.new_code_cell("c = 3"),
        nbformat.v4.new_markdown_cell("more generated words", metadata={"tags": ["footer"]}),
    ]
    # 2 + 6 + 12 + 3 words, the header and footer out of the prose; 4 + 1 lines, blanks too
    assert measure(notebook) == (23, 18, 5, 4, 2)
    assert exercise_minutes(notebook) == (15, [1, 2])
    assert reading_minutes(0, 1) == 5 and reading_minutes(600, 0) == 5
    assert reading_minutes(601, 0) == 10 and reading_minutes(2400, 20) == 30
