"""Editorial operations on a real database (SQLite file and PostgreSQL) and a real media store."""

import artimages
import pytest

from artdash import catalog
from artdash.catalog.taxonomy import find_tag
from artdash.config import ImageLimits
from artdash.errors import ConflictError, DuplicateError, NotFoundError, ValidationError

ED = "editor-ann"


def new_title(ws, name="Harbour Lights", **kwargs):
    with ws.transaction() as s:
        return catalog.create_title(s, name=name, actor=ED, **kwargs)


def upload(ws, title_id, *files, limits=None):
    return catalog.upload_files(ws.sessions, ws.store, title_id, list(files), ED, limits or ws.settings.limits)


def tag_id(ws, facet, name):
    with ws.session() as s:
        return find_tag(s, facet, name).id


def count_variants(ws):
    with ws.session() as s:
        return catalog.catalog_counts(s)["variants"]


def media_files(ws):
    return sorted(p for p in ws.store.root.rglob("*") if p.is_file())


# ------------------------------------------------------------------------------ titles

def test_create_title_with_genres_and_cast(ws):
    title = new_title(ws, year="2019", kind="movie", synopsis="  Two keepers of a light.  ",
                      genres=["Romance", "drama"], cast=["Ava Marlowe", " Jonah  Reyes "])
    assert (title.name, title.year, title.kind, title.synopsis) == ("Harbour Lights", 2019, "movie",
                                                                     "Two keepers of a light.")
    assert title.genres == ("drama", "romance")
    assert title.cast == ("Ava Marlowe", "Jonah Reyes")
    with ws.session() as s:
        assert [t.name for t in catalog.list_titles(s)] == ["Harbour Lights"]
        assert catalog.list_titles(s, genre="romance")[0].id == title.id
        assert catalog.list_titles(s, genre="horror") == []
        assert catalog.list_titles(s, search="harb")[0].id == title.id


@pytest.mark.parametrize("fields, words", [
    ({"name": ""}, "needs a name"),
    ({"name": "   "}, "needs a name"),
    ({"name": "x" * 201}, "201 characters"),
    ({"name": "Bad\x07Name"}, "control characters"),
    ({"name": "Ok", "year": "next year"}, "not a number"),
    ({"name": "Ok", "year": 1500}, "outside"),
    ({"name": "Ok", "kind": "podcast"}, "not one of"),
    ({"name": "Ok", "genres": ["polka"]}, "not a genre"),
])
def test_bad_title_fields_are_refused_and_nothing_is_stored(ws, fields, words):
    with pytest.raises(ValidationError, match=words):
        new_title(ws, **fields)
    with ws.session() as s:
        assert catalog.catalog_counts(s)["titles"] == 0


def test_duplicate_title_is_refused(ws):
    new_title(ws, year=2019)
    with pytest.raises(DuplicateError, match="already has"):
        new_title(ws, name="harbour lights", year=2019)
    new_title(ws, year=2020)  # a remake is another title


def test_update_title_and_refuse_a_stale_edit(ws):
    title = new_title(ws, genres=["romance"])
    with ws.transaction() as s:
        updated = catalog.update_title(s, title.id, actor="bo", expected_version=title.version, name="Harbour Lights",
                                       year=2019, kind="series", synopsis="New", genres=["drama"], cast=["A. Person"])
    assert (updated.kind, updated.genres, updated.cast, updated.version) == ("series", ("drama",), ("A. Person",), 2)
    with pytest.raises(ConflictError, match="changed this title meanwhile") as conflict:
        with ws.transaction() as s:
            catalog.update_title(s, title.id, actor="cy", expected_version=title.version, name="Stale",
                                 year=None, kind="movie", synopsis="", genres=[])
    assert conflict.value.current.synopsis == "New"
    with ws.session() as s:
        assert catalog.get_title(s, title.id).name == "Harbour Lights"


