"""Shared fixtures: a small organisation with one person for every role.

    Hospital (root)
    ├── Internal medicine (A)          head: `head`
    │   └── Cardiology (A1)            learner: `learner`
    └── Surgery (B)                    outsider: `outsider`
    Training admin `admin` and auditor `auditor` sit in HR under the root.
"""

import os
from decimal import Decimal
from types import SimpleNamespace

import pytest

from learntrace.catalog.models import Category, Course, CourseKind, CreditClass
from learntrace.org.models import Department, Employee, Level, Role, RoleGrant
from learntrace.org.services import department_save

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

PASSWORD = "correct horse battery"


def make_department(code, name, parent=None):
    return department_save(actor=None, department=Department(code=code, name=name, parent=parent))


def make_employee(number, name, department, *, level=Level.STAFF, username=None, **fields):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username=username or number, password=PASSWORD)
    return Employee.objects.create(employee_no=number, name=name, department=department, level=level,
                                   user=user, **fields)


@pytest.fixture
def org(db):
    root = make_department("HOSP", "Hospital")
    a = make_department("IM", "Internal medicine", root)
    a1 = make_department("IM-CARD", "Cardiology", a)
    b = make_department("SURG", "Surgery", root)
    hr = make_department("HR", "Human resources", root)
    head = make_employee("H001", "Head of medicine", a, level=Level.DEPARTMENT_HEAD, username="head")
    learner = make_employee("E001", "Learner in cardiology", a1, level=Level.MANAGER, username="learner")
    outsider = make_employee("E002", "Outsider in surgery", b, username="outsider")
    admin = make_employee("A001", "Training admin", hr, username="admin")
    auditor = make_employee("U001", "Auditor", hr, username="auditor")
    RoleGrant.objects.create(user=head.user, role=Role.DEPARTMENT_HEAD, department=a)
    RoleGrant.objects.create(user=admin.user, role=Role.TRAINING_ADMIN)
    RoleGrant.objects.create(user=auditor.user, role=Role.AUDITOR)
    return SimpleNamespace(root=root, a=a, a1=a1, b=b, hr=hr, head=head, learner=learner,
                           outsider=outsider, admin=admin, auditor=auditor)


@pytest.fixture
def catalog(db):
    """Two categories, two credit classes and three published courses of the hospital scenario."""
    management = Category.objects.create(code="management", name="管理", name_en="Management")
    clinical = Category.objects.create(code="clinical", name="临床", name_en="Clinical")
    cme1 = CreditClass.objects.create(code="cme-1", name="I类学分", name_en="CME class I")
    cme2 = CreditClass.objects.create(code="cme-2", name="II类学分", name_en="CME class II")
    video = Course.objects.create(title="Leading a ward", kind=CourseKind.VIDEO, category=management,
                                  duration_seconds=4 * 3600, credits=Decimal("2"), credit_class=cme1,
                                  is_published=True)
    meeting = Course.objects.create(title="Monthly management meeting", kind=CourseKind.OFFLINE,
                                    category=management, duration_seconds=2 * 3600, credits=Decimal("1"),
                                    credit_class=cme2, is_published=True)
    clinical_video = Course.objects.create(title="Sepsis update", kind=CourseKind.VIDEO, category=clinical,
                                           duration_seconds=3600, credits=Decimal("5"), credit_class=cme1,
                                           is_published=True)
    return SimpleNamespace(management=management, clinical=clinical, cme1=cme1, cme2=cme2, video=video,
                           meeting=meeting, clinical_video=clinical_video)


@pytest.fixture
def client_for(client):
    """`client_for(employee)` logs the test client in as that employee (English pages)."""

    def login(employee, language="en"):
        client.force_login(employee.user)
        client.cookies["django_language"] = language
        return client

    return login


@pytest.fixture(autouse=True)
def no_subscribed_events_cached():
    """The webhooks' cached list of subscribed events outlives a test's rolled-back subscriptions:
    forgotten before each test, so that no test counts the query of another's list."""
    from learntrace.webhooks.events import forget_subscribed_events

    forget_subscribed_events()


@pytest.fixture(autouse=True)
def english_outside_requests():
    """Services called directly by a test speak English; pages choose their own language."""
    from django.utils import translation

    with translation.override("en"):
        yield


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic"]


def pytest_terminal_summary(terminalreporter):
    """Browser tests skipped for want of Chromium are named in the summary, with how to install it:
    a run that looks green but tested no page in a browser must say so."""
    skipped = [report for report in terminalreporter.stats.get("skipped", [])
               if isinstance(report.longrepr, tuple) and CHROMIUM in str(report.longrepr[2])]
    if skipped:
        terminalreporter.write_sep("-", "browser tests skipped", yellow=True)
        terminalreporter.write_line(f"{len(skipped)} browser tests were skipped: {CHROMIUM} is not installed. "
                                    "Install it with `apt-get install chromium` (README, Tests) and run them again.")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright. Without it the browser tests skip, unless
    LEARNTRACE_REQUIRE_BROWSER=1 (as in CI), where a missing browser fails the run."""
    required = os.environ.get("LEARNTRACE_REQUIRE_BROWSER") == "1"
    if not os.path.exists(CHROMIUM):
        if required:
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium) and LEARNTRACE_REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} is not installed (Debian package: chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def new_page(browser):
    """`new_page(phone=False)`: a page in a fresh browser context (its own cookies)."""
    contexts = []

    def make(phone=False):
        options = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True} if phone else {}
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        # Leave each page first, so that its last requests (the player's final beat, a projector's
        # poll) reach the live server before the test database is flushed under them.
        for page in context.pages:
            try:
                page.goto("about:blank", wait_until="load")
                page.wait_for_load_state("networkidle")
            except Exception:  # noqa: BLE001 - a page that already crashed or closed has nothing in flight
                pass
        context.close()
