"""make mutants: mutation testing of helpers/ with mutmut, and its kill rate.

    python tools/mutants.py [--jobs N] [MUTANT_GLOB ...]

mutmut (configured in pyproject.toml, [tool.mutmut]) copies helpers/ into mutants/,
makes one small change at a time (a changed operator, number, argument or name) in
every function, and runs the unit tests that cover that function against each; a
mutant that no test notices has survived. Results are kept in mutants/, so a run
that is stopped goes on where it stopped; naming mutants (e.g. "helpers.stats*")
runs only those, again. Every file in helpers/ is covered, whatever is added.

Then it prints the kill rate over the checked mutants that are not listed as
equivalent in tests/mutants_equivalent.txt (a mutant that computes the same thing,
with a one-line reason), per module and in all, and each surviving mutant's diff.
"""

import argparse
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "tests" / "mutants_equivalent.txt"
MUTMUT = [str(Path(sys.executable).parent / "mutmut")]
# mutmut's verdicts: a test failed (or crashed, or ran far past its time), or none did.
DETECTED = {"killed", "timeout", "segfault"}
UNDETECTED = {"survived", "no tests", "suspicious"}


def equivalent_mutants(path=EQUIVALENT):
    """name -> reason, from lines 'helpers.module.x_function__mutmut_N  reason'."""
    listed = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path.name}:{number}: {name} needs a one-line reason")
        listed[name] = reason.strip()
    return listed


def verdicts():
    """mutant name -> mutmut's verdict, for every mutant of helpers/."""
    out = subprocess.run(
        [*MUTMUT, "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True
    )
    pairs = re.findall(r"^\s*(helpers\.\S+): (.+?)\s*$", out.stdout, flags=re.M)
    return dict(pairs)


def module_of(name):
    """helpers.stats from helpers.stats.x_mean__mutmut_1 (or a method's xǁClassǁname__mutmut_1)."""
    return name.rsplit(".", 1)[0]


def changed_lines(name):
    """The -/+ lines of a mutant's diff."""
    out = subprocess.run([*MUTMUT, "show", name], cwd=ROOT, capture_output=True, text=True)
    lines = out.stdout.splitlines()
    return [line for line in lines if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def report(results, equivalent):
    counts = defaultdict(Counter)
    for name, verdict in results.items():
        if name in equivalent:
            verdict = "equivalent"
        counts[module_of(name)][verdict] += 1
    print(f"\n{'module':<28}{'mutants':>8}{'checked':>8}{'killed':>8}{'equiv.':>8}{'rate':>8}")
    total = Counter()
    for module in sorted(counts):
        total.update(counts[module])
        _row(module, counts[module])
    _row("all of helpers/", total)
    survivors = sorted(n for n, v in results.items() if v in UNDETECTED and n not in equivalent)
    print(f"\n{len(survivors)} surviving mutant(s) not listed as equivalent:")
    for name in survivors:
        print(f"\n{name}: {results[name]}")
        for line in changed_lines(name):
            print(f"    {line}")
    stale = sorted(set(equivalent) - set(results))
    if stale:
        print(f"\n{EQUIVALENT.name} lists mutants that no longer exist: {', '.join(stale)}")
    return total


def _row(label, count):
    detected = sum(count[v] for v in DETECTED)
    checked = detected + sum(count[v] for v in UNDETECTED)
    rate = f"{100 * detected / checked:.1f}%" if checked else "-"
    mutants = sum(count.values())
    print(f"{label:<28}{mutants:>8}{checked:>8}{detected:>8}{count['equivalent']:>8}{rate:>8}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1, help="parallel workers (default 1)")
    parser.add_argument("--report-only", action="store_true", help="summarise the last run")
    parser.add_argument("mutants", nargs="*", help='mutant names or globs, e.g. "helpers.stats*"')
    args = parser.parse_args()
    equivalent = equivalent_mutants()
    if not args.report_only:
        run = [*MUTMUT, "run", "--max-children", str(args.jobs), *args.mutants]
        log = ROOT / "mutants" / "run.log"  # mutmut's progress line, redrawn thousands of times
        log.parent.mkdir(exist_ok=True)
        with log.open("w") as out:
            code = subprocess.run(run, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode
        if code:
            tail = log.read_text()[-3000:]
            raise SystemExit(f"{tail}\nmutmut run failed ({code}): {' '.join(run)}; log: {log}")
    total = report(verdicts(), equivalent)
    print(
        "\nrate: killed (or timed out) / checked, equivalent mutants left out; "
        f"{total['not checked']} mutant(s) not checked yet (run make mutants again)."
    )


if __name__ == "__main__":
    main()
