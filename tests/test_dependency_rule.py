"""The apps' dependency rule (README, "Layout"): a module may import its own app and the apps of
lower layers, never an app of its own layer or of a higher one. Every import counts, those inside
functions too; references by name that Django resolves at run time ("app.Model" strings,
`apps.get_model`, settings) are not imports and are not checked."""

import ast
from pathlib import Path

import learntrace

PACKAGE = Path(learntrace.__file__).parent

# Lowest first. Within a layer, apps do not import each other.
LAYERS = [
    {"env"},  # reading the environment: no Django, no app
    {"core"},  # audit trail, encryption, files, spreadsheets, months, CSP: no domain
    {"org"},  # departments, employees, roles, and who may see what (access.py)
    {"catalog", "evidence"},  # courses; seals, which name the fact tables only by label
    {"records", "exams"},  # the learning facts; exams, their question banks, sittings and results
    {"creditrules"},  # yearly credit rule sets, judging a year's credits from the facts
    {"plans"},  # plans, periods, assignments and progress
    {"tracking"},  # facts from players, with the attention checks a course or a plan sets
    {"checkin", "compliance"},  # meetings for a plan's audience; standings and consequences per period
    {"trainingfile"},  # a person's whole history, read by the pages and the API
    # what reads everything below; webhooks: events of records, checkin and compliance sent out
    {"notify", "reports", "api", "home", "webhooks"},
    {"health", "certificates"},  # probes and metrics; certificates earned by exams and plans (reminded via notify)
    {"accounts", "declarations"},  # sign-in; credits earned elsewhere, approved in two steps (both notify)
    {"platforms", "sso"},  # sign-in with DingTalk, WeCom and Feishu; with OpenID Connect and CAS; on top of accounts
    # the organisation synced from a platform's contacts (through its HTTP client) or LDAP; online meetings'
    # attendance from the platforms' participant lists and APIs (through the same client), credited by check-in
    {"directory", "onlineattendance"},
    {"demo"},  # builds a whole demo organisation through every app
]
# The project's own modules wire everything together: they may import any app and each other,
# and no app imports them.
PROJECT = {"settings", "settings_test", "urls", "wsgi", "cli", "__main__"}
LAYER_OF = {app: number for number, apps in enumerate(LAYERS) for app in apps} | dict.fromkeys(PROJECT, len(LAYERS))

# Imports that break the rule and are left, each with the reason (none today).
EXCEPTIONS: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, name: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in a module, at any depth of the tree."""
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module == "learntrace":  # `from learntrace import reports` imports the app
                found += [(node.lineno, f"learntrace.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, module))
    return found


def app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "learntrace" and len(parts) > 1 else None


def violations(source: str, name: str, is_package: bool = False) -> list[str]:
    own = app_of(name)
    found = []
    for line, module in imported_modules(source, name, is_package):
        target = app_of(module)
        if target is None or target == own or (name, target) in EXCEPTIONS:
            continue
        if own not in PROJECT and LAYER_OF[target] >= LAYER_OF[own]:
            found.append(f"{name}:{line} imports {module} ({own} may not import {target})")
    return found


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, module_name(path)


def test_every_app_has_a_place_in_the_rule():
    apps = {app_of(name) for _path, name in modules()} - {None}
    assert apps - set(LAYER_OF) == set()


def test_no_module_imports_an_app_of_its_own_or_a_higher_layer():
    found = []
    for path, name in modules():
        found += violations(path.read_text(encoding="utf-8"), name, path.name == "__init__.py")
    assert found == []


def test_the_exceptions_are_still_needed():
    used = set()
    for path, name in modules():
        for _line, module in imported_modules(path.read_text(encoding="utf-8"), name, path.name == "__init__.py"):
            if (name, app_of(module)) in EXCEPTIONS:
                used.add((name, app_of(module)))
    assert used == EXCEPTIONS


def test_an_import_inside_a_function_counts():
    source = "def training_file():\n    from learntrace.plans.selectors import progress_for\n"
    assert violations(source, "learntrace.records.selectors") == [
        "learntrace.records.selectors:2 imports learntrace.plans.selectors (records may not import plans)"]


def test_a_relative_import_and_an_import_of_the_package_count():
    assert violations("from ..compliance import selectors\n", "learntrace.org.views") == [
        "learntrace.org.views:1 imports learntrace.compliance (org may not import compliance)"]
    assert violations("from learntrace import checkin\n", "learntrace.catalog.views") == [
        "learntrace.catalog.views:1 imports learntrace.checkin (catalog may not import checkin)"]
    assert violations("import learntrace.demo\n", "learntrace.core.management.commands.demo") == [
        "learntrace.core.management.commands.demo:1 imports learntrace.demo (core may not import demo)"]


def test_apps_of_one_layer_do_not_import_each_other():
    assert violations("from learntrace.reports.selectors import Scope\n", "learntrace.api.v1.reports") == [
        "learntrace.api.v1.reports:1 imports learntrace.reports.selectors (api may not import reports)"]


def test_no_app_imports_the_project_modules():
    assert violations("from learntrace import settings\n", "learntrace.accounts.ldap") == [
        "learntrace.accounts.ldap:1 imports learntrace.settings (accounts may not import settings)"]


def test_importing_downwards_and_within_the_app_is_allowed():
    source = "from learntrace.org.access import roles_of\nfrom . import selectors\nimport django\n"
    assert violations(source, "learntrace.reports.views") == []
