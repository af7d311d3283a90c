"""A catalog manifest: many titles and images in one audited, all-or-nothing step."""

import io
import json
import zipfile

import artimages
import pytest
from sqlalchemy import select

from artdash import catalog
from artdash.catalog import ImageSource, ManifestError, import_manifest
from artdash.config import ImageLimits
from artdash.db.models import AuditEntry, Title, Variant
from artdash.errors import ValidationError

CSV = ("title,year,kind,synopsis,genres,cast,image,label,status\n"
       "Harbour Lights,2019,movie,A storm.,Drama,Ana Ruiz;Tom Ek,harbour/couple.png,Couple at dusk,active\n"
       "Harbour Lights,2019,movie,,,,harbour/lighthouse.png,,\n"
       "Night Train,,series,,,,train.png,Station,draft\n")


def folder(tmp_path, names=("harbour/couple.png", "harbour/lighthouse.png", "train.png")):
    root = tmp_path / "images"
    for i, name in enumerate(names):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(artimages.png(seed=60 + i))
    return root


def counts(ws):
    with ws.session() as s:
        return len(s.scalars(select(Title)).all()), len(s.scalars(select(Variant)).all())


def test_a_csv_manifest_with_a_folder_creates_every_title_and_variant(ws, tmp_path):
    report = import_manifest(ws.sessions, ws.store, CSV.encode(), "catalog.csv", ImageSource.folder(folder(tmp_path)),
                             "local-admin")
    assert (len(report.titles_created), len(report.variant_ids)) == (2, 3)
    with ws.session() as s:
        harbour = catalog.get_title(s, report.titles_created[0])
        assert (harbour.name, harbour.year, harbour.genres) == ("Harbour Lights", 2019, ("drama",))
        variants = {v.label: v for v in catalog.list_variants(s, harbour.id)}
        assert variants["Couple at dusk"].status == "active"
        assert variants["lighthouse"].status == "draft"  # no label given: from the file name
        train = catalog.get_title(s, report.titles_created[1])
        assert train.kind == "series" and [v.label for v in catalog.list_variants(s, train.id)] == ["Station"]
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity == "manifest")).one()
        assert entry.after["variants"] == 3 and entry.after["titles created"] == 2
    # Again with more images: the titles are found, not made twice; the known images are refused.
    with pytest.raises(ManifestError, match="nothing imported") as refused:
        import_manifest(ws.sessions, ws.store, CSV.encode(), "catalog.csv", ImageSource.folder(folder(tmp_path)),
                        "local-admin")
    assert {i.line for i in refused.value.issues} == {2, 3, 4}
    assert counts(ws) == (2, 3)


def test_a_json_manifest_with_a_zip_is_the_same_thing(ws, tmp_path):
    manifest = [{"title": "Harbour Lights", "year": 2019, "genres": ["Drama"], "cast": ["Ana Ruiz"],
                 "variants": [{"image": "couple.png", "status": "active"}, {"image": "lighthouse.png"}]}]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("pictures/couple.png", artimages.png(seed=70))
        zf.writestr("pictures/lighthouse.png", artimages.png(seed=71))
        zf.writestr("__MACOSX/._couple.png", b"junk")
    images = ImageSource.archive(buffer.getvalue(), ImageLimits())
    report = import_manifest(ws.sessions, ws.store, json.dumps(manifest).encode(), "catalog.json", images,
                             "local-admin")
    assert (len(report.titles_created), len(report.variant_ids)) == (1, 2)


