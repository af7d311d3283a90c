"""The Title & artwork screen: gallery, upload, tagging, lifecycle, details (AppTest)."""

from pathlib import Path

import artimages
from apptest import (
    assert_clean,
    clear_ab_log,
    labelled,
    open_page,
    shown,
    title_id,
)

from artdash import catalog
from artdash.catalog import taxonomy


def test_title_page_shows_the_gallery(demo_ws):
    at = open_page("title", title=title_id(demo_ws))
    assert_clean(at)
    assert shown(at.title[0].value) == "Harbour Lights (2019)"
    assert len([b for b in at.button if b.label in ("Edit", "Editing")]) == 4
    assert len([b for b in at.button if b.label == "Editing"]) == 1   # the card whose editor is open
    assert any("box art (2:3)" in shown(m.value) for m in at.markdown)


def test_title_page_with_an_unknown_title_falls_back(demo_ws):
    at = open_page("title", title="9999")
    assert_clean(at)
    assert any("There is no title #9999" in w.value for w in at.warning)


def test_title_page_with_no_titles_points_to_the_catalog(empty_ws):
    at = open_page("title")
    assert_clean(at)
    assert any("no titles yet" in i.value for i in at.info)


def test_upload_through_the_file_uploader_reports_each_file(demo_ws):
    tid = title_id(demo_ws)
    at = open_page("title", title=tid, tab="Upload")
    at.get("file_uploader")[0].set_value([
        ("new-key-art.jpg", artimages.jpeg(seed=21), "image/jpeg"),
        ("readme.jpg", b"not an image at all", "image/jpeg"),
        ("wide.png", artimages.png((1920, 1080), seed=22), "image/png"),
        ("small.jpg", artimages.jpeg((300, 450), seed=23), "image/jpeg"),
    ])
    labelled(at.button, "Upload").click().run()
    assert_clean(at)
    assert any("3 accepted, 1 refused" in w.value for w in at.warning)
    upload_tab = next(t for t in at.tabs if t.label == "Upload")
    lines = [shown(m.value) for m in upload_tab.markdown if m.value.startswith("**") and " — :" in m.value]
    assert [line.split("**")[1] for line in lines] == ["new-key-art.jpg", "readme.jpg", "wide.png", "small.jpg"]
    assert ":red[refused]" in lines[1] and "it is a text file" in lines[1]
    assert ":green[accepted] as draft #" in lines[0] and ":orange[accepted with warnings]" in lines[3]
    # each warning is said once (it was in a table and again in a box of its own), nothing is cut
    page_text = " ".join(shown(e.value) for e in [*upload_tab.markdown, *upload_tab.warning, *upload_tab.error,
                                                   *upload_tab.caption])
    assert page_text.count("short side") == 1
    assert not upload_tab.dataframe
    with demo_ws.session() as s:
        labels = [v.label for v in catalog.list_variants(s, int(tid))]
    assert "new key art" in labels and "wide" in labels
    assert at.query_params["tab"] in ("Upload", ["Upload"])
    labelled(at.button, "Open them in the gallery").click().run()
    assert at.query_params.get("tab") in (None, "Gallery", ["Gallery"])   # the gallery is the default tab


def test_tag_edit_saves_the_chosen_tags(demo_ws):
    tid = title_id(demo_ws)
    at = open_page("title", title=tid)
    with demo_ws.session() as s:
        variant = catalog.list_variants(s, int(tid))[0]
        funny = taxonomy.find_tag(s, "tone", "funny")
    tone_picker = labelled(at.multiselect, "tone")
    tone_picker.set_value(list(tone_picker.value) + [funny.id])
    labelled(at.button, "Save tags").click().run()
    assert_clean(at)
    assert any(f"Saved tags of #{variant.id}" in s.value for s in at.success)
    with demo_ws.session() as s:
        assert "funny" in [t.name for t in catalog.get_variant(s, variant.id).tags_in("tone")]


def test_status_buttons_move_a_variant_along_its_lifecycle(demo_ws):
    tid = title_id(demo_ws)
    at = open_page("title", title=tid)
    with demo_ws.session() as s:
        variant = catalog.list_variants(s, int(tid))[0]
    assert variant.status == "active"
    labelled(at.button, "Retire").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        assert catalog.get_variant(s, variant.id).status == "retired"
    assert any(b.label == "Reactivate" for b in at.button)


