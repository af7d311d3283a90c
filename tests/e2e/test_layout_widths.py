"""The pages at 1024 and 1600 px: no horizontal scrolling, catalog names not broken mid-word,
Preview thumbnails not shrunk to stamps; screenshots of each for a person to look at."""

import pytest
from app_page import TIMEOUT_MS, wait_idle
from playwright.sync_api import Page, expect

from artdash.config import Settings
from artdash.demo.results import EXPERIMENT, load_demo_results
from artdash.results import queries
from artdash.workspace import Workspace

pytestmark = pytest.mark.e2e

PAGES = {"catalog": "", "title": "title?title=1", "preview": "preview", "results": "results"}
# Text the browser cut with an ellipsis ("Download …", "Harbour Lights (20"), on the pages whose
# every label must show whole; the title page's narrow editor column may shorten a tag's chip.
CUT_TEXT = """() => Array.from(document.querySelectorAll('[data-testid=stMainBlockContainer] *')).filter(e => {
  const s = getComputedStyle(e);
  const text = e.tagName === 'INPUT' ? e.value : e.textContent;
  return (e.tagName === 'INPUT' || s.textOverflow === 'ellipsis') && e.scrollWidth > e.clientWidth + 1
         && e.offsetParent !== null && text.trim() !== '';
}).map(e => e.tagName === 'INPUT' ? e.value : e.textContent.trim())"""
WHOLE = ("catalog", "preview", "results")
LONGEST_TITLE = 2        # the demo's "The Last Laugh Hotel (2021)"


@pytest.mark.parametrize("width", [1024, 1600])
def test_every_page_fits_its_window(page: Page, demo_server, artifacts, width):
    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(demo_server["data"])}))
    with ws.results_engine.connect() as conn:
        if EXPERIMENT not in queries.experiments(conn):    # Results with a review to lay out
            load_demo_results(ws, n=4000)
    ws.close()
    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": width, "height": 1000})
    for name, path in PAGES.items():
        page.goto(f"{demo_server['url']}/{path}")
        wait_idle(page)
        expect(page.locator("[data-testid='stMainBlockContainer'] h1").first).to_be_visible()
        page.screenshot(path=str(artifacts / f"e2e-{name}-{width}.png"))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
        if name in WHOLE:
            assert page.evaluate(CUT_TEXT) == [], name
    page.goto(demo_server["url"])
    wait_idle(page)
    # A card's name is on as many lines as its words need: "Harbour Lights" never "Harbo / ur".
    name = page.get_by_text("Harbour Lights", exact=True).first
    expect(name).to_be_visible()
    box = name.bounding_box()
    assert box is not None and box["width"] >= 100, box
    # the longest title's whole name in the Results picker
    page.goto(f"{demo_server['url']}/results?title={LONGEST_TITLE}")
    wait_idle(page)
    expect(page.get_by_test_id("stSelectbox").first.locator("input")).to_have_value("The Last Laugh Hotel (2021)")
    assert page.evaluate(CUT_TEXT) == []
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
    expect(cards.nth(1)).to_be_visible()
    page.wait_for_function("""() => {      // the page's style arrives with the gallery, just after the cards
      const [a, b] = document.querySelectorAll("div[class*='st-key-gallery-card-']");
      return Math.abs(a.getBoundingClientRect().top - b.getBoundingClientRect().top) < 2; }""", timeout=TIMEOUT_MS)
    thumb = cards.first.get_by_test_id("stImage").locator("img")
    assert thumb.bounding_box()["width"] >= 100
