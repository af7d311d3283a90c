"""Settings for throwaway workspaces in tests (importable: tests/ is on the path)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from artdash.config import Settings

# The moment every test runs at (conftest freezes artdash.clock here; e2e servers get it through
# ARTDASH_NOW). Deliberately weeks after the hand-built logs of November 2026 and far from any
# real "today", so a test that silently relied on the wall clock fails at once, not next month.
FROZEN_NOW = datetime(2027, 3, 15, 9, 30, tzinfo=UTC)


def make_settings(tmp_path: Path, database_url: str | None = None, **limits) -> Settings:
    env = {"ARTDASH_DATA_DIR": str(tmp_path / "data")}
    if database_url:
        env["ARTDASH_DATABASE_URL"] = database_url
    if "max_mb" in limits:
        env["ARTDASH_MAX_UPLOAD_MB"] = str(limits["max_mb"])
    return Settings.from_env(env)