def test_edit_button_selects_the_variant_and_suggestions_can_be_decided(demo_ws):
    tid = title_id(demo_ws)
    at = open_page("title", title=tid)
    with demo_ws.session() as s:
        variants = catalog.list_variants(s, int(tid))
    target = next(v for v in variants if v.pending_suggestions)
    edit_buttons = [b for b in at.button if b.label in ("Edit", "Editing")]
    edit_buttons[[v.id for v in variants].index(target.id)].click().run()
    assert_clean(at)
    assert at.subheader[0].value.startswith(f"Edit #{target.id}")
    [b for b in at.button if b.label == "Reject"][0].click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        after = catalog.get_variant(s, target.id)
    assert len(after.pending_suggestions) == len(target.pending_suggestions) - 1


def test_bulk_tagging_and_details_tabs(demo_ws):
    tid = title_id(demo_ws)
    at = open_page("title", title=tid)
    with demo_ws.session() as s:
        ids = [v.id for v in catalog.list_variants(s, int(tid))][:2]
        epic = taxonomy.find_tag(s, "tone", "epic")
    labelled(at.multiselect, "Variants").set_value(ids)
    labelled(at.multiselect, "Add tags").set_value([epic.id])
    labelled(at.button, "Apply to selected variants").click().run()
    assert_clean(at)
    assert any("Updated the tags of 2 variant(s)" in s.value for s in at.success)
    labelled(at.text_area, "Synopsis").set_value("A storm, a light, a ferry.")
    labelled(at.button, "Save details").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        assert catalog.get_title(s, int(tid)).synopsis == "A storm, a light, a ferry."


def test_bulk_status_moves_all_selected_variants_or_none(demo_ws):
    tid = title_id(demo_ws)
    with demo_ws.session() as s:
        variants = catalog.list_variants(s, int(tid))
    with demo_ws.transaction() as s:
        catalog.set_variant_status(s, variants[0].id, "retired", "local-admin")
    at = open_page("title", title=tid)
    labelled(at.multiselect, "Variants").set_value([variants[0].id, variants[1].id])
    labelled(at.selectbox, "Set status").set_value("draft")  # retired → draft is not allowed
    labelled(at.button, "Apply to selected variants").click().run()
    assert_clean(at)
    assert any("cannot become draft" in shown(e.value) and f"#{variants[0].id} (retired)" in shown(e.value)
               and "nothing was changed" in shown(e.value) for e in at.error)
    with demo_ws.session() as s:
        assert catalog.get_variant(s, variants[1].id).status == variants[1].status  # none moved
    labelled(at.selectbox, "Set status").set_value("active")
    labelled(at.button, "Apply to selected variants").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        assert {catalog.get_variant(s, v.id).status for v in variants[:2]} == {"active"}
    # "every active variant" fills the list; retiring them all leaves none active.
    with demo_ws.session() as s:
        active = sorted(v.id for v in catalog.list_variants(s, int(tid)) if v.status == "active")
    labelled(at.segmented_control, "Select").set_value("active").run()
    assert sorted(labelled(at.multiselect, "Variants").value) == active and len(active) >= 2
    labelled(at.selectbox, "Set status").set_value("retired")
    labelled(at.button, "Apply to selected variants").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        assert not [v for v in catalog.list_variants(s, int(tid)) if v.status == "active"]


def test_title_picker_and_url_agree(demo_ws):
    first, second = title_id(demo_ws, "Harbour Lights"), title_id(demo_ws, "The Last Laugh Hotel")
    at = open_page("title", title=first)
    assert shown(at.title[0].value) == "Harbour Lights (2019)"
    labelled(at.selectbox, "Title").set_value(int(second)).run()
    assert_clean(at)
    assert shown(at.title[0].value) == "The Last Laugh Hotel (2021)"
    assert at.query_params["title"] == second
    at.query_params["title"] = first  # following a link to another title
    at.run()
    assert shown(at.title[0].value) == "Harbour Lights (2019)"


def test_gallery_shows_each_variants_quality_take_rate_from_real_traffic(demo_ws):
    with demo_ws.session() as s:
        title = catalog.list_titles(s)[0]
        active = [v.id for v in catalog.list_variants(s, title.id) if v.status == "active"]
    at = open_page("title", title=str(title.id))
    assert not any("quality take" in c.value for c in at.caption)  # no results data yet
    clear_ab_log(demo_ws, {active[0]: 0.10, active[1]: 0.20}, n=1000)
    at.run()
    assert_clean(at)
    figures = [c.value for c in at.caption if "quality take" in c.value]
    assert any("quality take 10.00%" in f and "1,000 impressions" in f for f in figures)
    assert any("quality take 20.00%" in f for f in figures)


