"""The gallery's focal point and crops, and the editor's-pick button (AppTest)."""

from apptest import assert_clean, labelled, open_page, shown, title_id

from artdash import catalog


def first_variant(ws, tid):
    with ws.session() as s:
        return catalog.list_variants(s, int(tid))[0]


def test_the_pick_button_and_caption_read_as_words(demo_ws):
    """They read "Make editor's page.pick" after a rename slipped into the labels."""
    tid = title_id(demo_ws)
    at = open_page("title", title=tid)
    with demo_ws.session() as s:
        picked = catalog.editors_pick(s, int(tid))
    labels = [b.label for b in at.button]
    captions = [c.value for c in at.caption]
    assert not any("page.pick" in text for text in labels + captions)
    if picked != first_variant(demo_ws, tid).id:
        labelled(at.button, "Make editor's pick").click().run()
        assert_clean(at)
        assert any("is now the editor's pick." in shown(s.value) for s in at.success)
    else:
        assert any("The editor's pick: the default image" in c for c in captions)


def test_an_editor_moves_the_focal_point_and_makes_crops_around_it(demo_ws):
    tid = title_id(demo_ws)
    v = first_variant(demo_ws, tid)
    at = open_page("title", title=tid)
    labelled(at.toggle, "Show focal point and crops").set_value(True).run()
    assert_clean(at)
    assert any("Click the subject to move the focal point" in c.value for c in at.caption)
    labelled(at.slider, "Focal point, across").set_value(0.1).run()
    labelled(at.button, "Save focal point").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        saved = catalog.get_variant(s, v.id)
    assert saved.focal_point[0] == 0.1 and saved.annotations["focal_source"] == "editor"
    at = open_page("title", title=tid)
    labelled(at.toggle, "Show focal point and crops").set_value(True).run()
    labelled(at.button, "Make 2:3 and 16:9 crops").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        crops = [c for c in catalog.list_variants(s, int(tid)) if c.parent_id == v.id and c.lineage_kind == "crop"]
    assert len(crops) == 1 and crops[0].status == "draft"   # a 2:3 box art only needs its 16:9 crop
    assert abs(crops[0].width / crops[0].height - 16 / 9) < 0.01
    assert crops[0].crop_box[1] == 0 or crops[0].crop_box[0] == 0


def test_edit_marks_the_card_and_says_where_the_editor_is(demo_ws):
    """Edit changed the editor off-screen with no feedback."""
    tid = title_id(demo_ws)
    at = open_page("title", title=tid)
    with demo_ws.session() as s:
        second = catalog.list_variants(s, int(tid))[1]
    [b for b in at.button if b.key == f"edit-{second.id}"][0].click().run()
    assert_clean(at)
    assert [b.label for b in at.button if b.key == f"edit-{second.id}"] == ["Editing"]
    assert any(f"Editing #{second.id}" in t.value for t in at.toast)
    assert at.subheader[0].value.startswith(f"Edit #{second.id}")


def test_the_variant_picker_label_follows_a_status_change(demo_ws):
    tid = title_id(demo_ws)
    at = open_page("title", title=tid)
    first = first_variant(demo_ws, tid)
    labelled(at.button, "Retire").click().run()
    picker = labelled(at.selectbox, "Variant to edit")
    assert any(o.startswith(f"#{first.id} ") and o.endswith("(retired)") for o in picker.options)


def test_a_status_change_can_be_undone_right_after_and_a_rejection_taken_back(demo_ws):
    """A rejection was permanent, with no way back."""
    tid = title_id(demo_ws)
    first = first_variant(demo_ws, tid)
    at = open_page("title", title=tid)
    labelled(at.button, "Retire").click().run()
    labelled(at.button, "Undo: back to active").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        assert catalog.get_variant(s, first.id).status == "active"
    assert not [b for b in at.button if b.label.startswith("Undo")]
    # reject a suggestion, then restore it
    with demo_ws.session() as s:
        target = next(v for v in catalog.list_variants(s, int(tid)) if v.pending_suggestions)
    at = open_page("title", title=tid)
    [b for b in at.button if b.key == f"edit-{target.id}"][0].click().run()
    tag = target.pending_suggestions[0].tag
    [b for b in at.button if b.key == f"rej-{target.id}-{tag.id}"][0].click().run()
    with demo_ws.session() as s:
        assert tag.id not in {x.tag.id for x in catalog.get_variant(s, target.id).pending_suggestions}
    [b for b in at.button if b.key == f"reopen-{target.id}-{tag.id}"][0].click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        assert tag.id in {x.tag.id for x in catalog.get_variant(s, target.id).pending_suggestions}


def test_undo_is_refused_when_someone_changed_the_variant_since(demo_ws):
    import pytest

    from artdash.errors import ConflictError

    tid = title_id(demo_ws)
    v = first_variant(demo_ws, tid)
    with demo_ws.transaction() as s:
        retired = catalog.set_variant_status(s, v.id, "retired", "local-admin")
    with demo_ws.transaction() as s:
        catalog.set_variant_label(s, v.id, "renamed meanwhile", "local-admin")
    with demo_ws.transaction() as s, pytest.raises(ConflictError, match="nothing was undone"):
        catalog.undo_status(s, v.id, "active", "local-admin", retired.version)


