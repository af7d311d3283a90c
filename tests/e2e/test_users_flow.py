"""An admin turns sign-in on from the Users page, adds a viewer, and the viewer signs in and
finds the editing controls greyed out — in Chromium, on a server of its own."""


import pytest
from app_page import TIMEOUT_MS, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"


def add_user(page: Page, name: str, role: str | None = None) -> None:
    form = page.get_by_test_id("stForm").filter(has_text="Add a user")
    form.get_by_role("textbox", name="User name").fill(name)
    if role:
        form.get_by_label("Role").click()
        page.get_by_role("option", name=role, exact=True).click()
    form.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    form.get_by_role("textbox", name="Password again").fill(PASSWORD)
    form.get_by_role("button", name="Add user").click()
    wait_idle(page)


def sign_in(page: Page, name: str, password: str) -> None:
    page.get_by_role("textbox", name="User name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_idle(page)


def wait_for_sign_in_cookie(page: Page, present: bool = True, timeout_s: float = 10) -> None:
    """Until the page has stored (or, after signing out, removed) the stay-signed-in cookie:
    the page does it a moment after the sign-in or sign-out (the browser is asked, no sleeps)."""
    has = "document.cookie.split('; ').some(c => c.startsWith('artdash_session=') && c.length > 16)"
    page.wait_for_function(has if present else f"!({has})", timeout=timeout_s * 1000)


def test_first_admin_turns_sign_in_on_and_a_viewer_cannot_edit(page: Page, fresh_server, artifacts):
    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": 1440, "height": 1100})
    page.goto(fresh_server["url"] + "/users")
    wait_idle(page)
    expect(page.get_by_text("No accounts yet")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_text("everyone here is an admin")).to_be_visible()

    add_user(page, "ada")  # the role defaults to admin for the first account
    expect(page.get_by_text("Sign-in is now on; you are signed in as ada")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_text("Signed in as ada (admin).")).to_be_visible()
    add_user(page, "vic", role="viewer")
    expect(page.get_by_text("Added vic (viewer).")).to_be_visible()
    page.screenshot(path=str(artifacts / "e2e-users.png"), full_page=True)

    wait_for_sign_in_cookie(page)
    page.reload()  # a new browser session: the sign-in is remembered (a signed cookie)
    wait_idle(page)
    expect(page.get_by_test_id("stSidebar").get_by_text("Signed in as ada (admin).")).to_be_visible()

    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Sign in to ArtDash")).to_be_visible()
    wait_for_sign_in_cookie(page, present=False)
    page.reload()  # signed out means signed out, after a reload too
    wait_idle(page)
    expect(page.get_by_role("heading", name="Sign in to ArtDash")).to_be_visible()
    sign_in(page, "vic", "not the password")
    expect(page.get_by_text("wrong user name or password")).to_be_visible()
    sign_in(page, "vic", PASSWORD)
    expect(page.get_by_test_id("stSidebar").get_by_text("Signed in as vic (viewer).")).to_be_visible()

    wait_for_sign_in_cookie(page)
    page.goto(fresh_server["url"] + "/catalog")  # a new session, still signed in
    wait_idle(page)
    expect(page.get_by_text("signed in as a viewer")).to_be_visible()
    expect(page.get_by_role("button", name="Create title")).to_be_disabled()
    expect(page.get_by_role("button", name="Load demo catalog")).to_be_disabled()


def test_a_deep_link_opens_its_page_after_sign_in(page: Page, fresh_server):
    """Following a link to Results while signed out: sign in, and Results opens (it used to be
    the Catalog, with the address bar still showing the link)."""
    from artdash.access import auth
    from artdash.config import Settings
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(fresh_server["data"])}))
    with ws.transaction() as s:
        auth.add_user(s, "ada", "admin", "local-admin", PASSWORD)
    ws.close()
    expect.set_options(timeout=TIMEOUT_MS)
    page.goto(fresh_server["url"] + "/results")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Sign in to ArtDash")).to_be_visible()
    sign_in(page, "ada", PASSWORD)
    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    assert page.url.rstrip("/").endswith("/results")



@pytest.fixture
def demo_server_with_account(fresh_server):
    """A server of its own with two demo titles, an imported log and an admin (sign-in on)."""
    from sqlalchemy import select

    from artdash.access import auth
    from artdash.config import Settings
    from artdash.db.models import Title
    from artdash.demo import DEMO_TITLES, load_demo
    from artdash.demo.results import load_demo_results
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(fresh_server["data"])}))
    load_demo(ws, titles=DEMO_TITLES[:2])
    load_demo_results(ws, n=4000)
    with ws.session() as s:
        title_id = max(s.scalars(select(Title.id)))          # not the first title: the page's default
    with ws.transaction() as s:
        auth.add_user(s, "ada", "admin", "local-admin", PASSWORD)
    ws.close()
    return fresh_server["url"], title_id


def test_a_deep_link_keeps_its_whole_query_through_sign_in(page: Page, demo_server_with_account):
    """Daily use: `/title?title=N&tab=Compare` and `/results?title=N&method=bayesian` followed
    while signed out — after signing in, that title's Compare tab and the Bayesian method (it used
    to be another title's Gallery, and sequential)."""
    url, title_id = demo_server_with_account
    expect.set_options(timeout=TIMEOUT_MS)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{url}/title?title={title_id}&tab=Compare")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Sign in to ArtDash")).to_be_visible()
    sign_in(page, "ada", PASSWORD)
    expect(page.get_by_role("tab", name="Compare", selected=True)).to_be_visible()
    assert f"title={title_id}" in page.url and "tab=Compare" in page.url

    context = page.context.browser.new_context()        # a fresh browser: signed out again
    other = context.new_page()
    other.set_viewport_size({"width": 1400, "height": 1000})
    other.goto(f"{url}/results?title={title_id}&method=bayesian")
    wait_idle(other)
    expect(other.get_by_role("heading", name="Sign in to ArtDash")).to_be_visible()
    sign_in(other, "ada", PASSWORD)
    expect(other.get_by_role("heading", name="Results")).to_be_visible()
    wait_idle(other)
    assert "method=bayesian" in other.url and f"title={title_id}" in other.url
    expect(other.get_by_role("button", name="Bayesian", pressed=True).or_(
        other.get_by_role("radio", name="Bayesian", checked=True)).first).to_be_visible()
    context.close()
