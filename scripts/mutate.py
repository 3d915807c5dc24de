"""Mutation testing of the core modules with cosmic-ray: `make mutate` (all) or `make mutate MODULE=merkle`.

Each mutant (one small deliberate bug) is written into the source file, that module's own tests
run against it in a fresh process with a timeout, and the file is restored. A mutant the tests
do not notice "survives". Sessions are kept in .mutation/ (NAME.sqlite, resumable: running again
goes on where it stopped; MUTATE_FRESH=1 starts over). docs/testing.md has the latest scores.

One mutant at a time (the `local` distributor): the machines are shared. Set DATABASE_URL to run
the tests on PostgreSQL."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
SESSIONS = ROOT / ".mutation"
PYTEST = f"{BIN / 'python'} -m pytest -p no:xdist -p no:cacheprovider -x -q"
# Tests of plain functions need neither Django nor the shared fixtures: half the start-up time per mutant.
PLAIN = "-p no:django -p no:schemathesis -p no:anyio --noconftest"

# module name: (source file, the tests that own it, seconds a mutant may run before it counts as caught)
MODULES = {
    "intervals": ("tracking/intervals.py", [PLAIN, "tests/test_intervals.py"], 60),
    "tracking": ("tracking/services.py", ["tests/test_tracking_exact.py", "tests/test_tracking.py"], 180),
    "checkin": ("checkin/services.py", ["tests/test_checkin_exact.py", "tests/test_checkin.py"], 180),
    "typed_codes": ("checkin/typed_codes.py", ["tests/test_checkin.py"], 180),
    "merkle": ("evidence/merkle.py", [PLAIN, "tests/test_canonical.py"], 60),
    "canonical": ("evidence/canonical.py", [PLAIN, "tests/test_canonical.py"], 60),
    "records": ("records/services.py", ["tests/test_corrections.py", "tests/test_tracking_exact.py",
                                        "tests/test_checkin_exact.py", "tests/test_plans.py"], 300),
    "compliance": ("compliance/services.py", ["tests/test_compliance.py"], 240),
}

# One plausible slip per place, as a reviewer would miss it: an operator turned into its neighbour
# (+/-, * and /, < and <=, == and !=, and/or), a constant off by one, a condition negated, a loop
# skipped, break/continue swapped, True/False swapped, a decorator or an exception handler lost.
# Turning `+` into `<<` or `<` into `is` adds mutants that any test kills and says nothing more.
EXCLUDED_OPERATORS = [
    r"core/ReplaceBinaryOperator_(?!Add_Sub|Sub_Add|Mul_Div|Div_Mul|FloorDiv_Div|Div_FloorDiv|Mod_FloorDiv)",
    r"core/ReplaceComparisonOperator_(?!Lt_LtE|LtE_Lt|Gt_GtE|GtE_Gt|Eq_NotEq|NotEq_Eq|Is_IsNot|IsNot_Is"
    r"|In_NotIn|NotIn_In|Lt_Gt|Gt_Lt)",
    r"core/ReplaceUnaryOperator_(?!USub_Delete|Not_Delete)",
]


def config(name: str) -> Path:
    source, tests, timeout = MODULES[name]
    path = SESSIONS / f"{name}.toml"
    excluded = ", ".join(json.dumps(pattern) for pattern in EXCLUDED_OPERATORS)
    path.write_text(
        "[cosmic-ray]\n"
        f'module-path = "src/learntrace/{source}"\n'
        f"timeout = {float(timeout)}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(PYTEST + ' ' + ' '.join(tests))}\n"
        '[cosmic-ray.distributor]\nname = "local"\n'
        f"[cosmic-ray.filters.operators-filter]\nexclude-operators = [{excluded}]\n"
    )
    return path


def run(name: str) -> dict:
    toml, session = config(name), SESSIONS / f"{name}.sqlite"
    if os.environ.get("MUTATE_FRESH") or not session.exists():
        subprocess.run([BIN / "cosmic-ray", "init", toml, session, "--force"], cwd=ROOT, check=True)
        subprocess.run([BIN / "cr-filter-operators", session, toml], cwd=ROOT, check=True)
    subprocess.run([BIN / "cosmic-ray", "exec", toml, session], cwd=ROOT, check=True)
    return summary(name, session)


def summary(name: str, session: Path) -> dict:
    dump = subprocess.run([BIN / "cosmic-ray", "dump", session], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout
    mutants, survivors = 0, []
    for line in dump.splitlines():
        item, result = json.loads(line)
        if result is None or result.get("worker_outcome") == "skipped":
            continue
        mutants += 1
        if result.get("test_outcome") == "survived":
            mutation = item["mutations"][0]
            survivors.append(f"{mutation['module_path']}:{mutation['start_pos'][0]} {mutation['operator_name']} "
                             f"#{mutation['occurrence']} ({item['job_id']})")
    caught = mutants - len(survivors)
    return {"module": name, "mutants": mutants, "caught": caught, "survivors": survivors}


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in MODULES]
    if unknown:
        print(f"unknown module(s): {', '.join(unknown)}; known: {', '.join(MODULES)}", file=sys.stderr)
        return 2
    SESSIONS.mkdir(exist_ok=True)
    # The tests import the files being mutated, also in a copy of the tree next to an editable install.
    os.environ["PYTHONPATH"] = str(ROOT / "src")
    results = [run(name) for name in names or MODULES]
    for result in results:
        score = 100 * result["caught"] / result["mutants"] if result["mutants"] else 100
        print(f"{result['module']}: {result['caught']} of {result['mutants']} caught ({score:.1f} %)")
        for survivor in result["survivors"]:
            print(f"  survived: {survivor}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
