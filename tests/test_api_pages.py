"""The admin's pages: API tokens (shown once, revocable, their use), learning record stores
(password encrypted, what failed and why, resend) and the continuing-education export."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from learntrace.api import exports
from learntrace.api.models import ApiToken, CreditExport, ExportedCompletion, RecordStore, Statement
from learntrace.records.models import Completion
from learntrace.records.services import record_completion, void_completion

PAGES = ["api:tokens", "api:stores", "api:store_new", "api:credit_export"]


@pytest.mark.parametrize("person", ["head", "auditor", "learner"])
def test_only_training_admins_reach_the_pages(org, client_for, person):
    client = client_for(getattr(org, person))
    for name in PAGES:
        assert client.get(reverse(name)).status_code == 403, name


def test_a_token_is_shown_once_and_can_be_revoked(org, client_for):
    client = client_for(org.admin)
    response = client.post(reverse("api:tokens"), {"name": "payroll", "username": "head",
                                                   "scopes": ["compliance:read", "org:read"], "expires_days": 30},
                           follow=True)
    page = response.content.decode()
    token = ApiToken.objects.get()
    secret = page.split('data-token>')[1].split("<")[0]
    assert secret.startswith(f"lt_{token.prefix}_") and token.user == org.head.user
    assert secret not in client.get(reverse("api:tokens")).content.decode()
    api = Client()
    assert api.get("/api/v1/departments", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    detail = client.get(reverse("api:token", args=[token.pk])).content.decode()
    assert "/api/v1/departments" in detail and "compliance:read" in detail
    client.post(reverse("api:token_revoke", args=[token.pk]))
    assert api.get("/api/v1/departments", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
    assert "revoked" in client.get(reverse("api:tokens")).content.decode()


def test_a_token_form_with_mistakes_says_so(org, client_for):
    page = client_for(org.admin).post(reverse("api:tokens"), {"name": "x", "username": "nobody",
                                                              "expires_days": 0}).content.decode()
    assert "No active user has this user name." in page and not ApiToken.objects.exists()


def test_the_store_password_is_encrypted_and_kept_when_left_empty(org, client_for):
    client = client_for(org.admin)
    client.post(reverse("api:store_new"), {"name": "LRS", "endpoint": "https://lrs.example.com/xapi/",
                                           "username": "u", "password": "s3cret", "is_active": "on"})
    store = RecordStore.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM api_recordstore")
        assert cursor.fetchone()[0] not in ("", "s3cret")
    assert store.endpoint == "https://lrs.example.com/xapi" and store.password == "s3cret"
    client.post(reverse("api:store_edit", args=[store.pk]), {"name": "LRS 2", "endpoint": store.endpoint,
                                                             "username": "u", "password": "", "is_active": "on"})
    store.refresh_from_db()
    assert (store.name, store.password) == ("LRS 2", "s3cret")


def test_the_store_page_shows_why_a_statement_failed_and_resends_it(org, client_for):
    store = RecordStore.objects.create(name="LRS", endpoint="http://127.0.0.1:9/xapi", is_active=False)
    failed = Statement.objects.create(store=store, statement_id="6f1c8d2e-6b8b-5d55-9a0e-2a6f3c1d7b10",
                                      verb="http://adlnet.gov/expapi/verbs/completed", body={}, status="failed",
                                      attempts=10, last_error="HTTP 401: bad credentials",
                                      next_attempt_at=timezone.now())
    client = client_for(org.admin)
    page = client.get(reverse("api:store", args=[store.pk]), {"status": "failed"}).content.decode()
    assert "HTTP 401: bad credentials" in page and "6f1c8d2e" in page
    client.post(reverse("api:store_resend", args=[store.pk]), {"statement": failed.pk})
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)


@pytest.fixture
def credits_2026(org, catalog):
    org.learner.national_id = "11010519491231002X"
    org.learner.save()
    when = dt.datetime(2026, 5, 10, 10, tzinfo=dt.UTC)
    record_completion(employee=org.learner, course=catalog.video, completed_at=when, source="manual")
    record_completion(employee=org.head, course=catalog.clinical_video, completed_at=when, source="manual")
    voided = record_completion(employee=org.outsider, course=catalog.video, completed_at=when, source="manual")
    void_completion(actor=org.admin.user, completion=voided, reason="wrong person")
    record_completion(employee=org.outsider, course=catalog.meeting, completed_at=when.replace(year=2025),
                      source="manual")


def test_the_credit_export_uses_the_mapped_columns_and_marks_what_went_out(org, catalog, credits_2026, client_for):
    client = client_for(org.admin)
    form = {"year": "2026", "file_format": "xlsx", "provider": "City Hospital", "only_new": "on",
            "include_national_id": "on", "order_national_id": "1", "header_national_id": "身份证号",
            "include_credits": "on", "order_credits": "3", "header_credits": "学分",
            "include_course": "on", "order_course": "2", "header_course": "项目名称",
            "include_provider": "on", "order_provider": "4", "header_provider": "举办单位"}
    response = client.post(reverse("api:credit_export"), form)
    export = CreditExport.objects.get()
    assert response.status_code == 302 and export.row_count == 2
    download = client.get(reverse("api:credit_export_download", args=[export.pk]))
    sheet = load_workbook(io.BytesIO(download.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["身份证号", "项目名称", "学分", "举办单位"]
    assert ["11010519491231002X", "Leading a ward", 2, "City Hospital"] in rows
    assert ["", "Sepsis update", 5, "City Hospital"] in rows or [None, "Sepsis update", 5, "City Hospital"] in rows
    assert len(rows) == 3
    assert ExportedCompletion.objects.count() == 2
    again = client.post(reverse("api:credit_export"), form, follow=True).content.decode()
    assert "There are no credits to export for 2026." in again and CreditExport.objects.count() == 1
    page = client.get(reverse("api:credit_export")).content.decode()
    assert 'value="身份证号"' in page  # the mapping is remembered


def test_the_credit_export_as_csv_with_all_rows(org, catalog, credits_2026):
    columns = [{"key": "employee_no", "header": "工号"}, {"key": "name", "header": "姓名"},
               {"key": "credit_class", "header": "学分类别"}, {"key": "date", "header": "日期"}]
    exports.create_export(actor=org.admin.user, year=2026, file_format="csv", columns=columns, only_new=True)
    second = exports.create_export(actor=org.admin.user, year=2026, file_format="csv", columns=columns)
    content, content_type, name = exports.render(second)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows == [["工号", "姓名", "学分类别", "日期"], ["E001", "Learner in cardiology", "I类学分", "2026-05-10"],
                    ["H001", "Head of medicine", "I类学分", "2026-05-10"]]
    assert content_type.startswith("text/csv") and name.endswith(".csv")


def test_the_credit_export_refuses_bad_mappings(org, credits_2026):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        exports.create_export(actor=org.admin.user, year=2026, file_format="pdf",
                              columns=[{"key": "name", "header": ""}])
    assert set(caught.value.message_dict) == {"file_format", "columns"}
    with pytest.raises(ValidationError):
        exports.create_export(actor=org.auditor.user, year=2026, file_format="csv",
                              columns=[{"key": "national_id", "header": "ID"}])
    assert not CreditExport.objects.exists() and Decimal("0") == Decimal(ExportedCompletion.objects.count())


def test_the_csv_keeps_id_numbers_as_text_and_has_the_cme_columns(org, catalog, credits_2026):
    org.root.employer = "City Hospital"
    org.root.save()
    org.a.employer = "City Hospital, Internal Medicine Campus"
    org.a.save()
    catalog.video.project_number, catalog.video.credit_hours = "2026-03-01-012(国)", Decimal("6.0")
    catalog.video.save()
    org.head.national_id = "110105194912310021"
    org.head.save()
    columns = [{"key": key, "header": header} for key, header in (
        ("national_id", "身份证号"), ("employer", "单位"), ("department", "科室"), ("project_number", "项目编号"),
        ("course", "项目名称"), ("hours", "学时"), ("date", "获得日期"), ("certificate_no", "证书编号"))]
    export = exports.create_export(actor=org.admin.user, year=2026, file_format="csv", columns=columns)
    content, _type, _name = exports.render(export)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    completion = {c.employee_id: c for c in Completion.objects.filter(completed_at__year=2026)}
    assert rows == [
        ["身份证号", "单位", "科室", "项目编号", "项目名称", "学时", "获得日期", "证书编号"],
        ['="11010519491231002X"', "City Hospital, Internal Medicine Campus", "Cardiology", "2026-03-01-012(国)",
         "Leading a ward", "6.0", "2026-05-10", f"LT2026{completion[org.learner.pk].pk:08d}"],
        ['="110105194912310021"', "City Hospital, Internal Medicine Campus", "Internal medicine", "", "Sepsis update",
         "", "2026-05-10", f"LT2026{completion[org.head.pk].pk:08d}"]]
    org.a.employer = ""
    org.a.save()
    content, _type, _name = exports.render(export)
    assert list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))[1][1] == "City Hospital"  # the root's


def test_xlsx_dates_are_real_dates(org, catalog, credits_2026):
    export = exports.create_export(actor=org.admin.user, year=2026, file_format="xlsx",
                                   columns=[{"key": "date", "header": "日期"}])
    content, _type, _name = exports.render(export)
    sheet = load_workbook(io.BytesIO(content)).active
    cell = sheet["A2"]
    assert (cell.value.date(), cell.is_date, cell.number_format) == (dt.date(2026, 5, 10), True, "yyyy-mm-dd")


def test_admins_save_and_reuse_export_templates(org, catalog, credits_2026, client_for):
    from learntrace.api.models import ExportTemplate

    shipped = ExportTemplate.objects.get(name="省级继教平台 · 学分导入（CSV）")
    assert (shipped.file_format, shipped.shipped, [c["header"] for c in shipped.columns]) == (
        "csv", True, ["身份证号", "姓名", "单位", "科室", "项目编号", "项目名称", "学分类别", "学分", "学时",
                      "获得日期", "证书编号"])
    client = client_for(org.admin)
    form = {"action": "save_template", "template_name": "Our province", "file_format": "csv",
            "include_name": "on", "order_name": "2", "header_name": "姓名",
            "include_certificate_no": "on", "order_certificate_no": "1", "header_certificate_no": "证书号"}
    response = client.post(reverse("api:credit_export"), form)
    saved = ExportTemplate.objects.get(name="Our province")
    assert response.status_code == 302 and response["Location"].endswith(f"?template={saved.pk}")
    assert (saved.file_format, saved.columns) == ("csv", [{"key": "certificate_no", "header": "证书号"},
                                                          {"key": "name", "header": "姓名"}])
    page = client.get(reverse("api:credit_export"), {"template": saved.pk}).content.decode()
    assert 'value="证书号"' in page and CreditExport.objects.count() == 0
    refused = client.post(reverse("api:credit_export"), {**form, "template_name": shipped.name}, follow=True)
    assert "A shipped template keeps its name" in refused.content.decode()
    assert ExportTemplate.objects.get(pk=shipped.pk).columns == shipped.columns
