"""A notebook's size and the time its title cell states, by one rule.

The title cell of every notebook says

    **Time**: about R minutes to read and run, and E minutes for the exercises.

R, to read and run: the prose (markdown without the generated header and footer) at 100
words a minute, plus a minute for each code cell (run it), each figure and each display
equation, plus a minute for every 10 lines of printed output, rounded up to five minutes.
Calibrated on a student's timed run of notebooks 01-10 (working alone, reading every
sentence and output): on the notebooks as they were timed, the rule was at or above each
of those ten times, by 0 to 25 minutes; the earlier rule (120 words a minute, half a
minute a cell) was below every one.
E: the sum of the minutes the exercises' labels state, `**Exercise N** (about M minutes).`

Run `python tools/lesson_time.py` to rewrite every notebook's Time line by the rule
(tests/test_lesson_size.py checks that each states it).
"""

import math
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
WORDS_PER_MINUTE = 100
MINUTES_PER_ITEM = 1  # a code cell, a figure, a display equation
PRINTED_LINES_PER_MINUTE = 10

TIME_LINE = re.compile(
    r"\*\*Time\*\*: about (\d+) minutes to read and run, and (\d+) minutes for the exercises\."
)
EXERCISE_LABEL = re.compile(r"\*\*Exercise (\d+)\*\* \(about (\d+) minutes\)\.")


def measure(notebook):
    """Words of all markdown, words of prose (without the generated header and footer), code
    lines, the largest code cell's lines, the items R charges a minute each (code cells,
    figures, i.e. stored PNG outputs, and display equations, $$ ... $$), and the lines of
    printed output."""
    words = prose = lines = largest = items = printed = 0
    for cell in notebook.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "markdown":
            n = len(cell.source.split())
            if not tags & {"header", "footer"}:
                prose, items = prose + n, items + cell.source.count("$$") // 2
            words += n
        elif cell.cell_type == "code":
            n = len(cell.source.splitlines())
            outputs = cell.get("outputs", [])
            figures = sum("image/png" in out.get("data", {}) for out in outputs)
            printed += sum(len(out.get("text", "").splitlines()) for out in outputs)
            lines, largest, items = lines + n, max(largest, n), items + 1 + figures
    return words, prose, lines, largest, items, printed


def reading_minutes(prose, items, printed):
    """R of the time rule: reading and running, rounded up to five minutes."""
    minutes = (
        prose / WORDS_PER_MINUTE + items * MINUTES_PER_ITEM + printed / PRINTED_LINES_PER_MINUTE
    )
    return 5 * math.ceil(minutes / 5)


def exercise_minutes(notebook):
    """E of the time rule, and the exercise numbers the labels carry."""
    labels = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            labels += EXERCISE_LABEL.findall(cell.source)
    return sum(int(minutes) for _, minutes in labels), [int(number) for number, _ in labels]


def stated_time(notebook):
    """The Time line the rule gives this notebook."""
    _, prose, _, _, items, printed = measure(notebook)
    minutes, _ = exercise_minutes(notebook)
    return (
        f"**Time**: about {reading_minutes(prose, items, printed)} minutes to read and run, "
        f"and {minutes} minutes for the exercises."
    )


def main(paths):
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        title = notebook.cells[1]
        if not TIME_LINE.search(title.source):
            sys.exit(f"{path}: the title cell lacks the line {TIME_LINE.pattern}")
        new = TIME_LINE.sub(stated_time(notebook), title.source)
        if new != title.source:
            title.source = new
            nbformat.write(notebook, path)
            print(f"{Path(path).name}: {TIME_LINE.search(new)[0]}")


if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):
        sys.exit(print(__doc__))
    main(sys.argv[1:] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
