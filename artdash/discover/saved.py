"""Each title's last search, kept on disk until an editor clears it: a reload, a new browser tab
or a restart of the app shows the same contact sheet instead of dropping a search that took a
minute. The stills and what was read off them are kept (JSON beside JPEG files — nothing is
unpickled), never the video itself.

    >>> save_search(folder, 4, sheet, sha256)
    >>> load_search(folder, 4)          # (sheet, sha256), or None
    >>> clear_search(folder, 4)
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any, get_type_hints

from artdash.discover.sheet import Candidate, ContactSheet
from artdash.media.images.annotate import StillAnnotations
from artdash.media.images.composition import Composition
from artdash.media.images.faces import Face
from artdash.media.images.quality import StillQuality
from artdash.media.video.probe import VideoFacts

FORMAT = 1
MAX_CANDIDATES = 500
_NESTED = {StillAnnotations, Composition, Face, StillQuality, VideoFacts}


def _folder(root: Path, title_id: int) -> Path:
    return root / "discover" / f"title-{int(title_id)}"


def save_search(root: Path, title_id: int, sheet: ContactSheet, sha256: str) -> None:
    """Keep ``sheet`` (of the video hashed ``sha256``) as ``title_id``'s last search, replacing
    the one before; written beside and swapped in, so a crash leaves the old one or the new."""
    target = _folder(root, title_id)
    fresh = target.with_name(f".{target.name}-{uuid.uuid4().hex}")
    fresh.mkdir(parents=True)
    try:
        candidates = []
        for i, c in enumerate(sheet.candidates):
            (fresh / f"{i}.jpg").write_bytes(c.jpeg)
            (fresh / f"{i}-thumb.jpg").write_bytes(c.thumbnail)
            data = asdict(c)
            data.pop("jpeg"), data.pop("thumbnail")
            candidates.append(data)
        head = asdict(sheet)
        head["candidates"] = candidates
        (fresh / "sheet.json").write_text(json.dumps({"format": FORMAT, "sha256": sha256, "sheet": head}))
        old = target.with_name(f".{target.name}-old-{uuid.uuid4().hex}")
        if target.exists():
            target.rename(old)
        fresh.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def load_search(root: Path, title_id: int) -> tuple[ContactSheet, str] | None:
    """``title_id``'s last search and its video's hash; None when there is none, or when what is
    on disk cannot be read as one (an older format, a damaged file: it is cleared)."""
    folder = _folder(root, title_id)
    if not (folder / "sheet.json").is_file():
        return None
    try:
        saved = json.loads((folder / "sheet.json").read_text())
        if saved.get("format") != FORMAT or len(saved["sheet"]["candidates"]) > MAX_CANDIDATES:
            raise ValueError("another format")
        head = dict(saved["sheet"])
        candidates = tuple(_build(Candidate, {**c, "jpeg": (folder / f"{i}.jpg").read_bytes(),
                                              "thumbnail": (folder / f"{i}-thumb.jpg").read_bytes()})
                           for i, c in enumerate(head.pop("candidates")))
        sheet = _build(ContactSheet, {**head, "candidates": ()})
        return ContactSheet(sheet.facts, candidates, sheet.shot_starts, sheet.frames_decoded, sheet.collapsed,
                            sheet.warning), str(saved["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        clear_search(root, title_id)
        return None


def clear_search(root: Path, title_id: int) -> None:
    """Forget ``title_id``'s last search (nothing to do when there is none)."""
    shutil.rmtree(_folder(root, title_id), ignore_errors=True)


def _build(cls: Any, data: dict[str, Any]) -> Any:
    """A frozen dataclass from its ``asdict`` form: nested dataclasses and tuples rebuilt by the
    field types, unknown keys refused."""
    hints = get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    if set(data) - names:
        raise ValueError(f"unknown fields {sorted(set(data) - names)}")
    return cls(**{name: _value(hints[name], value) for name, value in data.items()})


def _value(kind: Any, value: Any) -> Any:
    if isinstance(kind, type) and is_dataclass(kind) and kind in _NESTED:
        if not isinstance(value, dict):
            raise ValueError(f"{kind.__name__} is not a mapping")
        return _build(kind, value)
    origin = getattr(kind, "__origin__", None)
    if origin is tuple:
        args = getattr(kind, "__args__", ())
        inner = args[0] if args else Any
        return tuple(_value(inner, v) for v in value)
    return value
