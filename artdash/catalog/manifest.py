"""Many titles and variants in one step: a manifest (CSV or JSON) plus a folder or ZIP of images.

CSV, one row per image (title columns repeat; a title is created on its first row, or found
if the catalog has it — same name, year and kind — and then left as it is)::

    title,year,kind,synopsis,genres,cast,image,label,status
    Harbour Lights,2019,movie,A storm.,Drama;Romance,Ana Ruiz;Tom Ek,harbour/couple.jpg,Couple,active

JSON, the same as a list of titles each with its ``variants`` (``genres`` and ``cast`` as
lists). Every image goes through the same validation as an upload. The whole manifest is one
transaction: any bad row or refused image and nothing is created, with every problem listed
by line (and the audit trail records the import once it has gone in).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from artdash import intake
from artdash.access import audit
from artdash.access.auth import authorize
from artdash.catalog.titles import create_title
from artdash.catalog.uploads import ingest_image
from artdash.catalog.variants import set_variant_label, set_variant_status
from artdash.config import ImageLimits
from artdash.db.models import Title, Variant
from artdash.errors import RowIssue, RowsRefused, ValidationError
from artdash.media.store import MediaStore

COLUMNS = ("title", "year", "kind", "synopsis", "genres", "cast", "image", "label", "status")
MAX_ROWS = 10_000
MAX_MANIFEST_BYTES = 16 << 20
MAX_MEMBERS = 20_000              # entries in an images ZIP
MAX_RATIO = 200                   # uncompressed / compressed per member (images hardly compress)


class ManifestError(RowsRefused):
    """A manifest that was not imported; ``issues`` says why, line by line. Nothing was created."""


@dataclass(frozen=True)
class ManifestRow:
    """One image of the manifest and the title it belongs to."""
    line: int
    title: str
    year: str = ""
    kind: str = "movie"
    synopsis: str = ""
    genres: tuple[str, ...] = ()
    cast: tuple[str, ...] = ()
    image: str = ""
    label: str = ""
    status: str = "draft"


@dataclass(frozen=True)
class ManifestReport:
    """What an import created."""
    titles_created: tuple[int, ...]
    titles_reused: tuple[int, ...]
    variant_ids: tuple[int, ...]
    warnings: tuple[str, ...] = field(default=())
    images_with_warnings: int = 0


# --- the images ---------------------------------------------------------------------------

def _clean_name(name: str) -> str | None:
    """A member or file name as a relative POSIX path, or None when it points outside."""
    path = PurePosixPath(name.replace("\\", "/").lstrip("/"))
    if not path.parts or any(p in ("..", "") for p in path.parts) or ":" in path.parts[0]:
        return None
    return path.as_posix().removeprefix("./")


def _reader(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], bytes]:
    return lambda: zf.read(info)


class ImageSource:
    """Images by relative name, from a folder or a ZIP; a name may also be given without its
    folders when only one image has that file name."""

    def __init__(self, files: dict[str, Callable[[], bytes]]):
        self._files = files
        by_base: dict[str, list[str]] = {}
        for name in files:
            by_base.setdefault(PurePosixPath(name).name.casefold(), []).append(name)
        self._by_base = by_base

    @classmethod
    def folder(cls, root: Path) -> ImageSource:
        """Every file under ``root`` (links that lead outside it are left out)."""
        root = Path(root).resolve()
        if not root.is_dir():
            raise ValidationError(f"{root} is not a folder of images")
        files: dict[str, Callable[[], bytes]] = {}
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.resolve().is_relative_to(root):
                files[path.relative_to(root).as_posix()] = path.read_bytes
        return cls(files)

    @classmethod
    def archive(cls, data: bytes, limits: ImageLimits) -> ImageSource:
        """The images inside a ZIP, checked before any is read: entry count, each entry's size
        against the upload limit, and its compression ratio (a ZIP bomb is refused)."""
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            infos = [i for i in zf.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, OSError, ValueError):
            raise ValidationError("the images file is not a ZIP archive (or it is damaged)") from None
        if len(infos) > MAX_MEMBERS:
            raise ValidationError(f"the ZIP holds {len(infos):,} files; at most {MAX_MEMBERS:,} per import")
        files: dict[str, Callable[[], bytes]] = {}
        for info in infos:
            name = _clean_name(info.filename)
            if name is None:
                raise ValidationError(f"the ZIP entry {info.filename[:80]!r} points outside the archive; refused")
            if name.startswith("__MACOSX/") or PurePosixPath(name).name.startswith("."):
                continue
            if info.file_size > limits.max_bytes:
                raise ValidationError(f"{name!r} in the ZIP is {info.file_size >> 20} MB; uploads are limited to "
                                      f"{limits.max_bytes >> 20} MB per image")
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > 1 << 20:
                raise ValidationError(f"{name!r} in the ZIP expands {info.file_size // info.compress_size}× — not an "
                                      "image; refused")
            if name in files:     # two entries of one name: which one the manifest means is unknowable
                raise ValidationError(f"the ZIP holds two files named {name[:120]!r}; keep one (or rename one and "
                                      "say which in the manifest)")
            files[name] = _reader(zf, info)
        return cls(files)

    def find(self, name: str) -> str | None:
        """The stored name ``name`` refers to (exact path, or a unique file name), or None."""
        clean = _clean_name(name)
        if clean is None:
            return None
        if clean in self._files:
            return clean
        matches = self._by_base.get(PurePosixPath(clean).name.casefold(), [])
        return matches[0] if len(matches) == 1 else None

    def read(self, name: str) -> bytes:
        """The bytes of a stored image."""
        return self._files[name]()

    def __len__(self) -> int:
        return len(self._files)


# --- the manifest -------------------------------------------------------------------------

def _split(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(v.strip() for v in str(value or "").split(";") if v.strip())


def _row(line: int, data: dict[str, Any]) -> ManifestRow:
    text = {k: str(data.get(k) if data.get(k) is not None else "").strip() for k in COLUMNS}
    return ManifestRow(line=line, title=text["title"], year=text["year"], kind=text["kind"].lower() or "movie",
                       synopsis=text["synopsis"], genres=_split(data.get("genres")), cast=_split(data.get("cast")),
                       image=text["image"], label=text["label"], status=text["status"].lower() or "draft")


def parse_manifest(data: bytes, file_name: str) -> list[ManifestRow]:
    """The rows of a CSV or JSON manifest; refuses one that cannot be read, with why."""
    if not data:
        raise ManifestError("the manifest is empty")
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"the manifest is larger than {MAX_MANIFEST_BYTES >> 20} MB; split it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ManifestError("the manifest is not UTF-8 text; save it as UTF-8") from None
    if file_name.lower().endswith(".json") or text.lstrip().startswith(("[", "{")):
        try:
            titles = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"the manifest is not valid JSON (line {exc.lineno}: {exc.msg})") from None
        if isinstance(titles, dict):
            titles = titles.get("titles", [titles])
        if not isinstance(titles, list) or not all(isinstance(t, dict) for t in titles):
            raise ManifestError('a JSON manifest is a list of titles: [{"title": …, "variants": [{"image": …}]}]')
        rows = []
        for number, entry in enumerate(titles, start=1):
            variants = entry.get("variants") or [{}]
            if not isinstance(variants, list) or not all(isinstance(v, dict) for v in variants):
                named = f" ({str(entry['title'])[:80]!r})" if entry.get("title") else ""
                raise ManifestError(f"title {number} of the list{named}: 'variants' must be a list of objects "
                                    "with an 'image'")
            rows += [_row(number, {**entry, **variant}) for variant in variants]
    else:
        try:
            header = next(csv.reader([text.splitlines()[0] if text else ""]), [])
            intake.check_columns(header, ("title", "image"))
            missing = [c for c in ("title", "image") if c not in {h.strip().lower() for h in header}]
            if missing:
                raise ManifestError(f"missing column(s): {', '.join(missing)}. The manifest has: {intake.some(header)}. "
                                    f"Its columns are: {', '.join(COLUMNS)} (title and image are required)")
            reader = csv.DictReader(io.StringIO(text))
            rows = [_row(i, {(k or "").strip().lower(): v for k, v in record.items()})
                    for i, record in enumerate(reader, start=2)]
        except csv.Error as exc:
            raise ManifestError(f"the manifest is not valid CSV ({exc})") from None
        except ManifestError:
            raise
        except ValidationError as exc:
            raise ManifestError(str(exc)) from None
    if not rows:
        raise ManifestError("the manifest lists no images")
    if len(rows) > MAX_ROWS:
        raise ManifestError(f"the manifest lists {len(rows):,} images; at most {MAX_ROWS:,} per import")
    return rows


def _check(rows: Sequence[ManifestRow], images: ImageSource) -> list[RowIssue]:
    issues = []
    for r in rows:
        if not r.title:
            issues.append(RowIssue(r.line, "title", "no title name"))
        if not r.image:
            issues.append(RowIssue(r.line, "image", "no image file named"))
        elif images.find(r.image) is None:
            issues.append(RowIssue(r.line, "image", f"{r.image[:120]!r} is not among the images (or its file "
                                                         "name is not unique there: give its folder too)"))
        if r.year and not (r.year.isdigit() and len(r.year) == 4):
            issues.append(RowIssue(r.line, "year", f"year {r.year[:20]!r}: give four digits, or leave it empty"))
        if r.status not in ("draft", "active"):
            issues.append(RowIssue(r.line, "status", f"status {r.status!r}: use draft or active"))
    return issues


def _refusal(issues: Sequence[RowIssue]) -> str:
    n = len(issues)
    return f"nothing imported: {n:,} problem{'' if n == 1 else 's'} in the manifest"


def _remove_unreferenced(sessions: sessionmaker[Session], store: MediaStore, files: list[tuple[str, str]]) -> None:
    """Delete the files an import wrote that no variant refers to (the import's rows rolled back)."""
    if not files:
        return
    with sessions() as session:
        kept = set(session.scalars(select(Variant.sha256).where(Variant.sha256.in_([k for k, _ in files]))))
    for key, ext in files:
        if key not in kept:
            store.delete(key, ext)


def import_manifest(sessions: sessionmaker[Session], store: MediaStore, data: bytes, file_name: str,
                    images: ImageSource, actor: str, limits: ImageLimits | None = None,
                    progress: Callable[[int, int], None] | None = None) -> ManifestReport:
    """Create the manifest's titles and variants in one transaction (editors). Raises
    :class:`ManifestError` listing every problem, with nothing created."""
    rows = parse_manifest(data, file_name)
    issues = _check(rows, images)
    if issues:
        raise ManifestError(_refusal(issues), issues)
    created: dict[tuple[str, str, str], int] = {}
    reused: dict[tuple[str, str, str], int] = {}
    variant_ids: list[int] = []
    warnings: list[str] = []
    stored_files: list[tuple[str, str]] = []      # (sha256, ext) written by this import
    warned = 0                                    # images with at least one warning
    try:
        with sessions() as session, session.begin():
            authorize(session, actor, "editor")
            for done, r in enumerate(rows, start=1):
                key = (r.title.casefold(), r.year, r.kind)
                title_id = created.get(key) or reused.get(key)
                try:
                    if title_id is None:
                        year = int(r.year) if r.year else None
                        title_id = session.scalar(
                            select(Title.id).where(func.lower(Title.name) == r.title.lower(), Title.kind == r.kind,
                                                   Title.year.is_(None) if year is None else Title.year == year))
                        if title_id is not None:
                            reused[key] = title_id
                        else:
                            title_id = create_title(session, name=r.title, actor=actor, year=r.year or None, kind=r.kind,
                                                    synopsis=r.synopsis, genres=r.genres, cast=r.cast).id
                            created[key] = title_id
                    stored = images.find(r.image)
                    assert stored is not None  # checked above
                    result = ingest_image(session, store, title_id, PurePosixPath(stored).name, images.read(stored),
                                          actor, limits)
                except ValidationError as exc:
                    issues.append(RowIssue(r.line, "title", str(exc)))
                    continue
                if not result.accepted:
                    issues.append(RowIssue(r.line, "image", f"{result.file_name}: {result.reason}"))
                    continue
                assert result.variant_id is not None
                variant = session.get(Variant, result.variant_id)
                if variant is not None:
                    stored_files.append((variant.sha256, variant.media_ext))
                if r.label:
                    set_variant_label(session, result.variant_id, r.label, actor)
                if r.status == "active":
                    set_variant_status(session, result.variant_id, "active", actor)
                variant_ids.append(result.variant_id)
                warnings += [f"line {r.line}: {w}" for w in result.warnings]
                warned += bool(result.warnings)
                if progress:
                    progress(done, len(rows))
            if issues:  # the transaction rolls back: nothing of the manifest stays
                raise ManifestError(_refusal(issues), issues)
            audit.record(session, actor, "import", "manifest", file_name[:80],
                         after={"file": file_name[:200], "titles created": len(created), "titles reused": len(reused),
                                "variants": len(variant_ids)})
    except BaseException:
        _remove_unreferenced(sessions, store, stored_files)   # a refused import leaves no file behind
        raise
    return ManifestReport(tuple(created.values()), tuple(reused.values()), tuple(variant_ids), tuple(warnings),
                          warned)
