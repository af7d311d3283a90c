"""Shared helpers for the browser tests: waiting on Streamlit's own script state."""

from __future__ import annotations

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

TIMEOUT_MS = 30_000
APP = '[data-testid="stApp"]'
_STATE = "(s) => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') === s"
# A rerun that an action starts shows as "running" within a moment (a websocket round trip);
# if none starts within this, the action started none.
RERUN_START_MS = 400


def wait_idle(page: Page, timeout_s: float = 30) -> None:
    """Until the script run the last action started (if any) has finished: waits for the app's
    ``data-test-script-state`` to become "running" (returning as soon as it does, or after
    RERUN_START_MS when no rerun starts), then for it to be "notRunning" — no blind sleeps."""
    page.wait_for_selector(APP, timeout=timeout_s * 1000)
    try:
        page.wait_for_function(_STATE, arg="running", timeout=RERUN_START_MS, polling=20)
    except PlaywrightError:
        pass  # no rerun started (or it finished between two polls): its end state is checked next
    try:
        page.wait_for_function(_STATE, arg="notRunning", timeout=timeout_s * 1000, polling=50)
    except PlaywrightError:
        raise AssertionError("the app did not finish running") from None


def press_until(page: Page, key: str, done, tries: int = 20) -> None:
    """Press ``key`` until ``done()`` holds: Streamlit binds button shortcuts a moment after the
    page has drawn (longer on a busy machine), and a key pressed before that does nothing. Each
    press waits for the run it starts, so a bound key acts once."""
    for _ in range(tries):
        page.keyboard.press(key)
        wait_idle(page)
        if done():
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"pressing {key!r} {tries} times had no effect")
