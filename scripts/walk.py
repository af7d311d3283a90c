"""Walk every page of a running ArtDash in Debian's Chromium and screenshot it at two widths.

Usage: python scripts/walk.py [URL] [OUTDIR] [--widths 1024,1600]
       (defaults: http://localhost:8501 test-artifacts/walk)

For each page of the sidebar: the time until the script is idle, a screenshot per width
(a tall viewport, so the whole page is in the picture), the exceptions and error boxes it
shows, and the browser console's errors. Writes OUTDIR/walk.json and prints a summary; the exit
code is 1 when any page showed an exception.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
APP = '[data-testid="stApp"]'


def idle(page, timeout: float = 60) -> float | None:
    start = time.time()
    page.wait_for_selector(APP, timeout=timeout * 1000)
    time.sleep(0.3)
    while time.time() - start < timeout:
        if page.get_attribute(APP, "data-test-script-state") == "notRunning":
            time.sleep(0.8)  # images and charts finish drawing
            return round(time.time() - start, 2)
        time.sleep(0.1)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", nargs="?", default="http://localhost:8501")
    parser.add_argument("out", nargs="?", default="test-artifacts/walk", type=Path)
    parser.add_argument("--widths", default="1024,1600", help="viewport widths, comma-separated")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    base = args.url.rstrip("/")
    report = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
        page = browser.new_page(viewport={"width": widths[0], "height": 2400})
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        page.goto(base)
        idle(page)
        links = page.locator('[data-testid="stSidebarNav"] a')
        # a link reads "icon-name\n\nPage name": the name is its last line
        pages = [(links.nth(i).inner_text().strip().splitlines()[-1].strip(), links.nth(i).get_attribute("href"))
                 for i in range(links.count())]
        for name, href in pages:
            entry = {"page": name, "url": href, "shots": []}
            for width in widths:
                console.clear()
                page.set_viewport_size({"width": width, "height": 2400})
                page.goto(href if href.startswith("http") else base + "/" + href.lstrip("/"))
                entry["idle_s"] = idle(page)
                shot = args.out / f"{name.lower().replace(' ', '-').replace('&', 'and')}-{width}.png"
                page.screenshot(path=str(shot))
                entry["shots"].append(str(shot))
            entry["exceptions"] = page.locator('[data-testid="stException"]').count()
            entry["errors"] = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
            entry["console_errors"] = list(console)
            report.append(entry)
            print(f"{name:20} idle {entry['idle_s']}s  exceptions {entry['exceptions']}  errors {len(entry['errors'])}")
        browser.close()
    (args.out / "walk.json").write_text(json.dumps(report, indent=1))
    return 1 if any(e["exceptions"] for e in report) else 0


if __name__ == "__main__":
    sys.exit(main())
