"""Title & artwork → Discover (AppTest): a real clip in, picks out as drafts with crops."""

import pytest
from apptest import assert_clean, labelled, open_page, shown, title_id
from footage import scene_clip

from artdash import catalog


@pytest.fixture(scope="module")
def trailer(tmp_path_factory):
    clip = scene_clip(tmp_path_factory.mktemp("footage") / "trailer.mp4",
                      names=("astronaut_top", "coffee", "rocket", "camera"), seconds=[3.0, 2.0, 2.0, 2.0])
    return clip.path.read_bytes()


def discover(at, name, data):
    at.get("file_uploader")[1].set_value([(name, data, "video/mp4")])
    return labelled(at.button, "Find stills").click().run()


def test_the_discover_tab_explains_itself_before_any_video(demo_ws):
    at = open_page("title", title=title_id(demo_ws), tab="Discover")
    assert_clean(at)
    assert any("No video searched yet" in i.value for i in at.info)
    assert any("MP4, MOV, MKV or WebM" in m.value for m in at.markdown)


def test_a_video_becomes_a_contact_sheet_and_picks_become_drafts_with_crops(demo_ws, trailer):
    tid = title_id(demo_ws)
    at = discover(open_page("title", title=tid, tab="Discover"), "trailer.mp4", trailer)
    assert_clean(at)
    assert any("4 shots, 4 candidate stills" in shown(s.value) for s in at.success)
    assert len([c for c in at.checkbox if c.label == "Pick"]) == 4
    assert any("Still 1 of 4" in m.value for m in at.markdown)
    # said at crop time, not only after: which crops of these frames the upload check will call soft
    assert any("a 2:3 crop is" in shown(c.value) and "will be marked low resolution" in c.value for c in at.caption)
    # pick the first by its card, move on with Next and pick the second with the Pick button
    [c for c in at.checkbox if c.label == "Pick"][0].check().run()
    [b for b in at.button if b.key == "disc-next"][0].click().run()   # (the gallery has a Next too)
    assert any("Still 2 of 4" in m.value for m in at.markdown)
    [b for b in at.button if b.key == "disc-pick"][0].click().run()
    assert [c.value for c in at.checkbox if c.label == "Pick"][:2] == [True, True]
    labelled(at.button, "Add as drafts").click().run()
    assert_clean(at)
    assert any("Added 2 still(s) as drafts with 2 crop(s)" in shown(s.value) for s in at.success)
    with demo_ws.session() as s:
        made = [v for v in catalog.list_variants(s, int(tid)) if v.origin]
    frames = [v for v in made if v.origin.startswith("frame ")]
    crops = [v for v in made if v.lineage_kind == "crop"]
    assert len(frames) == 2 and all(v.status == "draft" and "of trailer.mp4" in v.origin for v in frames)
    assert len(crops) == 2 and {c.parent_id for c in crops} == {f.id for f in frames}


def test_a_file_that_is_not_a_video_is_refused_on_the_page(demo_ws):
    import artimages

    at = discover(open_page("title", title=title_id(demo_ws), tab="Discover"), "poster.mp4", artimages.jpeg())
    assert_clean(at)
    assert any("cannot be searched" in shown(e.value) and "JPEG image, not a video" in shown(e.value)
               for e in at.error)
    assert not [b for b in at.button if b.key == "discover-cancel"]   # it stayed after a refusal


def test_adding_with_nothing_picked_says_what_to_do(demo_ws, trailer):
    at = discover(open_page("title", title=title_id(demo_ws), tab="Discover"), "trailer.mp4", trailer)
    labelled(at.button, "Add as drafts").click().run()
    assert_clean(at)
    assert any("Pick at least one still first" in w.value for w in at.warning)


def test_a_newcomer_can_try_discover_on_a_demo_trailer_cut_from_the_artwork(demo_ws):
    at = open_page("title", title=title_id(demo_ws), tab="Discover")
    labelled(at.button, "Try it on a demo trailer").click().run()
    assert_clean(at)
    assert any("demo-trailer.mp4" in shown(s.value) and "candidate stills" in s.value for s in at.success)
    assert [c for c in at.checkbox if c.label == "Pick"]


def test_the_crops_a_frame_is_too_small_for_are_named_before_they_are_made():
    """A 2:3 crop of a 720p still (480×720) was flagged low resolution by the product's own check."""
    from artdash.media.images.crops import soft_crops

    assert soft_crops(1280, 720, ["2:3", "16:9", "1:1"], 500) == [("2:3", 480, 720)]
    assert soft_crops(1920, 1080, ["2:3", "16:9"], 500) == []


def test_the_last_search_survives_a_reload_until_it_is_cleared(demo_ws, trailer):
    """A reload (a fresh session: nothing in session state) shows the same contact sheet, read
    back from disk with its stills; "Clear this search" forgets it for good."""
    tid = title_id(demo_ws)
    first = discover(open_page("title", title=tid, tab="Discover"), "trailer.mp4", trailer)
    assert any("4 shots, 4 candidate stills" in shown(s.value) for s in first.success)
    again = open_page("title", title=tid, tab="Discover")                # a new session, as after a reload
    assert_clean(again)
    assert any("trailer.mp4" in shown(s.value) and "4 shots, 4 candidate stills" in shown(s.value)
               for s in again.success)
    assert len([c for c in again.checkbox if c.label == "Pick"]) == 4
    [c for c in again.checkbox if c.label == "Pick"][0].check().run()
    labelled(again.button, "Add as drafts").click().run()               # the stills came back whole
    assert any("Added 1 still(s) as drafts" in shown(s.value) for s in again.success)
    labelled(again.button, "Clear this search").click().run()
    assert any("No video searched yet" in i.value for i in again.info)
    assert any("No video searched yet" in i.value for i in open_page("title", title=tid, tab="Discover").info)
