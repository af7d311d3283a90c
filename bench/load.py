"""Benchmark: 20 people opening Results at once over a 10M-impression log (issue 6).

Setup (not timed): a catalog of the 1,000 titles and 5,497 variants of the seeded benchmark
log (rows only: no image files, so thumbnails are blank), and the results database that
``bench/results.py`` builds (``bench/out/results-<rows>.db``; run it first). A real
``streamlit run app.py`` serves them.

Timed: N browser contexts in one headless Chromium (Debian's), started together, each opening
/results and waiting until the variant table is drawn. Reported: p50 and p95 of that time, for
a first wave (cold server caches) and a second wave, and the server's peak memory (VmHWM).
Target: p95 under 3 s on this 2-core machine.

Usage: python bench/load.py [--rows 10000000] [--sessions 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _impressions import OUT, variant_titles, write_summary  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def catalog_for_the_log(data_dir: Path) -> None:
    """Titles 1–1,000 and variants 1–5,497 as rows, ids matching the benchmark log."""
    from sqlalchemy import insert

    from artdash.config import Settings
    from artdash.db.models import Title, Variant
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(data_dir)}))
    mapping = variant_titles()
    now = datetime.now(UTC)
    with ws.engine.begin() as conn:
        conn.execute(insert(Title), [{"id": t, "name": f"Benchmark title {t:04d}", "year": 2000 + t % 25,
                                      "kind": "movie", "synopsis": "", "created_at": now, "updated_at": now,
                                      "created_by": "bench", "updated_by": "bench", "version": 1}
                                     for t in sorted(set(mapping.values()))])
        conn.execute(insert(Variant), [{
            "id": v, "title_id": t, "label": f"variant {v}", "status": "active", "sha256": f"{v:064x}",
            "source_sha256": f"{v:064x}", "media_ext": "jpg", "format": "JPEG", "source_format": "JPEG",
            "width": 1000, "height": 1500, "n_bytes": 1, "source_n_bytes": 1, "phash": f"{v:016x}",
            "brightness": 0.5, "contrast": 0.5, "colourfulness": 50.0, "warmth": 0.0, "dominant_colours": [],
            "warnings": [], "created_at": now, "updated_at": now, "created_by": "bench", "updated_by": "bench",
            "version": 1} for v, t in mapping.items()])
    ws.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


SHELLS: list[float] = []  # time until the Streamlit front end is up (before the page's script runs)


async def one_session(browser, url: str) -> float:
    context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    page = await context.new_page()
    t0 = time.perf_counter()
    await page.goto(url + "/results", wait_until="commit", timeout=180_000)
    await page.get_by_test_id("stApp").wait_for(state="attached", timeout=180_000)
    SHELLS.append(time.perf_counter() - t0)
    await page.get_by_test_id("stDataFrame").first.wait_for(state="visible", timeout=180_000)
    elapsed = time.perf_counter() - t0
    await context.close()
    return elapsed


async def wave(url: str, sessions: int) -> list[float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        times = await asyncio.gather(*(one_session(browser, url) for _ in range(sessions)))
        await browser.close()
    return list(times)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    results_db = OUT / f"results-{args.rows}.db"
    if not results_db.exists():
        sys.exit(f"{results_db} is missing: run `python bench/results.py --rows {args.rows}` first")
    data = Path(tempfile.mkdtemp(prefix="artdash-load-"))
    catalog_for_the_log(data)
    port = free_port()
    env = {**os.environ, "ARTDASH_DATA_DIR": str(data), "ARTDASH_RESULTS_DATABASE_URL": f"sqlite:///{results_db}"}
    log = open(data / "server.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless",
                               "true", "--server.port", str(port), "--server.address", "localhost"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        first = asyncio.run(wave(url, args.sessions))
        first_shell = list(SHELLS)
        SHELLS.clear()
        second = asyncio.run(wave(url, args.sessions))
        summary = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "rows": args.rows, "sessions": args.sessions,
                   "first_wave": {"p50_s": statistics.median(first), "p95_s": percentile(first, 0.95),
                                  "max_s": max(first)},
                   "second_wave": {"p50_s": statistics.median(second), "p95_s": percentile(second, 0.95),
                                   "max_s": max(second)},
                   "front_end_up_p50_s": {"first_wave": statistics.median(first_shell),
                                          "second_wave": statistics.median(SHELLS)},
                   "server_peak_mb": peak_mb(server.pid)}
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    write_summary("load", summary)
    print(f"\n{args.sessions} sessions: p95 {summary['first_wave']['p95_s']:.2f} s (first wave), "
          f"{summary['second_wave']['p95_s']:.2f} s (second); target p95 < 3 s")


if __name__ == "__main__":
    main()
