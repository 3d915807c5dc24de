"""Mutation testing of the core modules with cosmic-ray: `make mutate` (all) or `make mutate MODULE=merkle`.

Each mutant (one small deliberate bug) is written into the source file, that module's own tests
run against it in a fresh process with a timeout, and the file is restored. A mutant the tests
do not notice "survives". Sessions are kept in .mutation/ (NAME.sqlite, resumable: running again
goes on where it stopped; MUTATE_FRESH=1 starts over). docs/testing.md has the latest scores.

One mutant at a time (the `local` distributor): the machines are shared. Set DATABASE_URL to run
the tests on PostgreSQL.

On SQLite the test database is migrated once per run into .mutation/template.sqlite3, and each
mutant's tests start from a copy of it (`--reuse-db`): migrating takes most of a test process's
start-up, and a copy keeps every mutant's database as fresh as a new one.

A mutant runs only the tests that run the lines it changed. Before the mutants, the module's tests
run once under coverage with one context per test (.mutation/NAME.lines.json: line -> tests, made
again when the module or a test file is newer); each mutant's command compares the file on disk with
the untouched copy kept beside it to find the changed lines. A changed line of a function's header
(decorator, default, `*`) runs the tests that run the function's body; another line run at import
time, or one the map does not know, runs all the module's tests: selecting can only skip tests that
cannot see the mutant."""

import ast
import difflib
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
    "effective": ("records/effective.py", [LEAN, "tests/test_effective_facts.py", "tests/test_credited_hours.py",
                                           "tests/test_corrections.py", "tests/test_plans.py"], 240),
    "progress": ("plans/progress.py", [LEAN, "tests/test_plans.py", "tests/test_effective_facts.py",
                                       "tests/test_corrections.py"], 240),
    "rollup": ("compliance/rollup.py", [LEAN, "tests/test_rollup.py", "tests/test_compliance.py"], 240),
    # The rules are also walked by the incremental judging, the late joiners, the sums per department,
    # the exam and credit plans, the reminders and the period.judged webhook (who changed).
    "compliance": ("compliance/services.py", [LEAN, "tests/test_compliance_exact.py", "tests/test_compliance.py",
                                              "tests/test_compliance_incremental.py", "tests/test_joiners.py",
                                              "tests/test_rollup.py", "tests/test_exam_plans.py",
                                              "tests/test_credit_rules.py", "tests/test_notify_reminders.py",
                                              "tests/test_webhooks.py"], 240),
}

# One plausible slip per place, as a reviewer would miss it: an operator turned into its neighbour
# (+/-, * and /, < and <=, == and !=, and/or), a constant off by one, a condition negated, a loop
# skipped, break/continue swapped, True/False swapped, a decorator or an exception handler lost.
# Turning `+` into `<<` or `<` into `is` adds mutants that any test kills and says nothing more.
# cosmic-ray names an operator FROM_TO (`Lt_LtE`), and a deleted unary operator `Delete_FROM`; each kept
# name is matched whole (`Gt_Lt` must not keep `Gt_LtE`).
EXCLUDED_OPERATORS = [
    r"core/ReplaceBinaryOperator_(?!(?:Add_Sub|Sub_Add|Mul_Div|Div_Mul|FloorDiv_Div|Div_FloorDiv|Mod_FloorDiv)$)",
    r"core/ReplaceComparisonOperator_(?!(?:Lt_LtE|LtE_Lt|Gt_GtE|GtE_Gt|Eq_NotEq|NotEq_Eq|Is_IsNot|IsNot_Is"
    r"|In_NotIn|NotIn_In|Lt_Gt|Gt_Lt)$)",
    r"core/ReplaceUnaryOperator_(?!(?:Delete_USub|Delete_Not)$)",
]


def only() -> str:
    """MUTATE_ONLY=Delete_Not|Delete_USub: only those operators, in a session of their own (NAME.only.sqlite),
    e.g. to run the mutants of operators added to the list without running the others again."""
    return os.environ.get("MUTATE_ONLY", "")


def session_of(name: str) -> Path:
    return SESSIONS / (f"{name}.only.sqlite" if only() else f"{name}.sqlite")


def config(name: str) -> Path:
    source, _, timeout = MODULES[name]
    path = SESSIONS / f"{name}.toml"
    patterns = [*EXCLUDED_OPERATORS, *([rf"core/(?!\w*(?:{only()})$)"] if only() else [])]
    excluded = ", ".join(json.dumps(pattern) for pattern in patterns)
    path.write_text(
        "[cosmic-ray]\n"
        f'module-path = "src/learntrace/{source}"\n'
        f"timeout = {float(timeout)}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(test_command(name))}\n"
        '[cosmic-ray.distributor]\nname = "local"\n'
        f"[cosmic-ray.filters.operators-filter]\nexclude-operators = [{excluded}]\n"
    )
    return path


def on_sqlite() -> bool:
    return not os.environ.get("DATABASE_URL", "").startswith("postgres")


def test_command(name: str) -> str:
    return f"{BIN / 'python'} {Path(__file__).resolve()} --mutant {name}"


def pytest_args(name: str, tests: list[str]) -> list[str]:
    """The arguments of one test run of the module: its options, then `tests` (files or test ids)."""
    options = [option for option in MODULES[name][1] if option.startswith("-")]
    args = [*PYTEST.split(), *" ".join(options).split()]
    if PLAIN not in options and on_sqlite():
        args.append("--reuse-db")
    return [*args, *tests]