def test_a_large_original_opens_in_a_zoomable_view(demo_ws):
    """Full size was fit-to-screen only."""
    import artimages

    tid = title_id(demo_ws)
    (big,) = catalog.upload_files(demo_ws.sessions, demo_ws.store, int(tid),
                                  [("huge.jpg", artimages.jpeg((4000, 6000), seed=77))], "local-admin").results
    at = open_page("title", title=tid)
    [b for b in at.button if b.key == f"edit-{big.variant_id}"][0].click().run()
    labelled(at.toggle, "Show full size (zoom and pan)").set_value(True).run()
    assert_clean(at)
    assert any("4000×6000: scroll or use + / − to zoom, drag to pan" in c.value for c in at.caption)
    chart = at.get("plotly_chart")[-1]
    import json

    spec = json.loads(chart.proto.spec)
    assert spec["layout"]["dragmode"] == "pan" and spec["data"][0]["source"].startswith("data:image/")


def test_compare_shows_variants_side_by_side_with_take_rates_and_slot_crops(demo_ws):
    tid = title_id(demo_ws)
    at = open_page("title", title=tid, tab="Compare")
    assert_clean(at)
    compare = next(t for t in at.tabs if t.label == "Compare")
    chosen = compare.multiselect[0].value
    assert len(chosen) >= 2
    captions = [c.value for c in compare.caption]
    image_captions = [img.caption for element in compare.get("image") for img in element.proto.imgs]
    said = image_captions + captions   # a slot the image already fills is said, not shown twice
    assert sum(c.startswith("2:3 slot") for c in said) == len(chosen)
    assert sum(c.startswith("16:9 slot") for c in said) == len(chosen)
    assert sum("brightness" in c for c in captions) == len(chosen)


def _tags(ws, variant_id):
    with ws.session() as s:
        v = catalog.get_variant(s, variant_id)
        return {t.id for t in v.tags}, {x.tag.id for x in v.pending_suggestions}


def test_a_tag_change_can_be_undone_right_after(demo_ws):
    """Tag edits had no undo: a wrong Save or an accepted suggestion had to be redone by hand."""
    tid = title_id(demo_ws)
    with demo_ws.session() as s:
        target = next(v for v in catalog.list_variants(s, int(tid)) if v.pending_suggestions)
    tags_before, pending_before = _tags(demo_ws, target.id)
    at = open_page("title", title=tid)
    [b for b in at.button if b.key == f"edit-{target.id}"][0].click().run()
    tag = target.pending_suggestions[0].tag
    [b for b in at.button if b.key == f"acc-{target.id}-{tag.id}"][0].click().run()
    assert tag.id in _tags(demo_ws, target.id)[0]
    labelled(at.button, "Undo the tag change").click().run()
    assert_clean(at)
    assert _tags(demo_ws, target.id) == (tags_before, pending_before)   # the suggestion waits again
    assert not [b for b in at.button if b.label.startswith("Undo")]
    # a saved tag form: every facet emptied, then undone
    for ms in at.multiselect:
        if ms.key and ms.key.startswith(f"tags-{target.id}-"):
            ms.set_value([])
    [b for b in at.button if b.label == "Save tags"][0].click().run()
    assert _tags(demo_ws, target.id)[0] == set()
    labelled(at.button, "Undo the tag change").click().run()
    assert_clean(at)
    assert _tags(demo_ws, target.id)[0] == tags_before


def test_a_tag_undo_is_refused_when_someone_changed_the_variant_since(demo_ws):
    import pytest

    from artdash.errors import ConflictError

    tid = title_id(demo_ws)
    v = first_variant(demo_ws, tid)
    before = [t.id for t in v.tags]
    with demo_ws.transaction() as s:
        after = catalog.set_variant_tags(s, v.id, [], "local-admin")
    with demo_ws.transaction() as s:
        catalog.set_variant_label(s, v.id, "renamed meanwhile", "local-admin")
    with demo_ws.transaction() as s, pytest.raises(ConflictError, match="tags were not undone"):
        catalog.undo_tags(s, v.id, before, "local-admin", after.version)
    assert _tags(demo_ws, v.id)[0] == set()


def test_the_focal_picker_draws_a_square_or_portrait_picture_at_its_own_size():
    """A square upload sat in the pane's width at the pane's height: empty bands above and below."""
    import io

    from PIL import Image

    from artdash.ui.focal import _clickable

    def jpeg(size):
        buf = io.BytesIO()
        Image.new("RGB", size, "white").save(buf, "JPEG")
        return buf.getvalue()

    square, portrait, landscape = (_clickable(jpeg(s)).layout for s in ((600, 600), (600, 900), (1280, 720)))
    assert (square.width, square.height) == (380, 380)
    assert (portrait.width, portrait.height) == (373, 560)
    assert landscape.width is None and landscape.height == 315      # fills the pane's width
