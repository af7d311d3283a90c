"""Settings from environment variables."""

from pathlib import Path

import pytest

from artdash.config import Settings
from artdash.errors import ConfigError


def test_defaults_live_under_data():
    settings = Settings.from_env({})
    assert settings.data_dir == Path("data")
    assert settings.database_url == "sqlite:///data/artdash.db"
    assert settings.media_dir == Path("data/media")
    assert settings.limits.max_bytes == 40 * 1024 * 1024
    assert settings.user == "local-admin"


def test_every_setting_can_be_changed():
    settings = Settings.from_env({
        "ARTDASH_DATA_DIR": "/srv/art", "ARTDASH_DATABASE_URL": "postgresql+psycopg://u@db/art",
        "ARTDASH_MEDIA_DIR": "/mnt/media", "ARTDASH_MAX_UPLOAD_MB": "2.5", "ARTDASH_MAX_PIXELS": "1000",
        "ARTDASH_USER": "ann"})
    assert settings.database_url == "postgresql+psycopg://u@db/art"
    assert settings.media_dir == Path("/mnt/media")
    assert settings.limits.max_bytes == int(2.5 * 1024 * 1024) and settings.limits.max_pixels == 1000
    assert settings.user == "ann"


@pytest.mark.parametrize("value", ["lots", "-1", "0"])
def test_bad_limits_are_explained(value):
    with pytest.raises(ConfigError, match="ARTDASH_MAX_UPLOAD_MB"):
        Settings.from_env({"ARTDASH_MAX_UPLOAD_MB": value})


def test_the_signing_key_is_made_once_and_kept_private(tmp_path):
    settings = Settings.from_env({"ARTDASH_DATA_DIR": str(tmp_path)})
    key = settings.signing_key()
    assert len(key) >= 32 and settings.signing_key() == key
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    chosen = "s" * 40
    assert Settings.from_env({"ARTDASH_DATA_DIR": str(tmp_path), "ARTDASH_SECRET_KEY": chosen}).signing_key() \
        == chosen.encode()
    with pytest.raises(ConfigError, match="at least 32 characters"):
        Settings.from_env({"ARTDASH_SECRET_KEY": "short"})
    with pytest.raises(ConfigError, match="ARTDASH_SESSION_HOURS"):
        Settings.from_env({"ARTDASH_SESSION_HOURS": "-1"})


def test_files_that_hold_password_hashes_are_private(tmp_path):
    """The SQLite database and a backup archive are created readable by their owner only, like
    the secret key (they hold password hashes)."""
    import stat

    from artdash.access import auth
    from artdash.ops import backup
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(tmp_path / "data")}))
    try:
        with ws.transaction() as s:
            auth.add_user(s, "ada", "admin", "local-admin", "correct horse battery")
        archive = tmp_path / "backup.zip"
        backup.backup(ws, archive)
        for path in (tmp_path / "data" / "artdash.db", archive):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        ws.close()


def test_bidirectional_controls_are_control_characters_in_every_name():
    """U+202E makes ``gpj.exe`` read as ``exe.jpg``: refused like any control character."""
    import pytest

    from artdash.catalog.text import clean_text
    from artdash.errors import ValidationError
    from artdash.media.images import clean_file_name

    with pytest.raises(ValidationError, match="control characters"):
        clean_file_name("holiday\u202egpj.exe")
    with pytest.raises(ValidationError):
        clean_text("Harbour\u2066 Lights", "name", 200)
    assert clean_text("two\nlines", "synopsis", 200)  # line breaks stay allowed where they were


def test_the_data_folder_is_its_owners_only_whatever_the_umask(tmp_path):
    """Trust pass 3: under umask 000 the data folder (password hashes, keys, logs) and the
    folders made above it are 0700, not 0777."""
    import subprocess
    import sys

    data = tmp_path / "new" / "data"
    code = ("import os; os.umask(0); from artdash.config import Settings; from artdash.workspace import Workspace; "
            f"Workspace.open(Settings.from_env({{'ARTDASH_DATA_DIR': {str(data)!r}}})).close()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert oct(data.stat().st_mode & 0o777) == oct(0o700)
    assert oct((tmp_path / "new").stat().st_mode & 0o777) == oct(0o700)
    assert oct((data / "artdash.db").stat().st_mode & 0o777) == oct(0o600)
