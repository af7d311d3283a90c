"""The audit trail in Chromium: a selected row opens its own entry, and after a filter changes the
detail pane never shows whichever entry then sits on the selected row number."""

import re

import pytest
from app_page import TIMEOUT_MS, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

ROW_PX, HEADER_PX = 35, 35   # Streamlit's data grid: header and row height (row_height default)


def _trail_after_changes(data):
    """Make four changes now (the frozen clock: inside the page's default 30 days) and return
    the trail the page shows by default, newest first."""
    from datetime import UTC, datetime, time, timedelta

    from artdash import catalog, clock
    from artdash.access import audit
    from artdash.config import Settings
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(data)}))
    try:
        with ws.transaction() as s:
            variants = catalog.list_variants(s, catalog.list_titles(s)[0].id)[:4]
            for n, v in enumerate(variants):   # newest: the one "beta"; the three before it "alpha"
                catalog.set_variant_label(s, v.id, f"{v.label} {'beta' if n == 3 else 'alpha'}-check", "local-admin")
        since = datetime.combine(clock.now().date() - timedelta(days=30), time.min, UTC)
        with ws.session() as s:
            return audit.entries(s, since=since)
    finally:
        ws.close()


def _select_row(page: Page, n: int) -> None:
    """Tick the selection box of the n-th data row (0-based) of the page's first grid."""
    grid = page.get_by_test_id("stDataFrame").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + HEADER_PX + ROW_PX * n + ROW_PX / 2)


@pytest.mark.parametrize("width", [1024, 1600])
def test_a_selected_row_opens_its_entry_and_a_filter_change_never_opens_another(page: Page, demo_server,
                                                                                 artifacts, width):
    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": width, "height": 1400})
    trail = _trail_after_changes(demo_server["data"])
    second = int(trail.iloc[1]["entry"])
    page.goto(f"{demo_server['url']}/audit")
    wait_idle(page)
    heading = page.get_by_text(re.compile(r"^Entry #\d+: "))
    for _ in range(5):   # the grid takes clicks a moment after it draws
        _select_row(page, 1)
        wait_idle(page)
        if heading.count():
            break
    expect(heading).to_have_text(re.compile(rf"^Entry #{second}: "))
    page.screenshot(path=str(artifacts / f"e2e-audit-entry-{width}.png"))

    # Searching "alpha-check" drops the newest entry: row 2 now holds an older one, which the
    # pane must not open.
    assert "beta-check" in str(trail.iloc[0]["after"]) and "alpha-check" in str(trail.iloc[1]["after"])
    page.get_by_role("textbox", name="Search").fill("alpha-check")
    page.get_by_role("textbox", name="Search").press("Enter")
    wait_idle(page)
    expect(page.get_by_text("Select a row to see the whole entry, before and after.")).to_be_visible()
    expect(heading).to_have_count(0)
