"""An editor's first session, in Chromium: create a title, upload two images, tag one,
see it in the gallery."""

import re

import artimages
import pytest
from app_page import TIMEOUT_MS, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_create_title_upload_tag_and_see_it_in_the_gallery(page: Page, app_server, artifacts, tmp_path):
    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(app_server["url"])
    wait_idle(page)
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()

    # 1. Create a title (the form is open on an empty catalog; open it otherwise).
    try:
        expect(page.get_by_label("Name *")).to_be_visible(timeout=5_000)
    except AssertionError:
        page.get_by_text("New title").click()
    page.get_by_label("Name *").fill("Paper Boats")
    page.get_by_label("Year").fill("2024")
    page.get_by_role("button", name="Create title").click()
    expect(page.get_by_role("heading", name="Paper Boats (2024)")).to_be_visible()
    wait_idle(page)

    # 2. Upload two real images through the drop zone.
    couple, landscape = tmp_path / "couple.jpg", tmp_path / "landscape.jpg"
    couple.write_bytes(artimages.jpeg((600, 900), seed=31))
    landscape.write_bytes(artimages.jpeg((1280, 720), seed=32))
    page.get_by_role("tab", name="Upload").click()
    upload = page.get_by_role("tabpanel", name="Upload")   # (the Discover tab has a drop zone too)
    upload.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([str(couple), str(landscape)])
    expect(page.get_by_test_id("stFileChipName").first).to_be_visible()
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_text("Upload report: 2 accepted, 0 refused.")).to_be_visible()
    wait_idle(page)

    # 3. Tag the first variant in the gallery's editor.
    page.get_by_role("tab", name=re.compile(r"Gallery")).click()
    expect(page.get_by_role("heading", name=re.compile(r"Edit #\d+ couple"))).to_be_visible()
    wait_idle(page)
    tone = page.get_by_role("combobox", name="tone", exact=True)
    tone.click()
    tone.fill("romantic")
    page.get_by_role("option", name="romantic", exact=True).click()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("stMultiSelect").filter(has_text="romantic").first).to_be_visible()
    page.get_by_role("button", name="Save tags").click()
    expect(page.get_by_text(re.compile(r"Saved tags of #\d+\."))).to_be_visible()
    wait_idle(page)

    # 4. The gallery card shows the tag; both images are there.
    expect(page.get_by_text("tone: romantic").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"#\d+ landscape")).first).to_be_visible()
    gallery_images = page.get_by_test_id("stImage")
    expect(gallery_images.first).to_be_visible()
    assert gallery_images.count() >= 3  # two cards and the editor's preview
    page.screenshot(path=str(artifacts / "e2e-gallery.png"), full_page=True)
