"""The one source of "now": frozen in tests, fixed by ARTDASH_NOW, refused clearly when malformed."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from workspaces import FROZEN_NOW

from artdash import clock
from artdash.errors import ConfigError


def test_tests_run_at_the_frozen_moment():
    assert clock.now() == FROZEN_NOW and clock.today() == FROZEN_NOW.date()


def test_frozen_blocks_nest_and_naive_times_are_utc():
    with clock.frozen(datetime(2030, 1, 2, 3, 4)):
        assert clock.now() == datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
        with clock.frozen(datetime(2031, 5, 6, 12, tzinfo=timezone(timedelta(hours=2)))):
            assert clock.now() == datetime(2031, 5, 6, 10, tzinfo=UTC)
        assert clock.now().year == 2030
    assert clock.now() == FROZEN_NOW


def test_artdash_now_fixes_the_clock_of_a_server(monkeypatch):
    monkeypatch.setattr(clock, "_frozen", None)  # as in a freshly started process
    monkeypatch.setenv(clock.ENV, "2026-11-21T12:00:00Z")
    assert clock.now() == datetime(2026, 11, 21, 12, tzinfo=UTC)
    monkeypatch.setenv(clock.ENV, "next tuesday")
    with pytest.raises(ConfigError, match="ARTDASH_NOW must be an ISO-8601 time"):
        clock.now()
    monkeypatch.delenv(clock.ENV)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1)  # the real clock when unset
