"""A click log shaped the way real exports are (a public bandit dataset's shape): an unnamed
index column first, 80+ columns of which ArtDash reads 9, mixed-case names, clicks and no play
durations, and events numbered from 0 in every file."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

AFFINITIES = 80
MAPPING = ("=event_id", "userId=member_id", "titleName=title_id", "item_id=variant_id",
           "policyName=policy", "propensity_score=propensity", "click=played", "Experiment=experiment",
           "Cell=cell")
CELLS = {"uniform": 0.05, "personalised": 0.08}     # each cell's true click rate


def export_csv(path: Path, titles: Sequence[tuple[str, Sequence[int]]], n: int, day: str, seed: int) -> Path:
    """Write ``n`` events (numbered 0…n-1) of ``titles`` (name, variant ids) on ``day`` to
    ``path``; each member stays in one cell, chosen by their number."""
    rng = random.Random(seed)
    header = ["", "timestamp", "item_id", "position", "click", "propensity_score", "userId", "titleName",
              "Experiment", "Cell", "policyName", *(f"user_feature_{i}" for i in range(4)),
              *(f"user-item_affinity_{i}" for i in range(AFFINITIES))]
    lines = [",".join(header)]
    for i in range(n):
        member = rng.randrange(400)
        cell = "personalised" if member % 2 else "uniform"
        name, variants = titles[rng.randrange(len(titles))]
        variant = variants[rng.randrange(len(variants))]
        clicked = rng.random() < CELLS[cell]
        stamp = f"{day} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}"
        lines.append(",".join([str(i), stamp, str(variant), str(1 + i % 3), str(int(clicked)),
                               f"{1 / len(variants):.6f}", f"U{member:04d}", name, "obd-campaign", cell,
                               "bts" if cell == "personalised" else "random",
                               *(f"{rng.random():.3f}" for _ in range(4)),
                               *(f"{rng.random():.2f}" for _ in range(AFFINITIES))]))
    path.write_text("\n".join(lines) + "\n")
    return path


def map_args() -> list[str]:
    """The command line's --map options for this shape."""
    return [arg for m in MAPPING for arg in ("--map", m)]
