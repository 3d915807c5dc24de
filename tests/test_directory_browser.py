"""The directory sync in a real browser: the admin starts a sync from DingTalk on the import page, sees
the check, confirms it, and finds the people; in both languages."""

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

import fake_directory
from test_browser import log_in

TEXT = {"en": {"check": "Check DingTalk contacts now", "confirm": "Import now"},
        "zh-hans": {"check": "立即检查钉钉通讯录", "confirm": "立即导入"}}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_admin_syncs_dingtalk_from_the_import_page(live_server, org, new_page, settings, language):
    cache.clear()
    settings.DIRECTORY_SYNC_SOURCE = "dingtalk"
    settings.DIRECTORY_DEPARTMENT_PREFIX = None
    settings.DIRECTORY_EMPLOYEE_NO = "number"
    with fake_directory.running(settings) as directory:
        directory.add_department("1", "Hospital")
        directory.add_department("5", "Emergency", "1")
        directory.add_person("ding-n1", "急诊护士", "5", number="N500", title="护士")
        directory.add_person("ding-n2", "急诊医生", "5", number="N501", title="医生")
        page = new_page()
        log_in(page, live_server.url, "admin", language)
        page.goto(f"{live_server.url}/org/import/")
        page.get_by_role("button", name=TEXT[language]["check"]).click()
        status = page.locator("#import-status")
        expect(status).to_have_attribute("data-status", "validated")
        expect(status.locator(".employees-created")).to_have_text("2")
        expect(status.locator(".departments-created")).to_have_text("2")
        page.get_by_role("button", name=TEXT[language]["confirm"]).click()
        expect(status).to_have_attribute("data-status", "applied")
        page.goto(f"{live_server.url}/org/employees/?q=N50")
        expect(page.get_by_role("link", name="急诊护士")).to_be_visible()
        expect(page.get_by_role("link", name="急诊医生")).to_be_visible()
