"""Screenshots for the README and the docs (docs/screenshots/), taken from a running app with the demo catalog.

Usage: python scripts/screenshots.py [URL] [OUTDIR]   (defaults: http://localhost:8501 docs/screenshots)
Needs Debian's chromium. Uploads two generated images to the first title to show the report.
"""

import io
import sys
import time
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect, sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
url = (sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8501").rstrip("/")
out = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/screenshots")
out.mkdir(parents=True, exist_ok=True)


def idle(page, timeout=60):
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    time.sleep(0.5)
    end = time.time() + timeout
    while time.time() < end:
        if page.get_attribute('[data-testid="stApp"]', "data-test-script-state") == "notRunning":
            time.sleep(1.0)  # images and charts finish drawing
            return
        time.sleep(0.1)


with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    page = browser.new_page(viewport={"width": 1440, "height": 1100})
    expect.set_options(timeout=30_000)
    page.goto(url + "/")
    idle(page)
    page.screenshot(path=str(out / "catalog.png"))
    page.goto(url + "/title?title=1")
    idle(page)
    page.screenshot(path=str(out / "title-gallery.png"))
    page.goto(url + "/title?title=1&tab=Upload")
    idle(page)
    files = []
    for name, size, colour in [("new-poster.png", (1000, 1500), (200, 60, 90)), ("square-teaser.png", (900, 900), (30, 30, 60))]:
        buf = io.BytesIO()
        Image.new("RGB", size, colour).save(buf, "PNG")
        files.append({"name": name, "mimeType": "image/png", "buffer": buf.getvalue()})
    files.append({"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"meeting notes, not an image"})
    page.get_by_role("tabpanel", name="Upload").get_by_test_id("stFileUploaderDropzoneInput").set_input_files(files)
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_text("Upload report:")).to_be_visible()
    idle(page)
    page.screenshot(path=str(out / "upload-report.png"))
    def shoot(path: str, name: str) -> None:
        page.goto(url + path)
        idle(page)
        page.screenshot(path=str(out / f"{name}.png"))

    for path, name in [("/taxonomy", "taxonomy"), ("/results", "results"),
                       ("/results?results_charts=Over+time", "results-charts"),
                       ("/results?results_tab=Creative+insights", "creative-insights"), ("/preview", "preview"),
                       ("/preview?preview_tab=Win+matrix", "win-matrix"), ("/personas", "personas")]:
        shoot(path, name)
    # Policy lab: one run, then its summary and its offline table.
    page.goto(url + "/lab")
    idle(page)
    page.get_by_role("spinbutton", name="Impressions per policy").fill("30000")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text("finished:")).to_be_visible(timeout=120_000)
    idle(page)
    page.screenshot(path=str(out / "lab.png"))
    page.get_by_text("Offline evaluation on this run's uniform log").scroll_into_view_if_needed()
    time.sleep(1)
    page.screenshot(path=str(out / "lab-offline.png"))
    shoot("/users", "users")
    page.goto(url + "/audit")
    idle(page)
    grid = page.get_by_test_id("stDataFrame").first.bounding_box()
    page.mouse.click(grid["x"] + 12, grid["y"] + 54)  # select the newest entry: its whole before/after
    idle(page)
    page.screenshot(path=str(out / "audit.png"), full_page=True)
    browser.close()
print(f"screenshots in {out}")