def test_changing_only_a_titles_tags_is_a_new_version(ws):
    """The same editor changing nothing but the genres used to leave the version as it was, so
    another editor's stale form could silently undo the change."""
    title = new_title(ws, genres=["romance"])
    fields = {"name": title.name, "year": title.year, "kind": title.kind, "synopsis": title.synopsis}
    with ws.transaction() as s:
        first = catalog.update_title(s, title.id, actor=ED, expected_version=title.version, genres=["romance"],
                                     **fields)
    with ws.transaction() as s:
        second = catalog.update_title(s, title.id, actor=ED, expected_version=first.version, genres=["comedy"],
                                      **fields)
    assert second.version == first.version + 1 and second.genres == ("comedy",)
    with pytest.raises(ConflictError), ws.transaction() as s:  # a form opened at the first version
        catalog.update_title(s, title.id, actor="bo", expected_version=first.version, genres=["drama"], **fields)
    with ws.session() as s:
        assert catalog.get_title(s, title.id).genres == ("comedy",)


EDIT_CHILD = """
from artdash import catalog
from artdash.config import Settings
from artdash.errors import ConflictError
from artdash.workspace import Workspace

url, data_dir, title_id, version, genre = sys.argv[1:6]
ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": data_dir, "ARTDASH_DATABASE_URL": url}), migrate=False)
with ws.session() as s:
    title = catalog.get_title(s, int(title_id))
fields = {"name": title.name, "year": title.year, "kind": title.kind, "synopsis": title.synopsis}
print("ready", flush=True)
sys.stdin.readline()
try:
    with ws.transaction() as s:
        catalog.update_title(s, int(title_id), actor="editor-ann", expected_version=int(version), genres=[genre],
                             **fields)
    print("saved", flush=True)
except ConflictError:
    print("conflict", flush=True)
ws.close()
"""


def test_two_tag_edits_at_once_from_two_processes_one_is_told(ws, tmp_path):
    """Two editors' forms open at the same version, saved at the same moment by two server
    processes: one saves, the other is told — never two "saved" and one change lost."""
    from workspaces import run_at_once

    title = new_title(ws, genres=["romance"])
    fields = {"name": title.name, "year": title.year, "kind": title.kind, "synopsis": title.synopsis}
    with ws.transaction() as s:  # the same editor last: only association rows would change
        title = catalog.update_title(s, title.id, actor=ED, expected_version=title.version, genres=["romance"],
                                     **fields)
    answers = sorted(run_at_once(EDIT_CHILD, [[ws.settings.database_url, str(ws.settings.data_dir), str(title.id),
                                               str(title.version), genre] for genre in ("comedy", "drama")]))
    assert answers == ["conflict", "saved"], answers
    with ws.session() as s:
        assert catalog.get_title(s, title.id).version == title.version + 1


# ------------------------------------------------------------------------------ uploads

def test_several_files_one_bad_never_blocks_the_others(ws):
    title = new_title(ws)
    report = upload(ws, title.id, ("couple.jpg", artimages.jpeg(seed=1)), ("notes.jpg", b"just text"),
                    ("square.png", artimages.png((800, 800), seed=2)), ("empty.jpg", b""))
    assert [r.outcome for r in report.results] == ["accepted", "refused", "accepted with warnings", "refused"]
    assert (report.n_accepted, report.n_refused) == (2, 2)
    with ws.session() as s:
        variants = catalog.list_variants(s, title.id)
    assert [v.label for v in variants] == ["couple", "square"]
    assert all(v.status == "draft" for v in variants)
    # Files: one original and one thumbnail per accepted image, named by hash.
    for v in variants:
        assert ws.store.original_path(v.sha256, v.media_ext).is_file()
        assert ws.store.thumbnail_path(v.sha256).is_file()
    assert len(media_files(ws)) == 4
    rows = report.rows()
    assert rows[1]["outcome"] == "refused" and "text file" in rows[1]["why / warnings"]


def test_exact_duplicate_is_refused_and_names_its_twin(ws):
    title = new_title(ws)
    data = artimages.jpeg(seed=3)
    first = upload(ws, title.id, ("a.jpg", data)).results[0]
    again = upload(ws, title.id, ("b.jpg", data)).results[0]
    assert not again.accepted
    assert f"variant #{first.variant_id}" in again.reason and "Harbour Lights" in again.reason
    assert count_variants(ws) == 1


