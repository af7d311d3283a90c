"""The pages at 1024 and 1600 px: no horizontal scrolling, catalog names not broken mid-word,
Preview thumbnails not shrunk to stamps; screenshots of each for a person to look at."""

import pytest
from app_page import TIMEOUT_MS, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

PAGES = {"catalog": "", "title": "title?title=1", "preview": "preview", "results": "results"}


@pytest.mark.parametrize("width", [1024, 1600])
def test_every_page_fits_its_window(page: Page, demo_server, artifacts, width):
    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": width, "height": 1000})
    for name, path in PAGES.items():
        page.goto(f"{demo_server['url']}/{path}")
        wait_idle(page)
        expect(page.locator("[data-testid='stMainBlockContainer'] h1").first).to_be_visible()
        page.screenshot(path=str(artifacts / f"e2e-{name}-{width}.png"))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
    page.goto(demo_server["url"])
    wait_idle(page)
    # A card's name is on as many lines as its words need: "Harbour Lights" never "Harbo / ur".
    name = page.get_by_text("Harbour Lights", exact=True).first
    expect(name).to_be_visible()
    box = name.bounding_box()
    assert box is not None and box["width"] >= 100, box
    page.goto(f"{demo_server['url']}/preview")
    wait_idle(page)
    image = page.get_by_test_id("stImage").locator("img").first
    expect(image).to_be_visible()
    assert image.bounding_box()["width"] >= 120
    # The title's gallery holds at least two cards a row at either width (one a row made the
    # page four screens tall at 1024 px), each thumbnail still a picture, not a stamp.
    page.goto(f"{demo_server['url']}/title?title=1")
    wait_idle(page)
    cards = page.locator("div[class*='st-key-gallery-card-']")
    expect(cards.first).to_be_visible()
    boxes = [cards.nth(i).bounding_box() for i in range(min(cards.count(), 2))]
    assert len(boxes) == 2 and abs(boxes[0]["y"] - boxes[1]["y"]) < 2, boxes
    thumb = cards.first.get_by_test_id("stImage").locator("img")
    assert thumb.bounding_box()["width"] >= 100
