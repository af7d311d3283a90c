"""A demo trailer: a short clip cut from artwork already in the catalog (one shot per image, with
pans and zooms), so a newcomer can try Discover without a video of their own."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from artdash.db.models import Variant
from artdash.media.video.assemble import assemble_clip
from artdash.workspace import Workspace

SHOTS = 8


def demo_trailer(ws: Workspace, title_id: int | None = None, seconds_per_shot: float = 2.5) -> bytes:
    """The MP4 bytes of a clip made of up to eight images of the title (the catalog's, if it has
    fewer than three). Refuses an empty catalog."""
    with ws.session() as s:
        query = select(Variant.sha256, Variant.media_ext).order_by(Variant.id)
        rows = s.execute(query.where(Variant.title_id == title_id)).all() if title_id is not None else []
        if len(rows) < 3:
            rows = s.execute(query.limit(SHOTS)).all()
    if not rows:
        raise ValueError("the catalog has no artwork to cut a demo trailer from; upload some images first")
    pictures = [Image.open(io.BytesIO(ws.store.read(sha, ext))).convert("RGB") for sha, ext in rows[:SHOTS]]
    with tempfile.TemporaryDirectory(prefix="artdash-trailer-") as folder:
        clip = assemble_clip(pictures, Path(folder) / "demo-trailer.mp4", seconds_per_shot=seconds_per_shot,
                             size=(960, 540))
        return clip.path.read_bytes()
