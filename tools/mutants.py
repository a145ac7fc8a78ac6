"""make mutants: mutation testing of helpers/ with mutmut, and its kill rate.

    python tools/mutants.py [--jobs N] [--sample N [--seed S]] [MUTANT_GLOB ...]

mutmut (configured in pyproject.toml, [tool.mutmut]) copies helpers/ into mutants/,
makes one small change at a time (a changed operator, number, argument or name) in
every function, and runs the unit tests that cover that function against each; a
mutant that no test notices has survived. Results are kept in mutants/, so a run
that is stopped goes on where it stopped; naming mutants (e.g. "helpers.stats*")
runs only those, again. Every file in helpers/ is covered, whatever is added.

Then it prints the kill rate over the checked mutants that are not listed as
equivalent in tests/mutants_equivalent.txt (a mutant that computes the same thing,
with a one-line reason), per module and in all, and each surviving mutant's diff.

helpers/ has several thousand mutants, and checking them all takes many hours on
a 2-core machine. --sample N checks a uniform random sample of N of them (fixed
by --seed, so a rerun checks the same ones and goes on where it stopped) and
reports the kill rate on the sample with its one-sided 95% Clopper-Pearson lower
bound: the sampled mutants that are not equivalent are a uniform sample of all
the non-equivalent ones, so the bound holds for the kill rate of all of helpers/.
"""

import argparse
import random
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


def prepare():
    """Make every mutant and the map of tests to functions, running none (mutmut has no
    command for this: `run` with a name that matches nothing stops right after)."""
    _, out = _mutmut_run(["helpers.no_such_mutant"])
    if "nothing matches" not in out:
        raise SystemExit(f"{out[-3000:]}\nmutmut could not make the mutants; see mutants/run.log")


def sample(names, size, seed):
    """A uniform random sample of `size` names (all of them if fewer), fixed by seed."""
    names = sorted(names)
    return sorted(random.Random(seed).sample(names, min(size, len(names))))


def lower_bound(killed, checked, confidence=0.95):
    """One-sided Clopper-Pearson lower confidence bound on a kill rate (exact binomial)."""
    from scipy.stats import beta

    return 0.0 if killed == 0 else float(beta.ppf(1 - confidence, killed, checked - killed + 1))


def _mutmut_run(names, jobs=1):
    """mutmut run on these names; its output (a progress line redrawn thousands of times)
    goes to mutants/run.log, which is returned."""
    log = ROOT / "mutants" / "run.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as out:
        run = [*MUTMUT, "run", "--max-children", str(jobs), *names]
        code = subprocess.run(run, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode
    return code, log.read_text()


def module_of(name):
    """helpers.stats from helpers.stats.x_mean__mutmut_1 (or a method's xǁClassǁname__mutmut_1)."""
    return name.rsplit(".", 1)[0]


def changed_lines(name):
    """The -/+ lines of a mutant's diff."""
    out = subprocess.run([*MUTMUT, "show", name], cwd=ROOT, capture_output=True, text=True)
    lines = out.stdout.splitlines()
    return [line for line in lines if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def report(results, equivalent, existing):
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
    stale = sorted(set(equivalent) - set(existing))
    if stale:
        print(f"\n{EQUIVALENT.name} lists mutants that no longer exist: {', '.join(stale)}")
    return total


def _detected_and_checked(count):
    """(killed or timed out, checked) from a Counter of verdicts."""
    detected = sum(count[v] for v in DETECTED)
    return detected, detected + sum(count[v] for v in UNDETECTED)


def _row(label, count):
    detected, checked = _detected_and_checked(count)
    rate = f"{100 * detected / checked:.1f}%" if checked else "-"
    mutants = sum(count.values())
    print(f"{label:<28}{mutants:>8}{checked:>8}{detected:>8}{count['equivalent']:>8}{rate:>8}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1, help="parallel workers (default 1)")
    parser.add_argument("--report-only", action="store_true", help="summarise the last run")
    parser.add_argument("--sample", type=int, help="check a random sample of this many mutants")
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed (default 0)")
    parser.add_argument("mutants", nargs="*", help='mutant names or globs, e.g. "helpers.stats*"')
    args = parser.parse_args()
    equivalent = equivalent_mutants()
    names, chosen = args.mutants, None
    if args.sample is not None:
        if args.sample < 1 or args.mutants:
            raise SystemExit("--sample takes a positive size and no mutant names")
        if not args.report_only:
            prepare()
        before = verdicts()
        chosen = sample(before, args.sample, args.seed)
        names = [name for name in chosen if before[name] == "not checked"]
    if not args.report_only and (names or chosen is None):
        code, out = _mutmut_run(names, args.jobs)
        if code:
            raise SystemExit(f"{out[-3000:]}\nmutmut run failed ({code}); log: mutants/run.log")
    results = existing = verdicts()
    if chosen is not None:
        print(f"\nA uniform random sample of {len(chosen)} of the {len(results)} mutants")
        print(f"of helpers/ (seed {args.seed}).")
        results = {name: results[name] for name in chosen}
    total = report(results, equivalent, existing)
    detected, checked = _detected_and_checked(total)
    print(
        "\nrate: killed (or timed out) / checked, equivalent mutants left out; "
        f"{total['not checked']} mutant(s) not checked yet (run make mutants again)."
    )
    if chosen is not None and checked:
        print(
            f"All of helpers/: kill rate at least {100 * lower_bound(detected, checked):.1f}% "
            f"(one-sided 95% Clopper-Pearson bound from {detected} of {checked} sampled)."
        )


if __name__ == "__main__":
    main()
