"""A product manager switches persona on Preview and sees a different image for the same title."""

import re

import pytest
from app_page import TIMEOUT_MS, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def tile_of(page: Page, title: str):
    """The first homepage tile of ``title``: the block its name is in (the tile's container),
    once the tile's image is drawn (text can arrive before the image)."""
    name = page.get_by_text(title, exact=True).first
    tile = name.locator("xpath=ancestor::div[@data-testid='stVerticalBlock'][1]")
    expect(tile.get_by_test_id("stImage").locator("img")).to_be_visible()
    return tile


def test_switching_persona_changes_the_image(page: Page, demo_server, artifacts):
    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(demo_server["url"] + "/preview")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Top picks for this persona")).to_be_visible()

    romance_tile = tile_of(page, "Harbour Lights")
    expect(romance_tile).to_contain_text(re.compile(r"#\d+ "))
    romance_text = romance_tile.inner_text()
    romance_src = romance_tile.get_by_test_id("stImage").locator("img").get_attribute("src")
    assert "couple at sunset" in romance_text

    page.get_by_role("combobox", name="Persona").click()
    page.get_by_role("option", name="Comedy fan", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"Comedy fan — "))).to_be_visible()
    comedy_tile = tile_of(page, "Harbour Lights")
    expect(comedy_tile).not_to_contain_text("couple at sunset")
    assert "laughing close up" in comedy_tile.inner_text()
    assert comedy_tile.get_by_test_id("stImage").locator("img").get_attribute("src") != romance_src
    page.screenshot(path=str(artifacts / "e2e-preview-comedy.png"))
