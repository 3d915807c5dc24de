"""The README's screenshots: the demo organisation served locally, photographed by Debian's Chromium
(Playwright) on a 1366 px desk and a 390 px phone, in Chinese and English, into docs/screenshots/.

    .venv/bin/python scripts/screenshots.py              # a fresh demo in a temporary folder (~2 min)
    .venv/bin/python scripts/screenshots.py --data-dir D  # keeps (or reuses) the demo database in D

Each PNG is reduced to 256 colours (Pillow), so that it stays well under 200 KB."""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "learntrace-demo"  # the demo accounts' password (README, Demo accounts)
DESK = {"viewport": {"width": 1366, "height": 768}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def learntrace(*arguments: str, environment: dict) -> None:
    subprocess.run([sys.executable, "-m", "learntrace", *arguments], env=environment, check=True,
                   stdout=subprocess.DEVNULL)


def serve(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """The demo, migrated and loaded when the folder is new, served by gunicorn without the worker."""
    environment = {**os.environ, "DATA_DIR": str(data_dir)}
    environment.pop("DATABASE_URL", None)  # the demo's own SQLite file, never a configured database
    learntrace("migrate", "--noinput", environment=environment)
    learntrace("demo", "--if-empty", environment=environment)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "learntrace", "serve", "--no-worker", "--web-workers", "1",
                               "--port", str(port)], env=environment, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _attempt in range(100):
        try:
            urllib.request.urlopen(f"{url}/accounts/login/", timeout=2)  # noqa: S310 - our own local server
            return server, url
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the demo server did not start")


def page_for(browser, base_url: str, username: str, language: str, device: dict):
    context = browser.new_context(**device)
    context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    page = context.new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.press("#id_password", "Enter")
    return page


def save(page, name: str) -> None:
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path))
    with Image.open(path) as shot:
        shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")


def photograph(browser, url: str) -> None:
    # Team progress on a desk, with the management menu open (Chinese).
    page = page_for(browser, url, "hr", "zh-hans", DESK)
    page.goto(f"{url}/plans/team/")
    page.locator("header.site details.group > summary", has_text="管理").click()
    save(page, "team-progress-desktop-zh")

    # A department head's team as cards on a phone, and the phone menu with its learning group open.
    page = page_for(browser, url, "head", "zh-hans", PHONE)
    page.goto(f"{url}/plans/team/")
    save(page, "team-cards-phone-zh")
    page.locator("header.site details.menu > summary").click()
    page.locator("header.site details.group > summary", has_text="学习").click()
    save(page, "menu-phone-zh")

    # A learner's own month on a phone.
    page = page_for(browser, url, "manager", "zh-hans", PHONE)
    page.goto(f"{url}/plans/my/")
    save(page, "my-learning-phone-zh")

    # The audit trail, and a new video course with only the video's fields showing (English).
    page = page_for(browser, url, "hr", "en", DESK)
    page.goto(f"{url}/audit/")
    save(page, "audit-trail-desktop-en")
    page.goto(f"{url}/catalog/courses/new/")
    page.select_option("#id_kind", "video")
    page.fill("#id_title", "Handover at the bedside")
    expect(page.locator("#id_location")).to_be_hidden()
    save(page, "course-form-video-desktop-en")

    # A meeting scheduled with its new course in one step, on a phone (Chinese).
    page = page_for(browser, url, "hr", "zh-hans", PHONE)
    page.goto(f"{url}/checkin/meetings/new/")
    page.fill("#id_new_course_title", "院感防控季度培训")
    page.locator("#id_new_course_category").select_option(index=1)
    page.locator("#id_new_course_title").scroll_into_view_if_needed()
    page.locator("h1").scroll_into_view_if_needed()
    save(page, "meeting-new-phone-zh")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="demo data folder to create or reuse (default: temporary)")
    arguments = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="learntrace-screenshots-") as temporary:
        data_dir = arguments.data_dir or Path(temporary)
        data_dir.mkdir(parents=True, exist_ok=True)
        server, url = serve(data_dir)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
                try:
                    photograph(browser, url)
                finally:
                    browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