def test_same_pixels_with_other_metadata_is_an_exact_duplicate(ws):
    title = new_title(ws)
    upload(ws, title.id, ("plain.jpg", artimages.jpeg(seed=4)))
    import io

    from PIL import Image
    exif = Image.Exif()
    exif[0x0110] = "Other camera"
    original = Image.open(io.BytesIO(artimages.jpeg(seed=4)))
    # Same compressed image data, different metadata: insert an EXIF segment by hand.
    plain = artimages.jpeg(seed=4)
    exif_bytes = exif.tobytes()
    segment = b"\xff\xe1" + (len(exif_bytes) + 8).to_bytes(2, "big") + b"Exif\x00\x00" + exif_bytes
    with_exif = plain[:2] + segment + plain[2:]
    assert original.size == (600, 900)
    result = upload(ws, title.id, ("tagged.jpg", with_exif)).results[0]
    assert not result.accepted and "already in the catalog" in result.reason


def test_near_duplicate_is_flagged_with_its_twin(ws):
    title = new_title(ws)
    first = upload(ws, title.id, ("big.jpg", artimages.jpeg((1000, 1500), seed=5))).results[0]
    smaller = artimages.encode(artimages.picture((1000, 1500), seed=5).resize((600, 900)), "JPEG", quality=80)
    twin = upload(ws, title.id, ("small.jpg", smaller)).results[0]
    assert twin.accepted
    assert twin.near_duplicate.variant_id == first.variant_id
    assert any(f"variant #{first.variant_id}" in w for w in twin.warnings)
    with ws.session() as s:
        assert catalog.get_variant(s, twin.variant_id).near_duplicate_of_id == first.variant_id


