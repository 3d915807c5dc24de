"""Mutation testing of the core modules with cosmic-ray: `make mutate` (all) or `make mutate MODULE=merkle`.

Each mutant (one small deliberate bug) is written into the source file, that module's own tests
run against it in a fresh process with a timeout, and the file is restored. A mutant the tests
do not notice "survives". Sessions are kept in .mutation/ (NAME.sqlite, resumable: running again
goes on where it stopped; MUTATE_FRESH=1 starts over). docs/testing.md has the latest scores.

One mutant at a time (the `local` distributor): the machines are shared. Set DATABASE_URL to run
the tests on PostgreSQL.

On SQLite the test database is migrated once per run into .mutation/template.sqlite3, and each
mutant's tests start from a copy of it (`--reuse-db`): migrating takes most of a test process's
start-up, and a copy keeps every mutant's database as fresh as a new one."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
SESSIONS = ROOT / ".mutation"
TEMPLATE = SESSIONS / "template.sqlite3"
PYTEST = "-m pytest -p no:xdist -p no:cacheprovider -x -q"
# Tests of plain functions need neither Django nor the shared fixtures: half the start-up time per mutant.
PLAIN = "-p no:django -p no:schemathesis -p no:anyio --noconftest"

# Plugins that the Django modules' tests do not use (test_tracking does use hypothesis): loading
# them is a third of a test process's start-up.
LEAN = "-p no:schemathesis -p no:anyio -p no:hypothesispytest"

# module name: (source file, the tests that own it, seconds a mutant may run before it counts as caught).
# The tests that fail fastest on a mutant come first: with -x the run stops at the first failure.
MODULES = {
    "intervals": ("tracking/intervals.py", [PLAIN, "tests/test_intervals.py"], 60),
    # The attention checks (idle prompts, questions during a video) live in tracking's services too.
    "tracking": ("tracking/services.py", ["tests/test_tracking_exact.py", "tests/test_tracking.py",
                                          "tests/test_attention.py"], 180),
    "checkin": ("checkin/services.py", [LEAN, "tests/test_checkin_exact.py", "tests/test_checkin.py"], 180),
    "typed_codes": ("checkin/typed_codes.py", [LEAN, "tests/test_typed_codes.py", "tests/test_checkin.py"], 180),
    "merkle": ("evidence/merkle.py", [PLAIN, "tests/test_canonical.py"], 60),
    "canonical": ("evidence/canonical.py", [PLAIN, "tests/test_canonical.py"], 60),
    "records": ("records/services.py", [LEAN, "tests/test_records_exact.py", "tests/test_corrections.py",
                                        "tests/test_tracking_exact.py", "tests/test_checkin_exact.py",
                                        "tests/test_plans.py"], 300),
    "effective": ("records/effective.py", [LEAN, "tests/test_effective_facts.py", "tests/test_corrections.py",
                                           "tests/test_plans.py"], 240),
    "progress": ("plans/progress.py", [LEAN, "tests/test_plans.py", "tests/test_effective_facts.py",
                                       "tests/test_corrections.py"], 240),
    "rollup": ("compliance/rollup.py", [LEAN, "tests/test_rollup.py", "tests/test_compliance.py"], 240),
    "compliance": ("compliance/services.py", [LEAN, "tests/test_compliance.py"], 240),
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
        f"test-command = {json.dumps(test_command(tests))}\n"
        '[cosmic-ray.distributor]\nname = "local"\n'
        f"[cosmic-ray.filters.operators-filter]\nexclude-operators = [{excluded}]\n"
    )
    return path


def on_sqlite() -> bool:
    return not os.environ.get("DATABASE_URL", "").startswith("postgres")


def test_command(tests: list[str]) -> str:
    python = BIN / "python"
    if PLAIN in tests or not on_sqlite():
        return f"{python} {PYTEST} {' '.join(tests)}"
    return f"{python} {Path(__file__).resolve()} --from-template {PYTEST} --reuse-db {' '.join(tests)}"


def migrate_template() -> None:
    """The test database with every migration applied, as pytest-django would create it (again when
    a migration is newer than it)."""
    migrations = max(path.stat().st_mtime for path in (ROOT / "src" / "learntrace").glob("*/migrations/*.py"))
    if TEMPLATE.exists() and TEMPLATE.stat().st_mtime > migrations:
        return
    TEMPLATE.unlink(missing_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "learntrace.settings_test", "DATABASE_URL": f"sqlite:///{TEMPLATE}"}
    with tempfile.TemporaryDirectory(prefix="learntrace-mutate-") as data:
        subprocess.run([BIN / "learntrace", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True,
                       env={**env, "DATA_DIR": data})
    with sqlite3.connect(TEMPLATE) as database:  # fold the write-ahead log into the file that is copied
        database.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def from_template(pytest_args: list[str]) -> int:
    """Run pytest (one mutant's tests) in a fresh data folder holding a copy of the migrated template."""
    with tempfile.TemporaryDirectory(prefix="learntrace-mutant-") as data:
        shutil.copyfile(TEMPLATE, Path(data) / "test.sqlite3")
        return subprocess.run([BIN / "python", *pytest_args], cwd=ROOT, env={**os.environ, "DATA_DIR": data}).returncode


def run(name: str) -> dict:
    toml, session = config(name), SESSIONS / f"{name}.sqlite"
    if on_sqlite() and PLAIN not in MODULES[name][1]:
        migrate_template()
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
    if sys.argv[1:2] == ["--from-template"]:
        sys.exit(from_template(sys.argv[2:]))
    sys.exit(main(sys.argv[1:]))
