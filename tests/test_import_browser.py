"""The organisation import in a real browser: once the admin confirms, the page follows the import
(started, then imported with its counts, or failed with the reason) and never offers the button
again; in both languages, and accessible at each step."""

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from accessibility import axe_violations
from learntrace.org import tasks
from learntrace.org.models import Employee, ImportBatch
from test_browser import log_in
from test_import import person, write_csv

TEXT = {"en": {"check": "Check the file", "confirm": "Import now", "started": "Import started",
               "imported": "Imported", "failed": "Failed"},
        "zh-hans": {"check": "校验文件", "confirm": "立即导入", "started": "导入已开始",
                    "imported": "已导入", "failed": "失败"}}


@pytest.fixture
def worker_held(monkeypatch):
    """The confirmation is queued but not run, as when the worker is busy; the test runs it."""
    queued = []
    monkeypatch.setattr(tasks, "apply_import", lambda batch_id, actor_id: queued.append((batch_id, actor_id)))
    return queued


def upload_and_check(page, base_url, path, language):
    page.goto(f"{base_url}/org/import/")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name=TEXT[language]["check"]).click()
    status = page.locator("#import-status")
    expect(status).to_have_attribute("data-status", "validated")
    return status


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_page_follows_the_import_to_its_end(live_server, org, new_page, tmp_path, worker_held, language):
    cache.clear()
    path = write_csv(tmp_path / "people.csv", [person("B1"), person("B2", "SURG")])
    page = new_page()
    log_in(page, live_server.url, "admin", language)
    status = upload_and_check(page, live_server.url, path, language)
    confirm = page.get_by_role("button", name=TEXT[language]["confirm"])
    confirm.click()

    expect(status).to_have_attribute("data-status", "queued")
    expect(status.locator(".status")).to_have_text(TEXT[language]["started"])
    expect(confirm).to_have_count(0)
    assert axe_violations(page) == []
    assert len(worker_held) == 1 and not Employee.objects.filter(employee_no="B1").exists()

    tasks.apply_batch(worker_held[0][0], org.admin.user)
    # No reload: the page polls until the import ends.
    expect(status).to_have_attribute("data-status", "applied", timeout=10_000)
    expect(status.locator(".status")).to_have_text(TEXT[language]["imported"])
    expect(status.locator(".employees-created")).to_have_text("2")
    expect(page.get_by_role("button", name=TEXT[language]["confirm"])).to_have_count(0)
    assert axe_violations(page) == []
    assert Employee.objects.filter(employee_no__in=["B1", "B2"]).count() == 2


def test_the_page_shows_why_an_import_failed(live_server, org, new_page, tmp_path, worker_held):
    cache.clear()
    path = write_csv(tmp_path / "people.csv", [person("B3")])
    page = new_page()
    log_in(page, live_server.url, "admin", "en")
    status = upload_and_check(page, live_server.url, path, "en")
    page.get_by_role("button", name=TEXT["en"]["confirm"]).click()
    expect(status).to_have_attribute("data-status", "queued")

    # Between the check and the import, the file's department is renamed away.
    batch = ImportBatch.objects.get()
    org.a.code = "IM-OLD"
    org.a.save()
    tasks.apply_batch(batch.pk, org.admin.user)
    expect(status).to_have_attribute("data-status", "invalid", timeout=10_000)
    expect(status.locator("table.errors")).to_contain_text("Unknown department “IM”")
    expect(status.get_by_text("nothing was written")).to_be_visible()
    expect(page.get_by_role("button", name=TEXT["en"]["confirm"])).to_have_count(0)
    assert not Employee.objects.filter(employee_no="B3").exists()
