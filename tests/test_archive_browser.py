"""The evidence page's list of archives in a real browser: on a phone, in both languages, read as cards,
nothing off the side, and nothing axe-core finds serious."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accessibility import axe_violations
from learntrace.records import archive
from test_archive import CUT, NOW, months  # noqa: F401 (a fixture)
from test_browser import log_in
from test_layout_browser import overflow

HEADERS = {"zh-hans": ("学习记录归档", "文件 SHA-256", "已从数据库删除"),
           "en": ("Archives", "file SHA-256", "deleted from the database")}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_archives_read_as_cards_on_a_phone(live_server, months, new_page, language, tmp_path):  # noqa: F811
    link = archive.archive(before=CUT, path=str(tmp_path / "a.jsonl.gz"), now=NOW)
    page = new_page(phone=True)
    log_in(page, live_server.url, "auditor", language)
    page.goto(f"{live_server.url}{reverse('evidence:overview')}")
    title, digest_label, done = HEADERS[language]
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    row = page.locator("table.archives tbody tr").first
    expect(row.locator("code.digest")).to_have_text(link.archive["file_sha256"])
    expect(row.locator("td").nth(6)).to_have_attribute("data-label", digest_label)
    expect(row).to_contain_text(done)
    assert overflow(page) == {"page": 0, "tables": 0}
    assert axe_violations(page) == []
