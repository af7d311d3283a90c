"""Picked video frames become draft variants with lineage and crops; annotations on uploads (SQLite and PostgreSQL)."""

import io

import numpy as np
import pytest
from footage import photo, scene_clip
from PIL import Image
from sqlalchemy import select

from artdash import catalog
from artdash.db.models import SourceVideo, Variant
from artdash.discover import find_candidates
from artdash.errors import ValidationError

ED = "editor-ann"


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    clip = scene_clip(tmp_path_factory.mktemp("footage") / "trailer.mp4",
                      names=("astronaut_top", "coffee", "rocket"), seconds=[3.0, 2.0, 2.0])
    return clip.path.read_bytes(), find_candidates(clip.path, "trailer.mp4")


def new_title(ws, name="Orbit"):
    with ws.transaction() as s:
        return catalog.create_title(s, name=name, actor=ED).id


def test_a_picked_frame_becomes_a_draft_with_lineage_tags_and_crops(ws, sheet):
    data, contact = sheet
    title = new_title(ws)
    astronaut = next(c for c in contact.candidates if c.shot == 0)
    (outcome,) = catalog.add_stills(ws.sessions, ws.store, title, contact, [catalog.Pick(astronaut)], ED,
                                    keep=data, videos=ws.videos)
    assert outcome.variant_id and len(outcome.crop_ids) == 1   # 16:9 frame: only the 2:3 crop is new
    with ws.session() as s:
        frame = catalog.get_variant(s, outcome.variant_id)
        crop = catalog.get_variant(s, outcome.crop_ids[0])
        video = s.scalars(select(SourceVideo)).one()
    assert frame.status == "draft" and frame.origin == f"frame {astronaut.timecode} of trailer.mp4"
    assert frame.frame_seconds == astronaut.seconds and (frame.width, frame.height) == (640, 360)
    assert len(frame.faces) == 1 and frame.annotations["face_count"] == 1
    assert frame.focal_point == (astronaut.annotations.composition.focal_x, astronaut.annotations.composition.focal_y)
    # the crop is 2:3, a variant of the same lineage, and holds the face
    assert crop.parent_id == frame.id and crop.lineage_kind == "crop" and crop.origin == f"2:3 crop of #{frame.id}"
    assert crop.height == 360 and crop.width == 240
    left, top, right, bottom = crop.crop_box
    fx = frame.focal_point[0] * 640
    assert left <= fx <= right and len(crop.faces) == 1
    with ws.session() as s:
        assert catalog.lineage_root(s, crop.id) == frame.id
    assert video.kept and video.file_name == "trailer.mp4" and ws.videos.exists(video.sha256, "mp4")
    # the same frame again is refused as an exact duplicate; nothing else is added
    (again,) = catalog.add_stills(ws.sessions, ws.store, title, contact, [catalog.Pick(astronaut)], ED,
                                  video_sha256=video.sha256)
    assert again.variant_id is None and "already in the catalog" in again.reason


def test_the_editors_focal_point_places_the_crop(ws, sheet):
    _, contact = sheet
    title = new_title(ws, "Beans")
    coffee = next(c for c in contact.candidates if c.shot == 1)
    (left,) = catalog.add_stills(ws.sessions, ws.store, title, contact, [catalog.Pick(coffee, focal=(0.0, 0.5))],
                                 ED, video_sha256="a" * 64, ratios=("2:3", "1:1"))
    with ws.session() as s:
        crops = [catalog.get_variant(s, i) for i in left.crop_ids]
        frame = catalog.get_variant(s, left.variant_id)
    assert [c.crop_box[0] for c in crops] == [0, 0]       # pushed to the left edge
    assert sorted((c.width, c.height) for c in crops) == [(240, 360), (360, 360)]
    assert frame.annotations["focal_source"] == "editor"


def test_nothing_picked_or_a_bad_ratio_is_refused_and_nothing_is_written(ws, sheet):
    _, contact = sheet
    title = new_title(ws, "Empty")
    with pytest.raises(ValidationError, match="no still is picked"):
        catalog.add_stills(ws.sessions, ws.store, title, contact, [], ED, video_sha256="b" * 64)
    with pytest.raises(ValueError, match="width:height"):
        catalog.add_stills(ws.sessions, ws.store, title, contact, [catalog.Pick(contact.candidates[0])], ED,
                           video_sha256="b" * 64, ratios=("tall",))
    with ws.session() as s:
        assert s.scalars(select(Variant)).all() == [] and s.scalars(select(SourceVideo)).all() == []


def jpeg_of(image, size=None):
    im = image.resize(size) if size else image
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=92)
    return buf.getvalue()


def test_uploads_are_annotated_and_suggest_cast_shot_tags(ws):
    title = new_title(ws, "Faces")
    astronaut = Image.fromarray(np.asarray(photo("astronaut_top"))).resize((900, 506))
    report = catalog.upload_files(ws.sessions, ws.store, title,
                                  [("astronaut.jpg", jpeg_of(astronaut)), ("rocket.jpg", jpeg_of(photo("rocket")))], ED)
    with ws.session() as s:
        face, rocket = (catalog.get_variant(s, r.variant_id) for r in report.results)
    assert len(face.faces) == 1 and face.annotations["cast_shot"] in ("close-up", "one person")
    assert rocket.faces == () and rocket.annotations["cast_shot"] == "no face found"
    assert rocket.annotations["focal_source"] == "saliency"


def test_the_focal_point_is_edited_checked_and_kept_when_annotations_run_again(ws):
    title = new_title(ws, "Focus")
    (result,) = catalog.upload_files(ws.sessions, ws.store, title, [("r.jpg", jpeg_of(photo("rocket")))], ED).results
    with ws.transaction() as s:
        v = catalog.set_focal_point(s, result.variant_id, 0.25, 0.75, ED)
    assert v.focal_point == (0.25, 0.75)
    for bad in ((1.5, 0.5), ("left", 0.5)):
        with ws.transaction() as s, pytest.raises(ValidationError, match="focal point"):
            catalog.set_focal_point(s, result.variant_id, *bad, ED)
    with ws.transaction() as s:
        assert catalog.annotate_variants(s, ws.store, ED) == 1
    with ws.session() as s:
        again = catalog.get_variant(s, result.variant_id)
    assert again.focal_point == (0.25, 0.75) and again.annotations["focal_source"] == "editor"
