"""The decision service's API documentation works on a machine without the internet: /docs
(Swagger UI) and /redoc (ReDoc) in Chromium with every request to another host blocked — their
scripts, styles and icon come from the service itself."""

import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def test_docs_and_redoc_render_with_the_network_blocked(page: Page, demo_server, artifacts):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serve"))
    from test_http import serving

    blocked: list[str] = []

    def only_local(route):
        if urlparse(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.set_viewport_size({"width": 1280, "height": 900})
    with serving(demo_server["data"]) as (url, _):
        page.goto(f"{url}/docs")
        expect(page.get_by_text("/v1/decide").first).to_be_visible(timeout=30_000)
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("ArtDash decision service")
        page.screenshot(path=str(artifacts / "api-docs-offline.png"))
        page.goto(f"{url}/redoc")
        expect(page.get_by_role("heading", name="ArtDash decision service").first).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Which variant of each title to show a member").first).to_be_visible()
        page.screenshot(path=str(artifacts / "api-redoc-offline.png"))
    assert blocked == []      # nothing was even asked of another host