def test_file_over_the_limit_is_refused_and_nothing_is_written(ws):
    title = new_title(ws)
    data = artimages.jpeg((800, 1200))
    report = upload(ws, title.id, ("big.jpg", data), limits=ImageLimits(max_bytes=len(data) // 2))
    assert not report.results[0].accepted and "limit" in report.results[0].reason
    assert count_variants(ws) == 0 and media_files(ws) == []


def test_upload_to_an_unknown_title_is_one_clear_error(ws):
    with pytest.raises(NotFoundError, match="title #999"):
        upload(ws, 999, ("a.jpg", artimages.jpeg()))


def test_upload_suggests_visual_tags_from_features(ws):
    from PIL import Image

    title = new_title(ws)
    dark = artimages.encode(Image.new("RGB", (600, 900), (10, 12, 30)), "PNG")
    result = upload(ws, title.id, ("night.png", dark)).results[0]
    with ws.session() as s:
        variant = catalog.get_variant(s, result.variant_id)
    suggested = {sug.tag.name: sug.reason for sug in variant.pending_suggestions}
    assert "dark" in suggested and "brightness" in suggested["dark"]
    assert "bright" not in suggested


# ------------------------------------------------------------------------------ tags, status, lineage

@pytest.fixture
def two_variants(ws):
    title = new_title(ws)
    report = upload(ws, title.id, ("one.jpg", artimages.jpeg(seed=10)), ("two.jpg", artimages.jpeg(seed=11)))
    return title, [r.variant_id for r in report.results]


def test_tag_a_variant_and_refuse_a_stale_tag_edit(ws, two_variants):
    _, (v1, _) = two_variants
    romantic, couple = tag_id(ws, "tone", "romantic"), tag_id(ws, "visual", "couple")
    with ws.session() as s:
        before = catalog.get_variant(s, v1)
    with ws.transaction() as s:
        after = catalog.set_variant_tags(s, v1, [romantic, couple], ED, expected_version=before.version)
    assert [t.label for t in after.tags] == ["tone: romantic", "visual: couple"]
    assert after.version == before.version + 1
    with pytest.raises(ConflictError, match="changed variant"):
        with ws.transaction() as s:
            catalog.set_variant_tags(s, v1, [], "someone-else", expected_version=before.version)
    with ws.session() as s:
        assert len(catalog.get_variant(s, v1).tags) == 2


def test_bulk_tagging_adds_and_removes(ws, two_variants):
    _, ids = two_variants
    dark, funny = tag_id(ws, "tone", "dark"), tag_id(ws, "tone", "funny")
    with ws.transaction() as s:
        assert catalog.bulk_tag(s, ids, ED, add=[dark, funny]) == 2
    with ws.transaction() as s:
        assert catalog.bulk_tag(s, ids, ED, remove=[funny]) == 2
        assert catalog.bulk_tag(s, ids, ED, remove=[funny]) == 0
    with ws.session() as s:
        assert all([t.name for t in catalog.get_variant(s, i).tags] == ["dark"] for i in ids)
    with pytest.raises(ValidationError, match="both added and removed"):
        with ws.transaction() as s:
            catalog.bulk_tag(s, ids, ED, add=[dark], remove=[dark])
    with pytest.raises(ValidationError, match="at least one variant"):
        with ws.transaction() as s:
            catalog.bulk_tag(s, [], ED, add=[dark])


def test_accept_and_reject_suggestions(ws):
    from PIL import Image

    title = new_title(ws)
    bright = artimages.encode(Image.new("RGB", (600, 900), (250, 200, 40)), "PNG")
    variant_id = upload(ws, title.id, ("sunny.png", bright)).results[0].variant_id
    with ws.session() as s:
        pending = {sug.tag.name: sug.tag.id for sug in catalog.get_variant(s, variant_id).pending_suggestions}
    assert {"bright", "warm palette"} <= set(pending)
    with ws.transaction() as s:
        catalog.decide_suggestion(s, variant_id, pending["bright"], True, ED)
        after = catalog.decide_suggestion(s, variant_id, pending["warm palette"], False, ED)
    assert [t.name for t in after.tags] == ["bright"]
    states = {sug.tag.name: sug.status for sug in after.suggestions}
    assert states["bright"] == "accepted" and states["warm palette"] == "rejected"


def test_status_lifecycle(ws, two_variants):
    _, (v1, _) = two_variants
    with ws.transaction() as s:
        assert catalog.set_variant_status(s, v1, "active", ED).status == "active"
    with pytest.raises(ValidationError, match="can become retired, not draft"):
        with ws.transaction() as s:
            catalog.set_variant_status(s, v1, "draft", ED)
    with ws.transaction() as s:
        assert catalog.set_variant_status(s, v1, "retired", ED).status == "retired"
        assert catalog.set_variant_status(s, v1, "active", ED).status == "active"
    with pytest.raises(ValidationError):
        with ws.transaction() as s:
            catalog.set_variant_status(s, v1, "deleted", ED)


def test_lineage_crop_and_localisation(ws, two_variants):
    title, (v1, v2) = two_variants
    with ws.transaction() as s:
        crop = catalog.set_lineage(s, v2, v1, ED, kind="crop")
        assert (crop.parent_id, crop.lineage_kind) == (v1, "crop")
        assert catalog.lineage_root(s, v2) == v1
    with pytest.raises(ValidationError, match="circle"):
        with ws.transaction() as s:
            catalog.set_lineage(s, v1, v2, ED, kind="crop")
    with pytest.raises(ValidationError, match="itself"):
        with ws.transaction() as s:
            catalog.set_lineage(s, v1, v1, ED, kind="crop")
    with pytest.raises(ValidationError, match="needs its locale"):
        with ws.transaction() as s:
            catalog.set_lineage(s, v2, v1, ED, kind="localisation")
    with ws.transaction() as s:
        local = catalog.set_lineage(s, v2, v1, ED, kind="localisation", locale="fr-FR")
        assert (local.lineage_kind, local.locale) == ("localisation", "fr-FR")
        cleared = catalog.set_lineage(s, v2, None, ED)
        assert cleared.parent_id is None and cleared.lineage_kind is None
    other = new_title(ws, name="Other")
    v3 = upload(ws, other.id, ("x.jpg", artimages.jpeg(seed=12))).results[0].variant_id
    with pytest.raises(ValidationError, match="one title"):
        with ws.transaction() as s:
            catalog.set_lineage(s, v3, v1, ED, kind="crop")


def test_covers_and_counts(ws, two_variants):
    title, (v1, v2) = two_variants
    with ws.transaction() as s:
        catalog.set_variant_status(s, v2, "active", ED)
    with ws.session() as s:
        listed = catalog.list_titles(s)[0]
        assert (listed.n_variants, listed.n_active, listed.n_draft) == (2, 1, 1)
        assert listed.cover.id == v2
        assert catalog.catalog_counts(s) == {"titles": 1, "variants": 2, "active": 1, "draft": 1, "retired": 0}


def test_editors_pick_must_be_an_active_variant_of_the_title(ws, two_variants):
    title, (v1, v2) = two_variants
    with pytest.raises(ValidationError, match="only an active variant"):
        with ws.transaction() as s:
            catalog.set_editors_pick(s, title.id, v1, ED)
    with ws.transaction() as s:
        catalog.set_variant_status(s, v1, "active", ED)
        assert catalog.set_editors_pick(s, title.id, v1, ED) == v1
        assert catalog.editors_pick(s, title.id) == v1
        catalog.set_editors_pick(s, title.id, None, ED)
        assert catalog.editors_pick(s, title.id) is None
    other = new_title(ws, name="Other")
    with pytest.raises(ValidationError, match="another title"):
        with ws.transaction() as s:
            catalog.set_editors_pick(s, other.id, v1, ED)


def test_a_mistaken_draft_can_be_deleted_but_nothing_that_went_live(ws, two_variants):
    _, (v1, v2) = two_variants
    with ws.transaction() as s:
        catalog.set_variant_status(s, v2, "active", ED)
        catalog.set_lineage(s, v2, v1, ED, "crop")
    with ws.transaction() as s:
        key = catalog.delete_draft(s, v1, ED)
    ws.store.delete(*key)
    assert not ws.store.exists(*key) and not ws.store.thumbnail_path(key[0]).exists()
    with ws.session() as s:
        with pytest.raises(NotFoundError):
            catalog.get_variant(s, v1)
        assert catalog.get_variant(s, v2).parent_id is None  # the child forgets its parent
    with pytest.raises(ValidationError, match="only drafts"), ws.transaction() as s:
        catalog.delete_draft(s, v2, ED)


def test_bulk_status_is_all_or_nothing_and_names_what_cannot_move(ws):
    from artdash.errors import ValidationError

    with ws.transaction() as s:
        title = catalog.create_title(s, name="Bulk", actor="local-admin")
        ids = [catalog.ingest_image(s, ws.store, title.id, f"v{i}.png", artimages.png(seed=40 + i), "local-admin").variant_id
               for i in range(3)]
    with ws.transaction() as s:
        assert catalog.bulk_status(s, ids[1:], "active", "local-admin") == (2, 0)
    with ws.transaction() as s:
        catalog.set_variant_status(s, ids[2], "retired", "local-admin")
    # draft → active is allowed, active stays, retired → … active is allowed too; retired → draft is not
    with pytest.raises(ValidationError, match=rf"2 of the 3 variants cannot become draft: #{ids[1]} \(active\), "
                                              rf"#{ids[2]} \(retired\)"):
        with ws.transaction() as s:
            catalog.bulk_status(s, ids, "draft", "local-admin")
    with ws.session() as s:
        assert [catalog.get_variant(s, i).status for i in ids] == ["draft", "active", "retired"]
    with ws.transaction() as s:
        assert catalog.bulk_status(s, ids, "active", "local-admin") == (2, 1)
    with pytest.raises(ValidationError, match="not a status"):
        with ws.transaction() as s:
            catalog.bulk_status(s, ids, "published", "local-admin")


def test_cast_keeps_the_billing_order_the_editor_typed(ws):
    """The cast was re-sorted alphabetically everywhere."""
    title = new_title(ws, "Billing", cast=["Zoe Adams", "Ben Cole", "Mia Berg"])
    assert title.cast == ("Zoe Adams", "Ben Cole", "Mia Berg")
    with ws.transaction() as s:
        moved = catalog.update_title(s, title.id, actor=ED, expected_version=title.version, name="Billing",
                                     year=None, kind="movie", synopsis="", cast=["Mia Berg", "Zoe Adams"])
    assert moved.cast == ("Mia Berg", "Zoe Adams")
    with ws.session() as s:
        assert catalog.get_title(s, title.id).cast == ("Mia Berg", "Zoe Adams")
        assert next(t for t in catalog.list_titles(s) if t.id == title.id).cast == ("Mia Berg", "Zoe Adams")


def test_a_fresh_upload_is_version_1(ws):
    """Daily use: an upload used to show "version 2" (its annotations were a second write)."""
    import artimages

    with ws.transaction() as s:
        title = catalog.create_title(s, name="Fresh", actor="local-admin")
        result = catalog.ingest_image(s, ws.store, title.id, "still.jpg", artimages.jpeg(seed=41), "local-admin")
    with ws.session() as s:
        (variant,) = catalog.list_variants(s, title.id)
    assert result.accepted and variant.version == 1 and variant.annotations
