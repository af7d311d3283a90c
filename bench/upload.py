"""Benchmark: ingesting large JPEGs through the real upload path.

Workload: N seeded 4000×6000 JPEGs with camera metadata (as a photographer's export would
have). For every file, in the same run and interleaved so machine noise hits both alike:

  baseline  a bare Pillow decode of the same bytes (Image.open + load);
  ingest    artdash.catalog.ingest_image into a fresh SQLite workspace: full decode and
            validation, metadata stripping, hashes, features, thumbnail, duplicate checks,
            atomic media writes and the database row, committed.

Reports the median seconds per image for both, the ratio ingest/baseline, and the peak
resident memory of a separate process that ingests all N files.
Target (issue 2): ratio ≤ 1.5, peak memory < 500 MB.

Usage: python bench/upload.py [--images 20] [--rounds 3] [--width 4000 --height 6000]
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))


def make_jpeg(width: int, height: int, seed: int) -> bytes:
    """A photo-like JPEG: smooth gradients, shapes and sensor noise, plus EXIF."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, (6, 4, 3)).astype(np.uint8)
    base = np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC), dtype=np.int16)
    noise = rng.normal(0, 6, (height, width, 1)).astype(np.int16)
    im = Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "ACME", "ACME Cam 9", 1
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, exif=exif)
    return buf.getvalue()


def workload(n: int, width: int, height: int) -> list[Path]:
    folder = OUT / f"jpeg-{width}x{height}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"photo-{i:02d}.jpg"
        if not path.exists():
            path.write_bytes(make_jpeg(width, height, seed=i))
        paths.append(path)
    return paths


def bare_decode(data: bytes) -> float:
    t0 = time.perf_counter()
    with Image.open(io.BytesIO(data)) as im:
        im.load()
    return time.perf_counter() - t0


def fresh_workspace(folder: Path):
    from artdash.config import Settings
    from artdash.workspace import Workspace

    return Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(folder)}))


def new_title(ws) -> int:
    from artdash import catalog

    with ws.transaction() as s:
        return catalog.create_title(s, name="Benchmark", actor="bench").id


def ingest(ws, title_id: int, path: Path, data: bytes) -> float:
    from artdash import catalog

    t0 = time.perf_counter()
    with ws.transaction() as s:
        result = catalog.ingest_image(s, ws.store, title_id, path.name, data, "bench", ws.settings.limits)
    elapsed = time.perf_counter() - t0
    if not result.accepted:
        raise SystemExit(f"{path.name} was refused: {result.reason}")
    return elapsed


def _high_water_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, not inherited over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory_child(paths: list[Path]) -> None:
    """Run in a child process: ingest every file, print peak RSS in MB."""
    with tempfile.TemporaryDirectory() as tmp:
        ws = fresh_workspace(Path(tmp))
        title_id = new_title(ws)
        before = _high_water_mb()
        for path in paths:
            ingest(ws, title_id, path, path.read_bytes())
        peak = _high_water_mb()
    print(json.dumps({"peak_mb": peak, "before_mb": before}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=6000)
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        peak_memory_child([Path(p) for p in args.child])
        return

    print(f"preparing {args.images} JPEGs of {args.width}×{args.height}…", flush=True)
    paths = workload(args.images, args.width, args.height)
    files = [(p, p.read_bytes()) for p in paths]
    mean_mb = statistics.mean(len(d) for _, d in files) / 2**20

    baseline, ingested = [], []
    for round_no in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            ws = fresh_workspace(Path(tmp))
            title_id = new_title(ws)
            for path, data in files:
                baseline.append(bare_decode(data))
                ingested.append(ingest(ws, title_id, path, data))
            ws.close()
        print(f"round {round_no + 1}/{args.rounds}: baseline median {statistics.median(baseline):.3f} s, "
              f"ingest median {statistics.median(ingested):.3f} s", flush=True)

    child = subprocess.run([sys.executable, __file__, "--child", *map(str, paths)], capture_output=True,
                           text=True, check=True)
    memory = json.loads(child.stdout.strip().splitlines()[-1])

    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
        "images": args.images, "rounds": args.rounds, "size": f"{args.width}x{args.height}",
        "mean_file_mb": round(mean_mb, 2),
        "baseline_median_s": round(statistics.median(baseline), 4),
        "ingest_median_s": round(statistics.median(ingested), 4),
        "ratio": round(statistics.median(ingested) / statistics.median(baseline), 3),
        "peak_rss_mb": round(memory["peak_mb"], 1),
        "rss_before_ingest_mb": round(memory["before_mb"], 1),
        "targets": {"ratio_max": 1.5, "peak_rss_mb_max": 500},
    }
    result["met"] = result["ratio"] <= 1.5 and result["peak_rss_mb"] < 500
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "upload.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    print(f"\n| {result['date']} | upload | {args.images}× {args.width}×{args.height} JPEG ({mean_mb:.1f} MB) | "
          f"ingest {result['ingest_median_s']:.3f} s/img vs bare decode {result['baseline_median_s']:.3f} s "
          f"→ **{result['ratio']:.2f}×** (target ≤ 1.5×) | peak RSS {result['peak_rss_mb']:.0f} MB (target < 500) | "
          f"{'met' if result['met'] else 'MISSED'} |")


if __name__ == "__main__":
    main()
