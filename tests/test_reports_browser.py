"""The dashboard in a real browser: filter by department, then download the filtered export."""

import csv

from openpyxl import load_workbook
from playwright.sync_api import expect

from conftest import PASSWORD
from reports_fixtures import hospital_month


def test_the_admin_filters_the_dashboard_and_downloads_the_export(live_server, org, catalog, new_page, tmp_path,
                                                                  settings):
    hospital_month(org, catalog)
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    nav = page.get_by_role("navigation", name="Main")
    nav.locator("summary", has_text="Reports").click()  # the menu's group of reports
    nav.get_by_role("link", name="Reports").click()
    expect(page.locator("#completion-rate")).to_have_text("33.3%")

    page.select_option("#id_department", label="Surgery")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#completion-rate")).to_have_text("50.0%")
    expect(page.locator("table.non-completers tbody tr")).to_have_count(1)
    expect(page.locator("table.non-completers")).to_contain_text("Newcomer in surgery")

    page.get_by_role("link", name="Completion per person").first.click()
    with page.expect_download() as download:
        page.locator("a[data-export='people-csv']").click()
    path = tmp_path / "people.csv"
    download.value.save_as(path)
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:3] == ["employee number", "name", "department"]
    complete = rows[0].index("complete")
    assert sorted((row[0], row[2], row[complete]) for row in rows[1:]) == [
        ("E002", "Surgery", "yes"), ("E003", "Surgery", "no")]

    # A larger export goes to the worker (here: at once, tasks run in-process); its page offers the file.
    settings.REPORTS_DIRECT_EXPORT_ROWS = 1
    page.locator("a[data-export='people-xlsx']").click()
    expect(page.locator("#export-job")).to_have_attribute("data-status", "done")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    path = tmp_path / "people.xlsx"
    download.value.save_as(path)
    sheet = load_workbook(path, read_only=True).active
    assert sorted(row[0] for row in list(sheet.iter_rows(values_only=True))[1:]) == ["E002", "E003"]
