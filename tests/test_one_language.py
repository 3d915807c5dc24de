"""One language per page: every page of the demo, rendered in Chinese and in English, shows its labels
in that language only. A label left in English on a Chinese page, a Chinese label on an English page,
an admin-defined name shown in both languages at once ("内部学分 / Internal") or a raw code fails."""

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

from learntrace.catalog.models import Category, Course, CourseKind, CreditClass
from learntrace.checkin.models import Meeting
from learntrace.notify.models import Channel, Delivery, ReminderSchedule
from learntrace.org.models import Department, Employee, Level, Role
from learntrace.plans.models import Assignment, LearningPlan
from test_every_url import PARAMETERS
from test_translations import PO, read_po

CJK = re.compile(r"[\u3400-\u9fff]")
SKIPPED_ELEMENTS = {"script", "style", "code", "pre", "textarea", "svg"}
ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
# Pages that are not pages a person reads in a language: sign-in redirects, machine endpoints, the admin.
SKIPPED_PREFIXES = ("admin/", "api/v1/", "accounts/platforms/", "accounts/sso/", "directory/events/",
                    "accounts/logout/", "accounts/language/", "tracking/beat/", "checkin/code/", "favicon.ico")


class Texts(HTMLParser):
    """The visible texts and labelling attributes of a page, outside code, scripts and any element
    that says it is in another language (the language picker's "English", "简体中文")."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []

    def skipping(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        skip = (tag in SKIPPED_ELEMENTS or (tag != "html" and "lang" in attributes)
                or "user-data" in (attributes.get("class") or ""))
        if not self.skipping() and not skip:
            self.texts += [attributes[name].strip() for name in ATTRIBUTES if attributes.get(name)]
        if tag not in {"br", "img", "input", "meta", "link", "hr", "wbr", "source", "col"}:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not self.skipping() and data.strip():
            self.texts.append(" ".join(data.split()))


def texts_of(html: str) -> list[str]:
    parser = Texts()
    parser.feed(html)
    return parser.texts


def page_paths(ids: dict) -> list[str]:
    """Every GET page of the site, with the demo's first object for each id in its path."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and not route.startswith(SKIPPED_PREFIXES):
                names = re.findall(r"<(\w+):(\w+)>", route)
                if all(converter == "int" and name in ids for converter, name in names):
                    for _converter, name in names:
                        route = route.replace(f"<int:{name}>", str(ids[name]))
                    found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return found


@pytest.fixture
def demo(db):
    call_command("demo", verbosity=0)
    video = Course.objects.filter(kind=CourseKind.VIDEO).order_by("pk").first()
    employee = Employee.objects.get(user__username="head")
    first = {
        "employee_id": employee, "course_id": video, "plan_id": LearningPlan.objects.order_by("pk").first(),
        "meeting_id": Meeting.objects.order_by("pk").first(),
        "department_id": Department.objects.order_by("pk").first(),
        "category_id": Category.objects.order_by("pk").first(),
        "credit_class_id": CreditClass.objects.order_by("pk").first(),
        "assignment_id": Assignment.objects.filter(employee=employee).order_by("pk").first(),
        "channel_id": Channel.objects.order_by("pk").first(),
        "schedule_id": ReminderSchedule.objects.order_by("pk").first(),
        "delivery_id": Delivery.objects.order_by("pk").first(),
    }
    ids = {name: row.pk for name, row in first.items() if row is not None}
    for parameter, (label, _whose) in PARAMETERS.items():  # every other page with an id: the demo's first row
        row = apps.get_model(label).objects.order_by("pk").first()
        if parameter not in ids and row is not None:
            ids[parameter] = row.pk
    return ids


def typed_data() -> set[str]:
    """What people typed (names of channels, departments, people, courses, plans, meetings): shown as written."""
    typed: set[str] = set()
    for model, field in ((Channel, "name"), (Department, "name"), (Employee, "name"), (Employee, "position"),
                         (Course, "title"), (LearningPlan, "name"), (Meeting, "title")):
        typed |= set(model.objects.values_list(field, flat=True))
    return typed


def mixed_labels(texts: list[str], language: str, catalogue: dict, names: list[tuple[str, str]],
                 data: frozenset = frozenset()) -> list[str]:
    """The texts of a page in `language` that are labels in the other language (`data`: typed texts)."""
    found = []
    english_labels = {msgid for msgid, strings in catalogue.items()
                      if "\x04" not in msgid and strings and strings[0] != msgid and not CJK.search(msgid)
                      and re.search(r"[A-Za-z]{2}", msgid) and "%" not in msgid}
    chinese_labels = {strings[0] for strings in catalogue.values() if strings and CJK.search(strings[0])
                      and "%" not in strings[0]}
    codes = {value for value, _label in Role.choices} | {value for value, _label in Level.choices}
    for text in texts:
        if text in data:
            continue
        if language == "zh-hans":
            if text in english_labels or text in codes:
                found.append(text)
            found += [f"{name_en} in {text!r}" for name, name_en in names
                      if name_en and (text == name_en or (name in text and name_en in text))]
        else:
            if text in chinese_labels or text in codes:
                found.append(text)
            found += [f"{name} in {text!r}" for name, name_en in names
                      if name_en and (text == name or (name in text and name_en in text))]
    return found


def test_every_page_speaks_one_language(demo, client):
    catalogue = read_po(PO)
    names = [(item.name, item.name_en) for model in (Category, CreditClass) for item in model.objects.all()]
    data = frozenset(typed_data())
    paths = page_paths(demo)
    people = {name: get_user_model().objects.get(username=name) for name in ("hr", "head", "manager")}
    checked, problems = set(), {}
    for who, user in people.items():
        client.force_login(user)
        for language in ("zh-hans", "en"):
            client.cookies["django_language"] = language
            for path in paths:
                response = client.get(path)
                if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
                    continue
                checked.add(path)
                found = mixed_labels(texts_of(response.content.decode()), language, catalogue, names, data)
                if found:
                    problems[f"{who} {language} {path}"] = sorted(set(found))
    assert problems == {}, "\n".join(f"{page}: {found}" for page, found in problems.items())
    assert len(checked) >= 60, sorted(checked)  # the walk reached the site, not only a few pages


def test_the_parser_finds_a_mixed_label():
    """The check itself: an English label on a Chinese page and both names of a category are found."""
    catalogue = read_po(PO)
    html = ('<html lang="zh-hans"><p>内部学分 / Internal</p><p><span>Audit trail</span></p><code>is_active</code>'
            '<option lang="en">English</option><p class="user-data">Audit trail</p><p>department_head</p></html>')
    assert mixed_labels(texts_of(html), "zh-hans", catalogue, [("内部学分", "Internal")]) == [
        "Internal in '内部学分 / Internal'", "Audit trail", "department_head"]
    assert mixed_labels(texts_of("<th>审计日志</th><td>内部学分</td>"), "en", catalogue,
                        [("内部学分", "Internal")]) == ["审计日志", "内部学分 in '内部学分'"]
