"""A marketing reviewer opens Results on the demo log and reads the variant table and charts."""

import pytest
from app_page import TIMEOUT_MS, wait_idle
from playwright.sync_api import Page, expect

from artdash.config import Settings
from artdash.demo import load_demo
from artdash.demo.results import EXPERIMENT, load_demo_results
from artdash.results import queries
from artdash.workspace import Workspace

pytestmark = pytest.mark.e2e


def test_results_page_shows_the_review(page: Page, app_server, artifacts):
    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(app_server["data"])}))
    load_demo(ws)
    with ws.results_engine.connect() as conn:
        if EXPERIMENT not in queries.experiments(conn):  # other tests may have logged simulated data only
            load_demo_results(ws, n=8000)
    ws.close()
    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": 1440, "height": 1400})
    page.goto(app_server["url"] + "/results")
    wait_idle(page)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    page.get_by_role("button", name="Over time").click()
    wait_idle(page)
    expect(page.get_by_text("Daily quality take rate with 95% intervals")).to_be_visible()
    assert "results_charts=" in page.url
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    page.screenshot(path=str(artifacts / "e2e-results.png"))
