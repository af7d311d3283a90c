"""Artwork discovery commands: `artdash discover` (candidate stills from a video) and `artdash annotate`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from artdash import catalog
from artdash.cli.base import main, open_workspace, print_table
from artdash.cli.catalog import _find_title_id
from artdash.errors import ValidationError
from artdash.media.store import file_sha256


@main.command()
@click.argument("title_ref", metavar="TITLE")
@click.argument("video", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--top", default=20, show_default=True, type=click.IntRange(1, 500), help="Candidates to list.")
@click.option("--add", "add_ranks", default="", metavar="RANKS",
              help="Add these candidates as draft variants: ranks like 1,3,5 or 'all'.")
@click.option("--ratio", "ratios", multiple=True, metavar="W:H",
              help="Crops to derive from each added still (repeatable; default 2:3 and 16:9).")
@click.option("--keep-video", is_flag=True, help="Keep the video itself in <data>/videos (default: only its facts).")
def discover(title_ref, video, top, add_ranks, ratios, keep_video):
    """Find candidate stills of TITLE (an id or exact name) in VIDEO (MP4, MOV, MKV or WebM).

    Prints the best TOP candidates, best first: time code, shot, score (sharpness, exposure,
    contrast, steadiness; faces rank higher), faces and cast shot, focal point placement,
    and review flags. With --add, the chosen ones become draft variants of TITLE that
    remember their frame ("frame 00:12:31.4 of trailer.mp4"), each with crops around its
    focal point. Exit code 0 when everything asked for was added, 1 when some was refused.
    """
    from artdash.discover import find_candidates

    ws = open_workspace()
    with ws.session() as s:
        title_id = _find_title_id(s, title_ref)
    with click.progressbar(length=1000, label=f"searching {video.name}", file=sys.stderr) as bar:
        done = [0]

        def progress(fraction: float) -> None:
            step = int(fraction * 1000) - done[0]
            if step > 0:
                bar.update(step)
                done[0] += step

        sheet = find_candidates(video, video.name, top=top, limits=ws.settings.video_limits, progress=progress)
    click.echo(f"{sheet.facts.summary}: {len(sheet.shot_starts)} shots, {sheet.frames_decoded:,} frames, "
               f"{len(sheet.candidates)} candidates ({sheet.collapsed} near-duplicates collapsed)")
    if sheet.warning:
        click.secho(f"warning: {sheet.warning}", fg="yellow", err=True)
    import pandas as pd

    print_table(pd.DataFrame([{
        "rank": i, "time": c.timecode, "shot": c.shot + 1, "score": f"{c.score:.3f}",
        "sharp": f"{c.annotations.quality.sharpness:.2f}", "exposure": f"{c.annotations.quality.exposure:.2f}",
        "faces": len(c.annotations.faces), "shot kind": c.annotations.cast_shot,
        "focal": c.annotations.composition.placement, "review": "; ".join(c.annotations.flags)[:60],
    } for i, c in enumerate(sheet.candidates, start=1)]))
    if not add_ranks:
        return
    chosen = _ranks(add_ranks, len(sheet.candidates))
    picks = [catalog.Pick(sheet.candidates[r - 1]) for r in chosen]
    keep = video.read_bytes() if keep_video else None
    outcomes = catalog.add_stills(ws.sessions, ws.store, title_id, sheet, picks, ws.settings.user,
                                  video_sha256=None if keep is not None else file_sha256(video), keep=keep,
                                  videos=ws.videos, ratios=ratios or catalog.DEFAULT_RATIOS,
                                  limits=ws.settings.limits)
    refused = 0
    for o in outcomes:
        if o.variant_id is None:
            refused += 1
            click.echo(f"{click.style('✗', fg='red')} {o.timecode}: refused: {o.reason}")
        else:
            crops = ", ".join(f"#{i}" for i in o.crop_ids) or "none"
            click.echo(f"{click.style('✓', fg='green')} {o.timecode}: draft variant #{o.variant_id}, crops {crops}")
        for w in o.warnings:
            click.echo(f"    warning: {w}")
    sys.exit(1 if refused else 0)


def _ranks(text: str, n: int) -> list[int]:
    if text.strip().lower() == "all":
        return list(range(1, n + 1))
    try:
        ranks = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise ValidationError(f"--add {text!r}: give candidate ranks like 1,3,5 (or 'all')") from None
    bad = [r for r in ranks if not 1 <= r <= n]
    if bad or not ranks:
        raise ValidationError(f"--add {text!r}: ranks go from 1 to {n} (the list above)")
    return sorted(set(ranks))


@main.command()
@click.option("--title", "title_ref", default=None, metavar="TITLE", help="Only this title's variants.")
@click.option("--variant", "variant_ids", multiple=True, type=int, metavar="ID", help="Only these variants.")
def annotate(title_ref, variant_ids):
    """Read faces, focal point, cast shot and quality again off stored images (every variant,
    or those of --title / --variant); a focal point an editor set is kept."""
    ws = open_workspace()
    with ws.session() as s:
        ids = list(variant_ids) or None
        if title_ref is not None:
            ids = [v.id for v in catalog.list_variants(s, _find_title_id(s, title_ref))]
    with ws.transaction() as s, click.progressbar(length=1, label="annotating", file=sys.stderr) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(1)
        n = catalog.annotate_variants(s, ws.store, ws.settings.user, ids, progress=progress)
    click.echo(f"annotated {n} variants")
