"""Settings for throwaway workspaces in tests (importable: tests/ is on the path)."""

from __future__ import annotations

from pathlib import Path

from artdash.config import Settings


def make_settings(tmp_path: Path, database_url: str | None = None, **limits) -> Settings:
    env = {"ARTDASH_DATA_DIR": str(tmp_path / "data")}
    if database_url:
        env["ARTDASH_DATABASE_URL"] = database_url
    if "max_mb" in limits:
        env["ARTDASH_MAX_UPLOAD_MB"] = str(limits["max_mb"])
    return Settings.from_env(env)
