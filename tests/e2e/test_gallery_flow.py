"""The gallery in Chromium: Edit says where the editor is; a status change shows in the picker."""

import re

import pytest
from app_page import TIMEOUT_MS, press_until, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_edit_feedback_and_the_pickers_label_after_a_status_change(page: Page, demo_server, artifacts):
    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": 1024, "height": 1400})
    page.goto(demo_server["url"] + "/title?title=2")
    wait_idle(page)
    gallery = page.get_by_role("tabpanel", name="Gallery")
    # 1. Edit on the second card: the card says Editing, a toast says where the editor is
    gallery.get_by_role("button", name="Edit", exact=True).first.click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"Editing #\d+: its editor is beside the gallery"))).to_be_visible()
    expect(gallery.get_by_role("button", name=re.compile("Editing"))).to_have_count(1)
    page.screenshot(path=str(artifacts / "e2e-gallery-edit-1024.png"))
    # 2. Retire it: the picker's label says retired, not the old status
    picker = gallery.get_by_role("combobox", name="Variant to edit")
    shown = picker.input_value()
    assert shown.endswith("(active)")
    gallery.get_by_role("button", name="Retire", exact=True).click()
    expect(page.get_by_text(re.compile(r"#\d+ is now retired\."))).to_be_visible()
    wait_idle(page)
    expect(picker).to_have_value(shown.replace("(active)", "(retired)"))


def test_the_keyboard_moves_through_variants_and_decides_suggestions(page: Page, demo_server, artifacts):
    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": 1600, "height": 1400})
    page.goto(demo_server["url"] + "/title?title=3")
    wait_idle(page)
    heading = page.get_by_role("heading", name=re.compile(r"^Edit #\d+"))
    first = heading.inner_text()
    expect(page.get_by_text(re.compile(r"Shortcuts: n / b next and previous variant"))).to_be_visible()
    press_until(page, "n", lambda: heading.inner_text() != first)
    page.keyboard.press("b")
    wait_idle(page)
    expect(heading).to_have_text(first)
    # step until a variant has a suggestion, then accept it with "a"
    for _ in range(6):
        if page.get_by_text("Suggested from the image's features").count():
            break
        page.keyboard.press("n")
        wait_idle(page)
    suggestion = page.get_by_text("Suggested from the image's features")
    expect(suggestion).to_be_visible()
    page.keyboard.press("a")
    expect(page.get_by_text(re.compile(r"Tagged #\d+ "))).to_be_visible()
