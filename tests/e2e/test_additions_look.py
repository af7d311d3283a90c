"""The daily-use additions in Chromium at 1024 and 1600 px, with screenshots: Compare, zoom and pan,
undo, the misleading-art warning, persona sliders, the win matrix's thumbnails, the audit search."""

import re

import pytest
from app_page import TIMEOUT_MS, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1024, 1600])
def test_the_additions_work_and_fit_at_both_widths(page: Page, demo_server, artifacts, width):
    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": width, "height": 1800})
    url = demo_server["url"]

    # Compare: variants side by side with take rates and slot crops
    page.goto(f"{url}/title?title=2&tab=Compare")
    wait_idle(page)
    compare = page.get_by_role("tabpanel", name="Compare")
    expect(compare.get_by_text(re.compile(r"^(Quality take rate|No real traffic yet\.)$")).first).to_be_visible()
    expect(compare.get_by_text(re.compile(r"16:9 slot \(\d+×\d+ cut around the focal point\)")).first).to_be_visible()
    cut = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMetricValue"], [data-testid="stMetricLabel"]')]
        .filter(e => e.offsetParent && e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)""")
    assert not cut, f"metric values or labels cut at {width} px: {cut}"
    page.screenshot(path=str(artifacts / f"e2e-compare-{width}.png"))

    # Undo a status change, and the full-size original in a zoomable frame
    page.goto(f"{url}/title?title=2")
    wait_idle(page)
    gallery = page.get_by_role("tabpanel", name="Gallery")
    gallery.get_by_role("button", name="Retire", exact=True).click()
    wait_idle(page)
    gallery.get_by_role("button", name=re.compile("Undo: back to active")).click()
    expect(page.get_by_text(re.compile(r"#\d+ is active again\."))).to_be_visible()
    wait_idle(page)
    gallery.get_by_text("Label and file details").click()
    toggle = gallery.get_by_text("Show full size (zoom and pan)")
    zoom_caption = gallery.get_by_text(re.compile(r"\d+×\d+: scroll or use \+ / − to zoom"))
    expect(toggle).to_be_visible()
    for _ in range(3):   # a click while the expander is still opening can miss the switch
        toggle.click()
        wait_idle(page)
        if zoom_caption.count():
            break
    expect(zoom_caption).to_be_visible()
    page.screenshot(path=str(artifacts / f"e2e-gallery-zoom-{width}.png"))

    # Persona affinities: search narrows the sliders
    page.goto(f"{url}/personas")
    wait_idle(page)
    page.get_by_role("textbox", name="Find a tag").fill("funny")
    page.get_by_role("textbox", name="Find a tag").press("Enter")
    wait_idle(page)
    expect(page.get_by_test_id("stSlider")).to_have_count(1)
    page.screenshot(path=str(artifacts / f"e2e-persona-sliders-{width}.png"))

    # Win matrix: a thumbnail over each column
    page.goto(f"{url}/preview?preview_tab=Win+matrix")
    wait_idle(page)
    expect(page.locator(".layer-above image").first).to_be_attached()
    page.screenshot(path=str(artifacts / f"e2e-win-matrix-{width}.png"))

    # Audit trail: free-text search
    page.goto(f"{url}/audit")
    wait_idle(page)
    page.get_by_role("textbox", name="Search").fill("active")
    page.get_by_role("textbox", name="Search").press("Enter")
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"[\d,]+ change\(s\) shown"))).to_be_visible()
    page.screenshot(path=str(artifacts / f"e2e-audit-search-{width}.png"))


@pytest.mark.parametrize("width", [1024, 1600])
def test_misleading_art_is_called_out_and_a_tag_change_undone(page: Page, demo_server, artifacts, width):
    """The misleading-art guard on the gallery, and undo of an accepted tag suggestion."""
    import artimages

    from artdash import catalog
    from artdash.catalog.taxonomy import find_tag
    from artdash.config import Settings
    from artdash.workspace import Workspace

    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": width, "height": 1800})
    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(demo_server["data"])}))
    try:
        with ws.transaction() as s:
            title = catalog.create_title(s, name=f"The Cellar {width}", genres=["horror"], actor="local-admin")
        (result,) = catalog.upload_files(ws.sessions, ws.store, title.id,
                                         [("sunny.jpg", artimages.jpeg(seed=40 + width))], "local-admin").results
        with ws.transaction() as s:
            catalog.set_variant_tags(s, result.variant_id, [find_tag(s, "tone", "uplifting").id], "local-admin")
            variant = catalog.get_variant(s, result.variant_id)
    finally:
        ws.close()
    page.goto(f"{demo_server['url']}/title?title={title.id}")
    wait_idle(page)
    gallery = page.get_by_role("tabpanel", name="Gallery")
    expect(gallery.get_by_text(re.compile("tagged 'uplifting' but the title is horror")).first).to_be_visible()
    page.screenshot(path=str(artifacts / f"e2e-misleading-{width}.png"))

    if variant.pending_suggestions:   # a real photo's features suggest tags: accept one, then undo
        suggestion = variant.pending_suggestions[0].tag.name
        gallery.get_by_role("button", name="Accept").first.click()
        expect(page.get_by_text(re.compile(rf"Tagged #{variant.id} "))).to_be_visible()
        wait_idle(page)
        gallery.get_by_role("button", name="Undo the tag change").click()
        expect(page.get_by_text(f"#{variant.id} has its tags of before again.")).to_be_visible()
        wait_idle(page)
        expect(gallery.get_by_text(re.compile(rf"^{re.escape(suggestion)}")).first).to_be_visible()
    else:
        gallery.get_by_role("button", name="Save tags").click()
        wait_idle(page)
        expect(gallery.get_by_role("button", name="Undo the tag change")).to_be_visible()
    page.screenshot(path=str(artifacts / f"e2e-tag-undo-{width}.png"))
