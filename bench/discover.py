"""Benchmark: artwork discovery (issue 16) on a 10-minute 720p clip with known cuts.

Setup (not timed, cached in bench/out/): a 10-minute 1280×720 H.264 clip at 24 fps assembled
from scikit-image's sample photographs — one shot per photograph, 2–9 s each, panning or zooming,
hard cuts between them (the cut frames are known).

Timed in the same run (median of 3, alternating):
- the baseline: a bare decode of every frame with the same library (PyAV, FFmpeg's frame
  threads, no conversion);
- ArtDash: `find_candidates(clip, top=40)` — the same decode plus shot detection, scoring,
  face detection, focal points and near-duplicate collapse.
Targets: ≤ 120 s and ≤ 1.5× the bare decode.

Measured too: shot-boundary precision, recall and F1 against the known cuts (target F1 ≥ 0.95,
a cut found within one frame counts); face detection recall on scikit-image's labelled LFW
subset (100 faces, target ≥ 0.9) and false alarms on its 100 non-faces; peak memory of a
process running the search (target < 1 GB).

Usage: python bench/discover.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).parent))

import av  # noqa: E402
import numpy as np  # noqa: E402
from _impressions import OUT, write_summary  # noqa: E402
from footage import SCENES, labelled_faces, photo  # noqa: E402

from artdash.discover import find_candidates  # noqa: E402
from artdash.media.images.faces import detect_faces  # noqa: E402
from artdash.media.video.assemble import assemble_clip  # noqa: E402

FPS, SIZE, REPEATS = 24, (1280, 720), 3


def clip(minutes: float) -> tuple[Path, list[int], int]:
    path = OUT / f"discover-{minutes:g}min-720p.mp4"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        known = json.loads(meta.read_text())
        return path, known["cuts"], known["frames"]
    rng = np.random.default_rng(16)
    names, lengths, total = [], [], 0.0
    while total < minutes * 60:
        name = SCENES[len(names) % len(SCENES)]
        length = float(min(rng.uniform(2.0, 9.0), minutes * 60 - total))
        if length < 1.0:
            break
        names.append(name)
        lengths.append(length)
        total += length
    print(f"assembling a {total / 60:.1f}-minute clip of {len(names)} shots (once; cached in {OUT})…", flush=True)
    made = assemble_clip([photo(n) for n in names], path, seconds_per_shot=lengths, fps=FPS, size=SIZE)
    meta.write_text(json.dumps({"cuts": list(made.cuts), "frames": made.n_frames}))
    return path, list(made.cuts), made.n_frames


def bare_decode(path: Path) -> int:
    n = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            n += 1
    return n


def shot_scores(found: list[int], cuts: list[int]) -> dict:
    unmatched = set(cuts)
    hits = 0
    for f in found:
        match = next((c for c in sorted(unmatched) if abs(c - f) <= 1), None)
        if match is not None:
            unmatched.discard(match)
            hits += 1
    precision = hits / len(found) if found else 0.0
    recall = hits / len(cuts) if cuts else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def peak_memory_mb(path: Path) -> float:
    code = (f"import sys, resource; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
            "from artdash.discover import find_candidates; "
            f"find_candidates(Path({str(path)!r}), 'clip.mp4', top=40); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the clip (default 10)")
    args = parser.parse_args()
    path, cuts, n_frames = clip(args.minutes)
    bare_times, ours_times, sheet = [], [], None
    for _ in range(REPEATS):
        t = time.perf_counter()
        decoded = bare_decode(path)
        bare_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        sheet = find_candidates(path, path.name, top=40)
        ours_times.append(time.perf_counter() - t)
    assert sheet is not None and decoded == n_frames == sheet.frames_decoded
    found = [round(s * FPS) for s in sheet.shot_starts[1:]]
    faces, others = labelled_faces()
    t = time.perf_counter()
    recall = float(np.mean([len(detect_faces(a)) > 0 for a in faces]))
    per_face_ms = (time.perf_counter() - t) / len(faces) * 1000
    false_alarms = float(np.mean([len(detect_faces(a)) > 0 for a in others]))
    bare, ours = statistics.median(bare_times), statistics.median(ours_times)
    write_summary("discover", {
        "clip": f"{n_frames / FPS / 60:.1f} min, {SIZE[0]}×{SIZE[1]} H.264 at {FPS} fps, {len(cuts) + 1} shots",
        "frames": n_frames, "bare_decode_s_median": round(bare, 2), "discover_s_median": round(ours, 2),
        "ratio_to_bare_decode": round(ours / bare, 3), "target_ratio": 1.5, "target_s": 120,
        "candidates": len(sheet.candidates), "near_duplicates_collapsed": sheet.collapsed,
        "shots": {"known_cuts": len(cuts), "found_cuts": len(found), **shot_scores(found, cuts)}, "target_f1": 0.95,
        "faces": {"recall_lfw_100": recall, "false_alarms_lfw_100_non_faces": false_alarms,
                  "ms_per_photo": round(per_face_ms, 2)}, "target_face_recall": 0.9,
        "peak_memory_mb": round(peak_memory_mb(path), 1), "target_peak_memory_mb": 1024,
        "runs": REPEATS, "date": time.strftime("%Y-%m-%d")})


if __name__ == "__main__":
    main()