def test_files(name: str) -> list[str]:
    return [item for item in MODULES[name][1] if not item.startswith("-")]


def pristine(name: str) -> Path:
    return SESSIONS / f"{name}.pristine.py"


def line_map(name: str) -> Path:
    """Which tests run each line of the module, from one coverage run of its tests (kept until the
    module, a test file or the migrations change)."""
    source = ROOT / "src" / "learntrace" / MODULES[name][0]
    path = SESSIONS / f"{name}.lines.json"
    inputs = [source, *(ROOT / test for test in test_files(name)), *(ROOT / "tests").glob("conftest.py")]
    if path.exists() and path.stat().st_mtime > max(item.stat().st_mtime for item in inputs):
        return path
    data = SESSIONS / f"{name}.coverage"
    args = [arg for arg in pytest_args(name, test_files(name)) if arg != "-x"]
    args = [*args, f"--cov={source.parent}", "--cov-context=test", "--cov-report="]
    code = run_tests(args, env={"COVERAGE_FILE": str(data)})
    if code != 0:
        raise SystemExit(f"{name}: the module's tests fail without any mutant (exit {code}); fix them first")
    from coverage import CoverageData

    covered = CoverageData(basename=str(data))
    covered.read()
    lines: dict[int, set[str]] = {}
    for measured in covered.measured_files():
        if Path(measured).resolve() != source.resolve():
            continue
        for line, contexts in covered.contexts_by_lineno(measured).items():
            # pytest-cov names a test's phases "id|setup", "id|run", "id|teardown"; "" is import time.
            lines[line] = {context.rsplit("|", 1)[0] if context else "" for context in contexts}
    path.write_text(json.dumps({str(line): sorted(tests) for line, tests in lines.items()}))
    data.unlink(missing_ok=True)
    return path


def changed_lines(name: str) -> set[int]:
    """The lines of the untouched module that the mutant on disk changed (1-based)."""
    before = pristine(name).read_text().splitlines()
    after = (ROOT / "src" / "learntrace" / MODULES[name][0]).read_text().splitlines()
    changed: set[int] = set()
    for tag, first, last, _, _ in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if tag != "equal":
            changed.update(range(first + 1, max(last, first + 1) + 1))
    return changed


def function_headers(name: str) -> dict[int, range]:
    """Each line of a function's header (its decorators, its `def` and its arguments) in the untouched
    module -> the lines of that function's body."""
    headers: dict[int, range] = {}
    for node in ast.walk(ast.parse(pristine(name).read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
            body = range(node.body[0].lineno, (node.end_lineno or node.body[-1].lineno) + 1)
            headers.update((line, body) for line in range(first, node.body[0].lineno))
    return headers


def selected_tests(name: str) -> list[str]:
    """The tests that run a changed line, the exact tests' files first. A changed line of a function's
    header (a decorator, a default, `*`) runs at import time, but only a call of the function can show
    the change: the tests that run its body. Every test of the module when another changed line runs at
    import time or is not in the map."""
    lines = json.loads((SESSIONS / f"{name}.lines.json").read_text())
    files = test_files(name)
    headers = function_headers(name)
    chosen: set[str] = set()
    for line in changed_lines(name):
        tests = lines.get(str(line))
        if (tests is None or "" in tests) and line in headers:
            tests = sorted({test for body in headers[line] for test in lines.get(str(body), [])} - {""}) or None
        if tests is None or "" in tests:
            return files
        chosen.update(tests)
    if not chosen:
        return files
    return sorted(chosen, key=lambda test: (files.index(test.split("::")[0]) if test.split("::")[0] in files
                                            else len(files), test))


def mutant(name: str) -> int:
    """cosmic-ray's test command for one mutant of `name`."""
    args = pytest_args(name, selected_tests(name))
    return run_tests([*args[:2], "-p", "no:pytest_cov", *args[2:]])  # after "-m pytest"


def run_tests(args: list[str], env: dict | None = None) -> int:
    """pytest with `args`; on SQLite (Django tests) in a fresh data folder holding a copy of the template."""
    env = {**os.environ, **(env or {})}
    if not on_sqlite() or "--noconftest" in args:
        return subprocess.run([BIN / "python", *args], cwd=ROOT, env=env).returncode
    with tempfile.TemporaryDirectory(prefix="learntrace-mutant-") as data:
        shutil.copyfile(TEMPLATE, Path(data) / "test.sqlite3")
        return subprocess.run([BIN / "python", *args], cwd=ROOT, env={**env, "DATA_DIR": data}).returncode


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


def run(name: str) -> dict:
    toml, session = config(name), session_of(name)
    if on_sqlite() and PLAIN not in MODULES[name][1]:
        migrate_template()
    shutil.copyfile(ROOT / "src" / "learntrace" / MODULES[name][0], pristine(name))
    line_map(name)
    # The mutants' own command on the untouched module must pass: a command that fails by itself
    # would count every mutant as caught.
    if mutant(name) != 0:
        raise SystemExit(f"{name}: the mutants' test command fails on the untouched module")
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
    if sys.argv[1:2] == ["--mutant"]:
        sys.exit(mutant(sys.argv[2]))
    sys.exit(main(sys.argv[1:]))
