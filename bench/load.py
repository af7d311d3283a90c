"""Benchmark: 20 people opening Results at once over a 10M-impression log (issue 6).

Setup (not timed): a catalog of the 1,000 titles and 5,497 variants of the seeded benchmark
log (rows only: no image files, so thumbnails are blank), and the results database that
``bench/results.py`` builds (``bench/out/results-<rows>.db``; run it first). A real
``streamlit run app.py`` serves them.

Timed: N browser contexts in one headless Chromium (Debian's), started together, each opening
/results and waiting until the variant table is drawn. Reported: p50 and p95 of that time, for
a first wave (cold server caches) and a second wave, the server's peak memory (VmHWM), and where
the machine's CPU went during a wave (the server process vs everything else: the browser's
renderers). Target: p95 under 3 s on this 2-core machine.

Baseline, same run, same harness: a minimal Streamlit page with a six-row table
(bench/load_baseline_app.py) — the floor any Streamlit page has on this machine with this many
browsers on it.

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
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _impressions import OUT, variant_titles, write_summary  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def catalog_for_the_log(data_dir: Path, database_url: str | None = None) -> None:
    """Titles 1–1,000 and variants 1–5,497 as rows, ids matching the benchmark log (in the
    data folder's SQLite file, or at ``database_url``)."""
    from sqlalchemy import insert

    from artdash.config import Settings
    from artdash.db.models import Title, Variant
    from artdash.workspace import Workspace

    env = {"ARTDASH_DATA_DIR": str(data_dir)} | ({"ARTDASH_DATABASE_URL": database_url} if database_url else {})
    ws = Workspace.open(Settings.from_env(env))
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


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time used so far by one process, or (pid None) by the whole machine."""
    tick = os.sysconf("SC_CLK_TCK")
    if pid is None:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        busy = sum(int(v) for i, v in enumerate(fields) if i not in (3, 4))  # all but idle and iowait
        return busy / tick
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick


async def one_session(browser, url: str, shells: list[float]) -> float:
    context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    page = await context.new_page()
    t0 = time.perf_counter()
    await page.goto(url, wait_until="commit", timeout=300_000)
    await page.get_by_test_id("stApp").wait_for(state="attached", timeout=300_000)
    shells.append(time.perf_counter() - t0)
    await page.get_by_test_id("stDataFrame").first.wait_for(state="visible", timeout=300_000)
    elapsed = time.perf_counter() - t0
    await context.close()
    return elapsed


async def _wave(url: str, sessions: int, shells: list[float]) -> list[float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        times = await asyncio.gather(*(one_session(browser, url, shells) for _ in range(sessions)))
        await browser.close()
    return list(times)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def wave(url: str, sessions: int, server_pid: int) -> dict:
    """One wave of ``sessions`` at once: latency percentiles and where the CPU went."""
    shells: list[float] = []
    machine0, server0, t0 = cpu_seconds(), cpu_seconds(server_pid), time.perf_counter()
    times = asyncio.run(_wave(url, sessions, shells))
    machine, server, wall = cpu_seconds() - machine0, cpu_seconds(server_pid) - server0, time.perf_counter() - t0
    return {"p50_s": statistics.median(times), "p95_s": percentile(times, 0.95), "max_s": max(times),
            "front_end_up_p50_s": statistics.median(shells), "wall_s": wall,
            "cpu_s": {"server": server, "rest_of_machine": machine - server}}


@contextmanager
def streamlit_server(script: Path, env: dict, log_path: Path):
    port = free_port()
    with open(log_path, "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.headless",
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
            yield url, server.pid
        finally:
            server.terminate()
            server.wait(timeout=20)


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
    env = {**os.environ, "ARTDASH_DATA_DIR": str(data), "ARTDASH_RESULTS_DATABASE_URL": f"sqlite:///{results_db}",
           "ARTDASH_RESULTS_LOG_DIR": str(results_db.with_suffix(".log"))}  # its Parquet log (bench/results.py)
    summary = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "rows": args.rows, "sessions": args.sessions}
    with streamlit_server(Path(__file__).with_name("load_baseline_app.py"), env, data / "baseline.log") as (url, pid):
        wave(url, 1, pid)  # warm-up: the server's first script run
        summary["baseline"] = {"one_session": wave(url, 1, pid), "wave": wave(url, args.sessions, pid)}
    with streamlit_server(ROOT / "app.py", env, data / "server.log") as (url, pid):
        summary["artdash"] = {"first_wave": wave(url + "/results", args.sessions, pid),
                              "second_wave": wave(url + "/results", args.sessions, pid),
                              "one_session": wave(url + "/results", 1, pid),
                              "server_peak_mb": peak_mb(pid)}
    ours, floor = summary["artdash"]["second_wave"]["p95_s"], summary["baseline"]["wave"]["p95_s"]
    summary["p95_vs_baseline"] = ours / floor
    write_summary("load", summary)
    print(f"\n{args.sessions} sessions: ArtDash p95 {summary['artdash']['first_wave']['p95_s']:.2f} s (first wave), "
          f"{ours:.2f} s (second); minimal Streamlit page {floor:.2f} s ({ours / floor:.2f}×); target p95 < 3 s")


if __name__ == "__main__":
    main()
