"""An admin's first integration, in Chromium and over real HTTP: create an API key on the
API keys page, copy it from the page, and a backend uses it against `artdash serve` — the
decision it gets is logged; after the key is revoked on the page, the service refuses it."""

import time

import pytest
from app_page import TIMEOUT_MS, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_a_key_made_on_the_page_works_against_the_service_until_revoked(page: Page, demo_server, artifacts):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serve"))
    from test_http import serving

    from artdash.serve import HttpClient, ServiceError

    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": 1024, "height": 900})
    page.goto(f"{demo_server['url']}/api_keys")
    wait_idle(page)
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("browser-made <b>key</b>")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("Copy the key now")).to_be_visible()
    expect(page.get_by_test_id("stAlert").filter(has_text="Created")).to_contain_text("browser-made <b>key</b>")  # text
    secret = page.get_by_test_id("stCode").inner_text().strip()
    assert secret.startswith("adk_")
    page.screenshot(path=str(artifacts / "api-keys-created-1024.png"), full_page=True)
    from sqlalchemy import select

    from artdash.config import Settings
    from artdash.db.models import Variant
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(demo_server["data"])}))
    with ws.session() as s:   # other browser tests share this catalog: ask for titles that have artwork now
        titles = sorted(set(s.scalars(select(Variant.title_id).where(Variant.status == "active"))))[:2]
    ws.close()
    with serving(demo_server["data"]) as (url, _):
        client = HttpClient(url, secret)
        answer = client.decide({"id": "browser-member", "tastes": {"genre:romance": 0.8}}, titles)
        assert [d["title_id"] for d in answer["decisions"]] == titles
        assert all(d["event_id"] and d["variant_id"] for d in answer["decisions"]), answer
        page.reload()
        wait_idle(page)
        page.get_by_text("Yes, revoke it").click()
        page.get_by_role("button", name="Revoke key").click()
        expect(page.get_by_text("Revoked")).to_be_visible()
        wait_idle(page)
        expect(page.get_by_role("button", name="Create key")).to_be_visible()
        page.set_viewport_size({"width": 1600, "height": 900})
        page.screenshot(path=str(artifacts / "api-keys-revoked-1600.png"), full_page=True)
        time.sleep(1.5)                                   # the service's next key refresh (0.3 s)
        with pytest.raises(ServiceError) as refused:
            client.decide({"id": "browser-member"}, titles)
        assert refused.value.status == 401
