"""The admin's integration pages in a real browser: a token created and shown once, then used
and revoked; the continuing-education export downloaded and read back."""

import datetime as dt

import httpx
from openpyxl import load_workbook
from playwright.sync_api import expect

from learntrace.records.services import record_completion
from test_browser import log_in


def test_the_admin_creates_a_token_sees_it_once_and_revokes_it(live_server, org, new_page):
    page = new_page()
    log_in(page, live_server.url, "admin", "zh-hans")
    page.locator("header summary", has_text="系统").click()  # the menu's group of system links
    page.get_by_role("link", name="系统对接").click()
    page.fill("#id_name", "薪酬系统")
    page.fill("#id_username", "head")
    page.get_by_label("读取达标结果及奖惩").check()
    page.get_by_label("读取部门和员工").check()
    page.get_by_role("button", name="创建令牌").click()
    secret = page.locator("[data-token]").inner_text()
    expect(page.get_by_text("请立即复制")).to_be_visible()
    api = f"{live_server.url}/api/v1/employees"
    answer = httpx.get(api, headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200 and {e["employee_no"] for e in answer.json()["items"]} == {"H001", "E001"}
    page.reload()
    assert secret not in page.content()
    page.get_by_role("link", name="薪酬系统").click()
    expect(page.get_by_text("/api/v1/employees")).to_be_visible()
    page.get_by_role("button", name="吊销").click()
    expect(page.get_by_text("令牌已吊销,不再可用。")).to_be_visible()
    assert httpx.get(api, headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_the_admin_downloads_the_credit_export(live_server, org, catalog, new_page, tmp_path):
    record_completion(employee=org.learner, course=catalog.video, source="manual",
                      completed_at=dt.datetime(2026, 5, 10, 10, tzinfo=dt.UTC))
    page = new_page()
    log_in(page, live_server.url, "admin", "en")
    page.goto(f"{live_server.url}/api/credit-export/")
    page.fill("#year", "2026")
    page.fill("#provider", "City Hospital")
    page.uncheck("#include_national_id")
    page.check("#include_employee_no")
    page.fill("input[name=header_employee_no]", "工号")
    page.fill("input[name=order_employee_no]", "1")
    page.get_by_role("button", name="Export", exact=True).click()
    expect(page.get_by_text("Exported 1 completion(s).")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the export").click()
    path = tmp_path / "credits.xlsx"
    download.value.save_as(path)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][0] == "工号" and rows[1][0] == "E001" and "City Hospital" in rows[1]
