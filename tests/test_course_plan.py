"""The course plan in docs/teaching.md adds up, and follows its own sizing rule.

Every session's slots run from minute 0 to minute 90 without a gap or an overlap and keep
at least 10 minutes of slack; a notebook walked through gets its header's R minutes (read
and run), a pre-read a 10-minute discussion, an exercise done in class the minutes of its
label; every notebook of the series is walked through, a pre-read, or reading. The sizes
table the plan uses must agree with each notebook's header wherever the header states its
time in the lesson format (tests/test_lesson_size.py holds the header to its content).
"""

import re
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest
from lesson_time import EXERCISE_LABEL, TIME_LINE

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "teaching.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

SESSION_MINUTES = 90
MIN_SLACK = 10
DISCUSSION_MINUTES = 10
KINDS = {"walk-through", "discussion", "exercise", "wrap-up", "slack"}
SERIES = [path.name[:2] for path in NOTEBOOKS]  # every notebook, 01 on


def table_rows(text):
    """The cells of each row of the first markdown table in text, header and rule left out."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= set("-: ") for cell in cells):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]


def section(text, heading):
    """The text under a heading, up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = text.index(heading + "\n")
    rest = text[start + len(heading) + 1 :]
    stop = re.search(rf"^#{{1,{len(level)}}} ", rest, re.M)
    return rest[: stop.start()] if stop else rest


def sizes(text):
    """notebook number -> (R, E, where it is in the plan), from the sizes table."""
    rows = table_rows(section(text, "### The sizes the plan uses"))
    return {row[0][:2]: (int(row[1]), int(row[2]), row[3]) for row in rows}


def sessions(text):
    """[(number, pre-reads, reading after class, [(start, end, notebook, kind, what)])]."""
    found = []
    for match in re.finditer(r"^### Session (\d+) · .*$", text, re.M):
        body = section(text, match.group(0))
        pre = re.findall(r"\*\*Pre-read:\*\* (\d\d) · ", body)
        reading = re.findall(r"\*\*Reading after class:\*\* (\d\d) · ", body)
        slots = []
        for minutes, notebook, kind, what in table_rows(body):
            start, end = (int(m) for m in re.fullmatch(r"(\d+)–(\d+)", minutes).groups())
            slots.append((start, end, notebook, kind, what))
        found.append((int(match[1]), pre, reading, slots))
    return found


def header_times(path):
    """(R, E) the notebook's header states in the lesson format, or None."""
    found = TIME_LINE.search(nbformat.read(path, as_version=4).cells[1].source)
    return (int(found[1]), int(found[2])) if found else None


def exercise_label_minutes(number, exercise):
    """The minutes the label of exercise `exercise` of notebook `number` states."""
    path = next(p for p in NOTEBOOKS if p.name.startswith(number))
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            for label, minutes in EXERCISE_LABEL.findall(cell.source):
                if int(label) == exercise:
                    return int(minutes)
    raise AssertionError(f"{path.name} has no label for Exercise {exercise}")


TEXT = GUIDE.read_text(encoding="utf-8")
SIZES = sizes(TEXT)
SESSIONS = sessions(TEXT)


def test_the_plan_has_its_sessions_and_its_sizes():
    assert len(SESSIONS) >= 3 and [s[0] for s in SESSIONS] == list(range(1, len(SESSIONS) + 1))
    assert sorted(SIZES) == SERIES, "the sizes table names every notebook once"


@pytest.mark.parametrize("session", SESSIONS, ids=lambda s: f"session {s[0]}")
def test_each_session_adds_up_to_90_minutes_with_slack(session):
    _, _, _, slots = session
    assert slots[0][0] == 0 and slots[-1][1] == SESSION_MINUTES
    for (_, end, *_), (start, *_) in zip(slots, slots[1:], strict=False):
        assert start == end, f"a gap or an overlap at minute {end}"
    assert all(start < end for start, end, *_ in slots)
    assert {kind for *_, kind, _ in slots} <= KINDS
    slack = sum(end - start for start, end, _, kind, _ in slots if kind == "slack")
    assert slack >= MIN_SLACK, f"{slack} minutes of slack, fewer than {MIN_SLACK}"


@pytest.mark.parametrize("session", SESSIONS, ids=lambda s: f"session {s[0]}")
def test_each_slot_is_sized_by_the_rule(session):
    number, pre_reads, _, slots = session
    walked = defaultdict(int)
    for start, end, notebook, kind, what in slots:
        if kind == "walk-through":
            walked[notebook] += end - start
        elif kind == "discussion":
            assert notebook in pre_reads, f"{notebook} is discussed but not a pre-read"
            assert end - start == DISCUSSION_MINUTES
        elif kind == "exercise":
            exercise, minutes = re.match(r"Exercise (\d+) \((\d+) minutes\)", what).groups()
            assert end - start == int(minutes) == exercise_label_minutes(notebook, int(exercise))
        else:
            assert notebook == "—", f"a {kind} slot belongs to no notebook"
    for notebook, minutes in walked.items():
        assert minutes == SIZES[notebook][0], f"{notebook}: {minutes} minutes, its R is not"
    for notebook in pre_reads:
        line = re.search(rf"\*\*Pre-read:\*\* {notebook} · [^(]*\((\d+) minutes\)", TEXT)
        assert line and int(line[1]) == SIZES[notebook][0], f"pre-read {notebook}'s minutes"
        assert any(kind == "discussion" and nb == notebook for _, _, nb, kind, _ in slots)
    assert not set(walked) & set(pre_reads), f"session {number} walks through a pre-read"


def test_every_notebook_has_a_slot_a_pre_read_or_a_reading():
    where = {}
    for number, pre_reads, reading, slots in SESSIONS:
        for notebook in {nb for _, _, nb, kind, _ in slots if kind == "walk-through"}:
            where.setdefault(notebook, []).append(f"walked through, session {number}")
        for notebook in pre_reads:
            where.setdefault(notebook, []).append(f"pre-read for session {number}")
        for notebook in reading:
            where.setdefault(notebook, []).append(f"reading after session {number}")
    assert sorted(where) == SERIES, f"not in the plan: {sorted(set(SERIES) - set(where))}"
    for notebook, places in where.items():
        assert len(places) == 1, f"{notebook} is in the plan twice: {places}"
        assert SIZES[notebook][2].startswith(places[0]), f"{notebook}: the sizes table says"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_sizes_are_the_headers(path):
    assert path.name[:2] in SIZES, f"{path.name} is not in the course plan's sizes table"
    stated = header_times(path)
    if stated is None:
        pytest.skip("the header does not state its time in the lesson format yet")
    assert SIZES[path.name[:2]][:2] == stated, f"R and E in the header: {stated}"


def test_the_parser_reads_a_plan_written_by_hand():
    text = (
        "### Session 1 · A\n\n**Pre-read:** 01 · The model (20 minutes).\n\n"
        "| minutes | notebook | kind | what to do |\n|---|---|---|---|\n"
        "| 0–10 | 01 | discussion | talk |\n| 10–90 | — | slack | wait |\n\n"
        "### Session 2 · B\n\n**Reading after class:** 10 · The VAE (45 minutes).\n"
    )
    assert sessions(text) == [
        (1, ["01"], [], [(0, 10, "01", "discussion", "talk"), (10, 90, "—", "slack", "wait")]),
        (2, [], ["10"], []),
    ]