def test_one_bad_image_or_row_and_nothing_is_created(ws, tmp_path):
    root = folder(tmp_path)
    (root / "train.png").write_bytes(b"not an image at all")
    bad = CSV + "Dawn,20x9,movie,,,,missing.png,,published\n"
    with pytest.raises(ManifestError) as refused:
        import_manifest(ws.sessions, ws.store, bad.encode(), "catalog.csv", ImageSource.folder(root), "local-admin")
    problems = {(i.line, i.column) for i in refused.value.issues}
    assert {(5, "image"), (5, "year"), (5, "status")} <= problems
    # The rows are checked first; then each image as an upload is, and one refusal stops all.
    with pytest.raises(ManifestError) as refused:
        import_manifest(ws.sessions, ws.store, CSV.encode(), "catalog.csv", ImageSource.folder(root), "local-admin")
    assert [(i.line, i.column) for i in refused.value.issues] == [(4, "image")]
    assert counts(ws) == (0, 0)


def test_a_hostile_zip_is_refused_before_anything_is_read(ws):
    def archive(name, data, method=zipfile.ZIP_STORED):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=method) as zf:
            zf.writestr(name, data)
        return buffer.getvalue()

    with pytest.raises(ValidationError, match="points outside"):
        ImageSource.archive(archive("../../etc/evil.png", b"x"), ImageLimits())
    with pytest.raises(ValidationError, match="expands"):
        ImageSource.archive(archive("bomb.png", b"\0" * (30 << 20), zipfile.ZIP_DEFLATED), ImageLimits())
    with pytest.raises(ValidationError, match="limited to"):
        ImageSource.archive(archive("big.png", b"\1" * (3 << 20)), ImageLimits(max_bytes=1 << 20))
    with pytest.raises(ValidationError, match="not a ZIP"):
        ImageSource.archive(b"PK\x03\x04 not really", ImageLimits())


def test_a_manifest_that_cannot_be_read_says_why(ws, tmp_path):
    images = ImageSource.folder(folder(tmp_path))
    for data, words in [(b"", "empty"), (b"\xff\xfe", "UTF-8"), (b"[{", "not valid JSON"),
                        (b"name,picture\nA,b.png\n", "title"), (b'{"title": "A", "variants": 3}', "variants"),
                        (b'[{"title": "A", "variants": [{"image": "a.png"}]}, {"title": "Harbour Lights", "variants": 3}]',
                         r"title 2 of the list \('Harbour Lights'\): 'variants' must be a list")]:   # named as the file names it
        with pytest.raises(ManifestError, match=words):
            import_manifest(ws.sessions, ws.store, data, "m.csv" if not data.startswith((b"[", b"{")) else "m.json",
                            images, "local-admin")


def test_a_refused_import_leaves_no_file_in_the_media_store(ws, tmp_path):
    """Trust pass 3: 80 good images then a bad one — the import is refused, and the 80 files it
    stored are gone with its rows (doctor finds no orphan); an image an earlier import stored stays."""
    from artdash.ops.doctor import examine

    root = tmp_path / "many"
    root.mkdir()
    lines = ["title,image"]
    for i in range(80):
        (root / f"still{i}.png").write_bytes(artimages.png(seed=200 + i))
        lines.append(f"Title {i},still{i}.png")
    (root / "broken.png").write_bytes(b"not an image at all")
    lines.append("Broken,broken.png")
    kept = import_manifest(ws.sessions, ws.store, CSV.encode(), "catalog.csv", ImageSource.folder(folder(tmp_path)),
                           "local-admin")
    before = sorted(p for p in ws.store.root.rglob("*") if p.is_file())
    with pytest.raises(ManifestError, match="nothing imported"):
        import_manifest(ws.sessions, ws.store, "\n".join(lines).encode(), "many.csv", ImageSource.folder(root),
                        "local-admin")
    assert sorted(p for p in ws.store.root.rglob("*") if p.is_file()) == before
    assert counts(ws) == (2, len(kept.variant_ids))
    assert not examine(ws).orphans


def test_a_zip_with_two_entries_of_one_name_is_refused(ws):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("pictures/couple.png", artimages.png(seed=70))
        zf.writestr("pictures/couple.png", artimages.png(seed=71))
    with pytest.raises(ValidationError, match="two files named 'pictures/couple.png'"):
        ImageSource.archive(buffer.getvalue(), ImageLimits())
