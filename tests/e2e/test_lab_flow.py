"""A product manager runs the policy lab, sees personalisation win, promotes it, and Preview
serves the promoted policy."""

import re

import pytest
from app_page import TIMEOUT_MS, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_run_compare_and_promote(page: Page, demo_server, artifacts):
    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": 1440, "height": 1100})
    page.goto(demo_server["url"] + "/lab")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Policy lab")).to_be_visible()

    page.get_by_role("spinbutton", name="Impressions per policy").fill("6000")
    page.get_by_role("spinbutton", name="Learning period").fill("1000")
    page.get_by_role("button", name="Run").click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"Run #\d+ finished: 6,000 impressions per policy"))).to_be_visible()
    summary = page.get_by_test_id("stDataFrame").first
    expect(summary).to_be_visible()
    expect(page.get_by_text("Cumulative quality take rate").first).to_be_visible()
    # After a rerun the router still serves the page (its grouped navigation, not raw file names).
    expect(page.get_by_test_id("stSidebarNav")).to_contain_text("Policy lab")
    expect(page.get_by_test_id("stSidebarNav").get_by_text("lab", exact=True)).to_have_count(0)
    page.screenshot(path=str(artifacts / "e2e-lab-run.png"), full_page=True)

    page.get_by_role("button", name="Promote").first.click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"Contextual bandit \(LinUCB\) is now the policy the decision service serves"))).to_be_visible()

    page.goto(demo_server["url"] + "/preview")
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"Promoted in the Policy lab by"))).to_be_visible()
