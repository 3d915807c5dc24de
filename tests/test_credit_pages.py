"""Credit rule sets and declarations through their pages: who may see and do what, the rule set
form, a person's year, uploads through the form, the certificate served to auditors."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from learntrace.core.models import AuditEntry
from learntrace.creditrules.models import CreditRuleCap, CreditRuleSet, CreditSource
from learntrace.creditrules.presets import create_from_preset
from learntrace.declarations import services
from learntrace.declarations.models import Declaration
from learntrace.plans.models import LearningPlan
from learntrace.records.models import OutsideCredit
from learntrace.records.services import record_completion
from test_declarations import PNG, data, upload

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def rule_set_form(**overrides):
    fields = {"from_year": "2027", "name": "Hospital rules 2027", "basis": "", "min_credits": "25", "min_hours": "0",
              "hours_per_credit": "", "max_credits_per_project": "", "professional_min_share": "",
              "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
              "lines-MAX_NUM_FORMS": "1000", "lines-0-credit_class": "", "lines-0-category": "",
              "lines-0-min_credits": "0", "lines-0-max_credits": "",
              "caps-TOTAL_FORMS": "1", "caps-INITIAL_FORMS": "0", "caps-MIN_NUM_FORMS": "0",
              "caps-MAX_NUM_FORMS": "1000", "caps-0-source": "self_study", "caps-0-max_credits": "8"}
    return fields | overrides


def test_rule_sets_are_edited_by_admins_read_by_auditors_and_hidden_from_others(org, catalog, client_for):
    assert client_for(org.learner).get("/credits/rules/").status_code == 403
    assert client_for(org.head).get("/credits/rules/").status_code == 403
    auditor = client_for(org.auditor)
    assert auditor.get("/credits/rules/").status_code == 200
    assert auditor.post("/credits/rules/", {"preset": "national_2024", "from_year": "2026"}).status_code == 404
    assert auditor.get("/credits/rules/new/").status_code == 403
    assert not CreditRuleSet.objects.exists()

    admin = client_for(org.admin)
    response = admin.post("/credits/rules/", {"preset": "national_2024", "from_year": "2026"})
    national = CreditRuleSet.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/credits/rules/{national.pk}/"
    again = admin.post("/credits/rules/", {"preset": "classes_i_ii", "from_year": "2026"})
    assert again.status_code == 200 and "exists already" in again.content.decode()
    assert admin.post("/credits/rules/", {"preset": "made_up", "from_year": "2026"}).status_code == 200
    assert CreditRuleSet.objects.count() == 1

    response = admin.post("/credits/rules/new/", rule_set_form())
    assert response.status_code == 302
    rules_2027 = CreditRuleSet.objects.get(from_year=2027)
    assert list(rules_2027.caps.values_list("source", "max_credits")) == [(CreditSource.SELF_STUDY, Decimal("8"))]
    assert rules_2027.lines.count() == 0  # the empty line is left out

    bad = admin.post(f"/credits/rules/{rules_2027.pk}/", rule_set_form(
        professional_min_share="3/2", **{"lines-0-min_credits": "5", "lines-0-max_credits": "2"}))
    page = bad.content.decode()
    assert bad.status_code == 200 and "between 0 and 1" in page
    assert "Choose a credit class, a category or both." in page
    rules_2027.refresh_from_db()
    assert rules_2027.professional_min_share == ""
    twice = admin.post(f"/credits/rules/{rules_2027.pk}/", rule_set_form(min_credits="30"))
    assert twice.status_code == 200 and "Give each source one cap only." in twice.content.decode()
    cap = rules_2027.caps.get()
    admin.post(f"/credits/rules/{rules_2027.pk}/", rule_set_form(min_credits="30", **{
        "caps-TOTAL_FORMS": "2", "caps-INITIAL_FORMS": "1", "caps-0-id": str(cap.pk), "caps-0-rule_set":
        str(rules_2027.pk), "caps-1-source": "", "caps-1-max_credits": ""}))
    audit = AuditEntry.objects.filter(object_type="creditruleset").order_by("pk")
    assert list(audit.values_list("action", "changes")) == [
        ("create", {}), ("create", {"from_year": [None, 2027], "name": [None, "Hospital rules 2027"],
                                    "min_credits": [None, "25"]}),
        ("update", {"caps": ["", "Self-study ≤ 8.00"]}), ("update", {"min_credits": ["25.00", "30"]})]
    page = auditor.get("/credits/rules/").content.decode()
    assert "2026 to 2026: National rules of October 2024" in page and "from 2027: Hospital rules 2027" in page


def test_a_persons_year_shows_what_counts_and_what_a_cap_cut(org, catalog, client_for):
    rule_set = create_from_preset(actor=None, code="national_2024", from_year=2026)
    CreditRuleCap.objects.filter(rule_set=rule_set).update(max_credits=Decimal("3"))
    record_completion(employee=org.learner, course=catalog.clinical_video,
                      completed_at=dt.datetime(2026, 4, 1, 9, tzinfo=SHANGHAI), source="manual")
    url = f"/credits/people/{org.learner.pk}/2026/"
    assert client_for(org.outsider).get(url).status_code == 404
    for viewer in (org.learner, org.head, org.auditor):
        response = client_for(viewer).get(url)
        assert response.status_code == 200
    page = response.content.decode()
    assert "3 of 25 credits counted" in page and "capped for its source" in page
    zh = client_for(org.learner, "zh-hans").get(url).content.decode()
    assert "已计入 3 / 25 学分" in zh and "超出该来源上限" in zh
    assert "该年度没有适用的学分规则" in client_for(org.learner, "zh-hans").get(
        f"/credits/people/{org.learner.pk}/2025/").content.decode()
    assert client_for(org.learner).get(f"/credits/people/{org.learner.pk}/1999/").status_code == 404


def declaration_post(catalog, **overrides):
    fields = {"kind": "conference", "title": "Regional sepsis course", "organiser": "", "project_number": "",
              "started_on": "2026-05-10", "ended_on": "2026-05-10", "credits": "2", "hours": "6",
              "credit_class": str(catalog.cme2.pk), "category": str(catalog.clinical.pk)}
    return fields | overrides


def test_declaring_through_the_page_checks_the_file_and_the_dates(org, catalog, client_for):
    learner = client_for(org.learner)
    fake = SimpleUploadedFile("certificate.jpg", b"GIF89a....", content_type="image/jpeg")
    response = learner.post("/credits/declarations/", declaration_post(catalog, certificate=fake))
    assert response.status_code == 200 and "JPEG or PNG" in response.content.decode()
    response = learner.post("/credits/declarations/", declaration_post(
        catalog, ended_on="2026-05-01", certificate=upload()))
    assert response.status_code == 200 and "The end date is before the start date." in response.content.decode()
    assert learner.post("/credits/declarations/", declaration_post(catalog)).status_code == 200  # no file
    assert not Declaration.objects.exists()
    response = learner.post("/credits/declarations/", declaration_post(catalog, certificate=upload()))
    declaration = Declaration.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/credits/declarations/{declaration.pk}/"
    assert declaration.status == Declaration.Status.AWAITING_HEAD and declaration.credits == Decimal("2")


def test_who_sees_a_declaration_its_certificate_and_its_buttons(org, catalog, client_for):
    declaration = services.declare(employee=org.learner, data=data(catalog), certificate=upload())
    url = f"/credits/declarations/{declaration.pk}/"
    assert client_for(org.outsider).get(url).status_code == 404
    assert client_for(org.outsider).get(url + "certificate").status_code == 404
    assert client_for(org.outsider).post(url + "approve/").status_code == 404
    auditor = client_for(org.auditor)
    certificate = auditor.get(url + "certificate")
    assert certificate.status_code == 200 and certificate["Content-Type"] == "image/png"
    assert b"".join(certificate.streaming_content) == PNG
    assert 'id="decision"' not in auditor.get(url).content.decode()
    response = auditor.post(url + "approve/")
    assert response.status_code == 302
    declaration.refresh_from_db()
    assert declaration.status == Declaration.Status.AWAITING_HEAD
    assert "This step is not yours to take." in auditor.get(url).content.decode()

    head = client_for(org.head)
    assert 'id="decision"' in head.get(url).content.decode()
    assert "/credits/declarations/" in head.get("/credits/declarations/review/").content.decode()
    head.post(url + "return/", {"reason": ""})
    declaration.refresh_from_db()
    assert declaration.status == Declaration.Status.AWAITING_HEAD
    head.post(url + "return/", {"reason": "Please add the second page."})
    declaration.refresh_from_db()
    assert declaration.status == Declaration.Status.RETURNED

    assert client_for(org.head).get(url + "edit/").status_code == 404
    learner = client_for(org.learner)
    response = learner.post(url + "edit/", declaration_post(catalog, credits="3"))
    assert response.status_code == 302
    declaration.refresh_from_db()
    assert (declaration.status, declaration.credits, declaration.certificate_type) == (
        Declaration.Status.AWAITING_HEAD, Decimal("3.00"), "image/png")


def test_the_office_enters_a_meeting_through_the_page(org, catalog, client_for):
    assert client_for(org.head).get("/credits/declarations/bulk/").status_code == 403
    admin = client_for(org.admin)
    response = admin.post("/credits/declarations/bulk/", declaration_post(
        catalog, attendees="E001\nE999", certificate=upload()))
    assert response.status_code == 200 and "E999" in response.content.decode()
    assert not OutsideCredit.objects.exists()
    response = admin.post("/credits/declarations/bulk/", declaration_post(
        catalog, attendees="E001 E002", certificate=upload()))
    assert response.status_code == 302
    assert sorted(OutsideCredit.objects.values_list("employee__employee_no", flat=True)) == ["E001", "E002"]
    fact = OutsideCredit.objects.get(employee=org.learner)
    file_page = client_for(org.auditor).get(f"/records/people/{org.learner.pk}/").content.decode()
    assert "Regional sepsis course" in file_page and f"/credits/declarations/facts/{fact.pk}/" in file_page
    assert client_for(org.auditor).get(f"/credits/declarations/facts/{fact.pk}/")["Location"] == (
        f"/credits/declarations/{fact.declaration.pk}/")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_plan_form_offers_the_years_rules(org, catalog, client_for, language):
    from test_plan_pages import plan_form

    admin = client_for(org.admin, language)
    response = admin.post("/plans/new/", plan_form(org, catalog, follows_credit_rules="on"))
    assert response.status_code == 302
    assert LearningPlan.objects.get().follows_credit_rules
