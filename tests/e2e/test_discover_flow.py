"""An editor's way from a trailer to three active, tagged, cropped variants, in Chromium: drop the
video, pick three stills with the keyboard, move a focal point by clicking, add them with their
crops, then tag and activate them in one bulk change."""

import re

import pytest
from app_page import TIMEOUT_MS, press_until, wait_idle
from footage import scene_clip
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def orbit(app_server):
    from artdash import catalog
    from artdash.config import Settings
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(app_server["data"])}))
    with ws.transaction() as s:
        existing = [t.id for t in catalog.list_titles(s) if t.name == "Orbit"]
        title_id = existing[0] if existing else catalog.create_title(s, name="Orbit", actor="local-admin").id
    yield ws, title_id
    ws.close()


def test_from_a_trailer_to_three_active_tagged_cropped_variants(page: Page, app_server, orbit, artifacts, tmp_path):
    ws, title_id = orbit
    clip = scene_clip(tmp_path / "orbit-trailer.mp4",
                      names=("astronaut_top", "coffee", "rocket", "chelsea", "camera"),
                      seconds=[3.0, 2.0, 2.0, 2.0, 2.0])
    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": 1600, "height": 2200})   # tall: screenshots show the whole sheet
    page.goto(f"{app_server['url']}/title?title={title_id}&tab=Discover")
    wait_idle(page)

    # 1. Drop the trailer on the Discover tab and search it.
    panel = page.get_by_role("tabpanel", name="Discover")
    panel.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(clip.path))
    expect(panel.get_by_test_id("stFileChipName").first).to_be_visible()
    panel.get_by_role("button", name="Find stills").click()
    expect(page.get_by_text(re.compile(r"5 shots, 5 candidate stills"))).to_be_visible(timeout=60_000)
    wait_idle(page)
    page.screenshot(path=str(artifacts / "e2e-discover-1600.png"), full_page=True)

    # 2. Pick three with the keyboard: p picks the still in view, j moves to the next.
    press_until(page, "p", lambda: page.get_by_text("Add 1 picked still(s) as drafts").count() > 0)
    for key in ("j", "p", "j", "p"):
        page.keyboard.press(key)   # bound now: each press acts once
        wait_idle(page)
    expect(page.get_by_text(re.compile(r"Add 3 picked still\(s\) as drafts"))).to_be_visible()
    expect(page.get_by_text("Still 3 of 5")).to_be_visible()

    # 3. Click the left part of the picture: the focal point follows the click.
    picture = page.get_by_test_id("stPlotlyChart").first
    thumb = page.get_by_test_id("stSlider").first.get_by_test_id("stSliderThumbValue")
    for _ in range(5):   # a click before plotly has bound its handlers does nothing: click again
        picture.scroll_into_view_if_needed()
        box = picture.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5)
        wait_idle(page)
        value = float(thumb.inner_text())
        if value <= 0.3:
            break
        page.wait_for_timeout(500)
    assert 0.1 <= value <= 0.3, value

    page.set_viewport_size({"width": 1024, "height": 2200})
    wait_idle(page)
    page.screenshot(path=str(artifacts / "e2e-discover-1024.png"), full_page=True)
    page.set_viewport_size({"width": 1600, "height": 2200})

    # 4. Add them: three drafts, each with its 2:3 crop (the frames are 16:9 already).
    page.get_by_role("button", name="Add as drafts").click()
    expect(page.get_by_text(re.compile(r"Added 3 still\(s\) as drafts with 3 crop\(s\)"))).to_be_visible()
    wait_idle(page)

    # 5. Tag and activate every draft of the title in one bulk change.
    page.get_by_role("tab", name="Bulk changes").click()
    bulk = page.get_by_role("tabpanel", name="Bulk changes")
    bulk.get_by_text("every draft variant", exact=True).click()
    wait_idle(page)
    tags = bulk.get_by_role("combobox", name="Add tags")
    tags.click()
    tags.fill("adventure")
    page.get_by_role("option", name=re.compile("adventure")).first.click()
    page.keyboard.press("Escape")
    bulk.get_by_role("combobox", name="Set status").click()
    page.get_by_role("option", name="active", exact=True).click()
    bulk.get_by_role("button", name="Apply to selected variants").click()
    expect(page.get_by_text("6 variant(s) now active.")).to_be_visible()
    wait_idle(page)

    from artdash import catalog

    with ws.session() as s:
        made = [v for v in catalog.list_variants(s, title_id) if v.origin]
    frames = [v for v in made if v.origin.startswith("frame ")]
    crops = [v for v in made if v.lineage_kind == "crop"]
    assert len(frames) == 3 and len(crops) == 3
    assert all(v.status == "active" and any("adventure" in t.label for t in v.tags) for v in frames + crops)
    assert {c.parent_id for c in crops} == {f.id for f in frames}
    assert sorted(c.width / c.height for c in crops) == pytest.approx([2 / 3] * 3, abs=0.01)
    page.get_by_role("tab", name="Gallery").click()
    wait_idle(page)
    page.screenshot(path=str(artifacts / "e2e-discover-gallery.png"), full_page=True)
