"""User text is text: hostile strings in every field a person types show exactly as typed on
every page, and no request leaves the machine (a Markdown image in a title name used to make
every viewer's browser fetch its URL)."""

from urllib.parse import quote, urlparse

import artimages
import pytest
from app_page import TIMEOUT_MS, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

# 203.0.113.0/24 is TEST-NET-3: never routed, so a fetch fails — but the browser would try it.
PIXEL = "http://203.0.113.7/p.png"
HOSTILE = f"Evil ![p]({PIXEL}) *b* _i_ `c` $x$ :red[r] <b>b</b> #1"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
def shown(text: str) -> str:
    """``text`` as Markdown shows it after md(): exactly as typed, but for the invisible word
    joiner that keeps an address from becoming a link."""
    import re

    from artdash.ui.text import md

    return re.sub(r"\\(.)", r"\1", md(text))


FACET = "![f](http://203.0.113.7/f.png) mood"
EXPERIMENT = "spring ![e](http://203.0.113.7/e.png) www.example.org"
CELLS = ("![a](http://203.0.113.7/a.png)", "<a href='http://203.0.113.7/'>b</a>")


@pytest.fixture
def hostile_server(fresh_server):
    """A catalog whose title, synopsis, cast, variant label, tags and persona carry HOSTILE."""
    from artdash import catalog
    from artdash.catalog import personas, taxonomy
    from artdash.config import Settings
    from artdash.results.service import import_log
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(fresh_server["data"])}))
    with ws.transaction() as s:
        theme = taxonomy.add_tag(s, "theme", HOSTILE.replace("#1", "theme"), "local-admin")
        title = catalog.create_title(s, name=HOSTILE, year=2024, synopsis=f"Synopsis {HOSTILE}",
                                     genres=["drama"], cast=[HOSTILE.replace("#1", "cast")], tag_ids=[theme.id],
                                     actor="local-admin")
        upload = catalog.ingest_image(s, ws.store, title.id, "still.jpg", artimages.jpeg((600, 900), seed=5),
                                      "local-admin")
        variant = catalog.set_variant_label(s, upload.variant_id, HOSTILE.replace("#1", "label"), "local-admin")
        catalog.set_variant_tags(s, variant.id, [theme.id], "local-admin")
        catalog.set_variant_status(s, variant.id, "active", "local-admin")
        personas.create_persona(s, name=HOSTILE.replace("#1", "persona"), actor="local-admin",
                                affinities={theme.id: 0.8})
        taxonomy.add_facet(s, FACET, "a facet named by an attacker", "local-admin")
        second = catalog.ingest_image(s, ws.store, title.id, "other.jpg", artimages.jpeg((600, 900), seed=6),
                                      "local-admin")
        catalog.set_variant_status(s, second.variant_id, "active", "local-admin")
    # an imported experiment whose experiment and cell names carry links and images
    rows = ["event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds,experiment,cell"]
    for i in range(400):
        v = variant.id if i % 2 else second.variant_id
        rows.append(f"e{i},2027-03-0{1 + i % 7}T10:00:00Z,m{i % 97},{title.id},{v},uniform,0.5,{int(i % 5 == 0)},"
                    f"{900 if i % 5 == 0 else 0},\"{EXPERIMENT}\",\"{CELLS[i % 2]}\"")
    import_log(ws, "\n".join(rows).encode(), "hostile.csv", "local-admin")
    ws.close()
    return fresh_server | {"title_id": title.id}


def test_hostile_text_shows_as_typed_and_nothing_is_fetched_from_outside(page: Page, hostile_server, artifacts):
    expect.set_options(timeout=TIMEOUT_MS)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if urlparse(r.url).hostname not in LOCAL_HOSTS
            and not r.url.startswith(("data:", "blob:")) else None)
    page.set_viewport_size({"width": 1440, "height": 1000})
    url = hostile_server["url"]

    page.goto(url)
    wait_idle(page)
    expect(page.get_by_text(shown(HOSTILE), exact=True).first).to_be_visible()  # the catalog card's name

    page.goto(f"{url}/title?title={hostile_server['title_id']}")
    wait_idle(page)
    expect(page.get_by_role("heading", name=shown(f"{HOSTILE} (2024)"))).to_be_visible()
    # (.first: the Details form's text area can hold the same text — seen once in CI as a strict-mode violation)
    expect(page.get_by_text(shown(f"Synopsis {HOSTILE}"), exact=True).first).to_be_visible()
    body = page.locator("[data-testid='stMain']").inner_text()
    assert shown(HOSTILE.replace("#1", "label")) in body          # the gallery card
    # the tag chip (drawn by st.html, whose text inner_text does not reach)
    expect(page.get_by_text(f"theme: {HOSTILE.replace('#1', 'theme')}", exact=True).first).to_be_visible()
    assert shown(HOSTILE.replace("#1", "cast")) in body            # the cast line
    page.screenshot(path=str(artifacts / "e2e-hostile-title.png"), full_page=True)

    page.goto(f"{url}/personas")
    wait_idle(page)
    page.get_by_role("combobox", name="Persona").click()
    page.get_by_role("option", name=f"{HOSTILE.replace('#1', 'persona')} (synthetic)", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text(shown(HOSTILE.replace("#1", "persona")), exact=False).first).to_be_visible()

    page.goto(f"{url}/preview")
    wait_idle(page)
    page.get_by_role("tab", name="Win matrix").click()          # variant labels, persona names, the title
    wait_idle(page)
    page.goto(f"{url}/taxonomy")
    wait_idle(page)
    page.locator("[data-testid='stButtonGroup'] button", has_text=shown(FACET)).click()   # the facet's control
    wait_idle(page)
    expect(page.get_by_text(shown(f"Add a tag to {FACET}"), exact=True)).to_be_visible()
    wait_idle(page)
    page.goto(f"{url}/lab")                                     # persona shares: number inputs named by persona
    wait_idle(page)
    expect(page.locator("[data-testid='stNumberInput']", has_text=shown(HOSTILE.replace("#1", "persona")))
           ).to_be_visible()
    page.goto(f"{url}/results?title={hostile_server['title_id']}&experiment={quote(EXPERIMENT)}")
    wait_idle(page)
    page.get_by_text(shown(f"Plan of {EXPERIMENT}"), exact=False).first.click()   # the plan: "Weight of <cell>"
    wait_idle(page)
    expect(page.locator("[data-testid='stNumberInput']", has_text=shown(f"Weight of {CELLS[0]}"))).to_be_visible()
    # A typed address is text: no link to it anywhere (GitHub's autolinks, Plotly's <a href>).
    for address in ("203.0.113.7", "example.org"):
        assert not page.locator(f"a[href*='{address}']").count()

    # Nothing rendered as an image from user text, and nothing requested from outside the machine
    # (the browser's own record of every resource it fetched, and every request it issued).
    fetched = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert not [u for u in fetched if urlparse(u).hostname not in LOCAL_HOSTS], fetched
    assert not page.locator(f"img[src='{PIXEL}']").count()
    assert not outside, outside
