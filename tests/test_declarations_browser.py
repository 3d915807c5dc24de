"""In a real browser, in both languages: a learner on a phone declares conference credits with a
photo of the certificate; the department head and then the education office approve them; the
credits count on the learner's page of the year. Every page passes axe-core's WCAG 2.1 AA checks."""


import pytest
import segno
from playwright.sync_api import expect

from accessibility import axe_violations
from learntrace.core.months import today
from learntrace.creditrules.presets import create_from_preset
from learntrace.declarations.models import Declaration
from test_browser import log_in

STATUS = {
    "en": {"head": "Waiting for the department head", "office": "Waiting for the education office",
           "approved": "Approved", "submit": "Submit", "approve": "Approve"},
    "zh-hans": {"head": "待部门负责人审核", "office": "待科教科审核", "approved": "已通过", "submit": "提交",
                "approve": "通过"},
}


def accessible(page) -> None:
    assert axe_violations(page) == []


def photo(path) -> str:
    segno.make("certificate 2026-03-01-001").save(str(path), kind="png", scale=6)
    return str(path)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_declaration_with_a_photo_is_approved_in_two_steps(live_server, org, catalog, new_page, tmp_path,
                                                             language):
    year = today().year
    create_from_preset(actor=None, code="national_2024", from_year=year)
    words = STATUS[language]
    learner = new_page(phone=True)
    log_in(learner, live_server.url, "learner", language)
    learner.goto(f"{live_server.url}/credits/declarations/")
    accessible(learner)
    learner.select_option("#id_kind", "conference")
    learner.fill("#id_title", "Provincial cardiology congress")
    learner.fill("#id_project_number", "2026-03-01-001")
    learner.fill("#id_started_on", f"{year}-01-10")
    learner.fill("#id_ended_on", f"{year}-01-12")
    learner.fill("#id_credits", "6")
    learner.fill("#id_hours", "18")
    learner.select_option("#id_credit_class", str(catalog.cme1.pk))
    learner.select_option("#id_category", str(catalog.clinical.pk))
    learner.set_input_files("#id_certificate", photo(tmp_path / "IMG_0001.png"))
    learner.get_by_role("button", name=words["submit"], exact=True).click()
    expect(learner.locator("#status")).to_have_text(words["head"])
    expect(learner.locator("img.certificate")).to_be_visible()
    accessible(learner)
    declaration = Declaration.objects.get()

    head = new_page()
    log_in(head, live_server.url, "head", language)
    head.goto(f"{live_server.url}/credits/declarations/review/")
    accessible(head)
    head.locator(f"tr[data-declaration='{declaration.pk}'] a").click()
    expect(head.locator("img.certificate")).to_be_visible()
    accessible(head)
    head.get_by_role("button", name=words["approve"], exact=True).click()
    expect(head.locator("#status")).to_have_text(words["office"])
    expect(head.locator("#decision")).to_have_count(0)

    office = new_page()
    log_in(office, live_server.url, "admin", language)
    office.goto(f"{live_server.url}/credits/declarations/{declaration.pk}/")
    office.get_by_role("button", name=words["approve"], exact=True).click()
    expect(office.locator("#status")).to_have_text(words["approved"])
    assert Declaration.objects.get().fact.credits == 6

    learner.goto(f"{live_server.url}/credits/my/")
    expect(learner.locator("tr[data-key] td.counted")).to_have_text("6")
    accessible(learner)