def test_a_draft_can_be_deleted_from_the_title_page(demo_ws):
    tid = int(title_id(demo_ws))
    with demo_ws.transaction() as s:
        result = catalog.ingest_image(s, demo_ws.store, tid, "mistake.jpg", artimages.jpeg(seed=77), "ed")
    with demo_ws.session() as s:
        sha256 = catalog.get_variant(s, result.variant_id).sha256
    at = open_page("title", title=str(tid))
    at.button(key=f"edit-{result.variant_id}").click().run()
    assert_clean(at)
    at.button(key=f"delete-{result.variant_id}").click().run()
    assert_clean(at)
    assert any(f"Deleted the draft #{result.variant_id}" in s.value for s in at.success)
    with demo_ws.session() as s:
        assert result.variant_id not in {v.id for v in catalog.list_variants(s, tid)}
    assert not any(Path(demo_ws.store.root).rglob(f"{sha256}*"))


def test_a_stale_details_edit_shows_the_newer_value_and_keeps_what_was_typed(demo_ws):
    """Two people on a title's Details: the second save used to vanish without a word, with the
    typed text gone. Now it is refused with the newer value shown, the text stays, and saving
    again (having seen the other edit) applies it."""
    tid = int(title_id(demo_ws))
    at = open_page("title", title=str(tid), tab="Details")
    with demo_ws.transaction() as s:  # someone else saves first
        current = catalog.get_title(s, tid)
        catalog.update_title(s, tid, actor="local-admin", expected_version=current.version, name=current.name,
                             year=current.year, kind=current.kind, synopsis="Their synopsis.",
                             genres=list(current.genres), cast=list(current.cast))
    labelled(at.text_area, "Synopsis").set_value("My synopsis, typed with care.")
    labelled(at.button, "Save details").click().run()
    assert_clean(at)
    warning = " ".join(shown(w.value) for w in at.warning)
    assert "changed this title meanwhile" in shown(warning) and "Their synopsis." in shown(warning)
    assert labelled(at.text_area, "Synopsis").value == "My synopsis, typed with care."
    with demo_ws.session() as s:
        assert catalog.get_title(s, tid).synopsis == "Their synopsis."   # nothing overwritten yet
    labelled(at.button, "Save details").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        assert catalog.get_title(s, tid).synopsis == "My synopsis, typed with care."
    assert not at.warning


def test_editors_set_where_and_when_artwork_may_be_shown_one_or_many(demo_ws):
    tid = title_id(demo_ws)
    with demo_ws.session() as s:
        variants = catalog.list_variants(s, int(tid))
    first = variants[0]
    at = open_page("title", title=tid)
    prefix = f"elig-{first.id}-{first.version}"
    at.text_input(key=f"{prefix}-territories").set_value("France")
    at.button(key=f"FormSubmitter:eligibility-{first.id}-{first.version}-Save where and when").click().run()
    assert any("two-letter country codes" in shown(e.value) for e in at.error)
    with demo_ws.session() as s:
        assert catalog.get_variant(s, first.id).eligibility.unrestricted          # nothing saved
    at.text_input(key=f"{prefix}-territories").set_value("fr, be")
    at.selectbox(key=f"{prefix}-maturity").set_value("13+")
    at.button(key=f"FormSubmitter:eligibility-{first.id}-{first.version}-Save where and when").click().run()
    assert_clean(at)
    with demo_ws.session() as s:
        saved = catalog.get_variant(s, first.id).eligibility
    assert saved.territories == ("BE", "FR") and saved.maturity == "13+"
    assert any("BE, FR · 13+" in shown(c.value) for c in at.caption)              # on its card
    # many at once: only the chosen rule changes
    labelled(at.multiselect, "Variants").set_value([v.id for v in variants[:2]])
    labelled(at.multiselect, "Rules to change").set_value(["approval"])
    at.checkbox(key=f"bulk-elig-{tid}-approved").uncheck()
    at.button(key=f"FormSubmitter:bulk-where-{tid}-Set on selected variants").click().run()
    assert_clean(at)
    assert any("Set approval on 2 variant(s) (2 changed)" in s.value for s in at.success)
    with demo_ws.session() as s:
        after = [catalog.get_variant(s, v.id).eligibility for v in variants[:2]]
    assert [e.approved for e in after] == [False, False]
    assert after[0].territories == ("BE", "FR") and after[0].maturity == "13+"   # kept
