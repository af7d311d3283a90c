"""Results → Sources in Chromium: an admin adds a table of another database by its own column
names and sees it counted; a password in the URL is refused (screenshots at 1024 and 1600)."""

import re
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from app_page import TIMEOUT_MS, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "results"))

MAPPING = ("shown_at=timestamp, viewer=member_id, show_id=title_id, artwork_id=variant_id, did_play=played, "
           "watch_secs=play_seconds, territory=country, platform=device, test_name=experiment, arm=cell")


def _warehouse(data, tmp_path) -> str:
    from test_sources import the_log

    from artdash.config import Settings
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(data)}))
    try:
        url = f"sqlite:///{tmp_path / 'warehouse.db'}"
        engine = sa.create_engine(url)
        the_log(ws).to_sql("artwork_impressions", engine, index=False)
        engine.dispose()
        return url
    finally:
        ws.close()


@pytest.mark.parametrize("width", [1024, 1600])
def test_an_admin_adds_a_source_and_sees_it_counted(page: Page, demo_server, artifacts, tmp_path, width):
    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": width, "height": 1400})
    url = _warehouse(demo_server["data"], tmp_path)
    page.goto(f"{demo_server['url']}/results?results_tab=Sources")
    wait_idle(page)
    page.get_by_text("Add a source").click()
    form = page.get_by_test_id("stForm")
    name = f"warehouse {width}"

    def submit(database_url: str) -> None:
        form.get_by_role("textbox", name="Name").fill(name)
        form.get_by_role("textbox", name="Database URL").fill(database_url)
        form.get_by_role("textbox", name="Table or view").fill("artwork_impressions")
        form.get_by_role("textbox", name="Column mapping").fill(MAPPING)
        form.get_by_role("button", name="Add and count in").click()
        wait_idle(page)

    submit("postgresql+psycopg://analyst:hunter2@warehouse/events")
    expect(page.get_by_text(re.compile(r"^Nothing changed — .*password"))).to_be_visible()
    expect(page.get_by_text("hunter2")).to_have_count(0)
    submit(url)
    expect(page.get_by_text(re.compile(rf"{name} added: 600 impressions over \d+ days counted where they live"))) \
        .to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible()
    page.screenshot(path=str(artifacts / f"e2e-sources-{width}.png"))
