"""Settings, read from environment variables (all optional).

=========================  ==========================================  =======================
variable                   meaning                                     default
=========================  ==========================================  =======================
ARTDASH_DATA_DIR           where embedded data lives                   ``./data``
ARTDASH_DATABASE_URL       catalog database (SQLAlchemy URL)           ``sqlite:///<data>/artdash.db``
ARTDASH_MEDIA_DIR          content-addressed image store               ``<data>/media``
ARTDASH_MAX_UPLOAD_MB      largest accepted image file, in MB          ``40``
ARTDASH_MAX_PIXELS         largest accepted image, in pixels           ``50000000`` (50 MP)
ARTDASH_MAX_VIDEO_MB       largest video searched for stills, in MB    ``2048``
ARTDASH_MAX_VIDEO_MINUTES  longest video searched for stills, minutes  ``180``
ARTDASH_USER               name recorded as the acting user            ``local-admin``
ARTDASH_RESULTS_DATABASE_URL  the results' tables: imports, rollups (and, the catalog database
                           on PostgreSQL, the impressions themselves)
ARTDASH_RESULTS_LOG_DIR    the impression log: Parquet files by day      ``<data>/impression-log``
                           (not used when the results are on PostgreSQL)
ARTDASH_QUALITY_PLAY_SECONDS  a play this long or longer is a quality play ``300``
ARTDASH_SECRET_KEY         signs "stay signed in" cookies (set the     a random key in
                           same value on every server of one ArtDash)  ``<data>/secret.key``
ARTDASH_SESSION_HOURS      how long a sign-in lasts in a browser       ``12``
ARTDASH_STICKY_HOURS       a member keeps a title's image this long    ``24``
                           (the decision service, Preview and
                           ``artdash preview``; 0: stickiness off)
ARTDASH_NOW                a fixed "now" (ISO 8601), for reproducible  the real clock
                           demos and tests (see :mod:`artdash.clock`)
=========================  ==========================================  =======================
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from artdash.errors import ConfigError

DEFAULT_MAX_UPLOAD_MB = 40
DEFAULT_MAX_PIXELS = 50_000_000
DEFAULT_QUALITY_PLAY_SECONDS = 300.0
DEFAULT_MAX_VIDEO_MB = 2048
DEFAULT_MAX_VIDEO_MINUTES = 180
DEFAULT_SESSION_HOURS = 12.0
DEFAULT_STICKY_HOURS = 24.0
MAX_STICKY_HOURS = 24 * 90
LOCAL_ADMIN = "local-admin"


def _positive_number(env: dict[str, str], name: str, default: float, kind=int):
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number; set it to a positive {kind.__name__} or unset it") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r} must be positive; set it to a positive {kind.__name__} or unset it")
    return value


def _sticky_hours(env: dict[str, str]) -> float:
    raw = (env.get("ARTDASH_STICKY_HOURS") or "").strip()
    if not raw:
        return DEFAULT_STICKY_HOURS
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"ARTDASH_STICKY_HOURS={raw!r} is not a number; set hours from 0 (stickiness off) to "
                          f"{MAX_STICKY_HOURS}, or unset it") from None
    if not 0 <= value <= MAX_STICKY_HOURS:
        raise ConfigError(f"ARTDASH_STICKY_HOURS={raw!r} must be from 0 (stickiness off) to {MAX_STICKY_HOURS} hours")
    return value


def private_folder(path: Path) -> Path:
    """Make ``path`` and any missing folder above it, each for its owner only (0700, whatever
    the umask); folders already there keep the permissions their owner gave them."""
    missing = []
    for folder in [path, *path.parents]:
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
            os.chmod(folder, 0o700)        # mkdir's mode is masked by the umask; this is not
        except FileExistsError:
            pass
    return path


def create_private(path: Path) -> int | None:
    """Create ``path`` (and its folder) readable and writable by its owner only — for files
    that hold secrets or password hashes. Returns an open descriptor for writing, or None if
    the file exists already (it keeps the permissions its owner gave it)."""
    private_folder(path.parent)
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None


@dataclass(frozen=True)
class ImageLimits:
    """What an upload may weigh and measure."""

    max_bytes: int = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024
    max_pixels: int = DEFAULT_MAX_PIXELS


@dataclass(frozen=True)
class VideoLimits:
    """What a video searched for stills may weigh, last and measure (checked before decoding)."""

    max_bytes: int = DEFAULT_MAX_VIDEO_MB * 1024 * 1024
    max_seconds: float = DEFAULT_MAX_VIDEO_MINUTES * 60.0
    max_pixels: int = 3840 * 2160  # 4K UHD frames; larger ones are refused before decoding


@dataclass(frozen=True)
class Settings:
    """Every setting, read once from the environment (see the table above)."""
    data_dir: Path
    database_url: str
    media_dir: Path
    limits: ImageLimits = field(default_factory=ImageLimits)
    user: str = LOCAL_ADMIN
    results_database_url: str = ""
    quality_play_seconds: float = DEFAULT_QUALITY_PLAY_SECONDS
    secret_key: str = ""
    session_hours: float = DEFAULT_SESSION_HOURS
    results_log_dir: Path | None = None   # None: <data_dir>/impression-log
    video_limits: VideoLimits = field(default_factory=VideoLimits)
    sticky_hours: float = DEFAULT_STICKY_HOURS

    @property
    def results_url(self) -> str:
        """The results database URL: its own setting, or the catalog's database."""
        return self.results_database_url or self.database_url

    @property
    def impression_log_dir(self) -> Path:
        """Where the columnar impression log lives (a folder of Parquet files by day)."""
        return self.results_log_dir or self.data_dir / "impression-log"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Settings from ``env`` (the process environment by default); refuses bad values with the variable's name."""
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("ARTDASH_DATA_DIR") or "data").expanduser()
        database_url = env.get("ARTDASH_DATABASE_URL") or f"sqlite:///{(data_dir / 'artdash.db').as_posix()}"
        media_dir = Path(env.get("ARTDASH_MEDIA_DIR") or data_dir / "media").expanduser()
        max_mb = _positive_number(env, "ARTDASH_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB, float)
        max_pixels = _positive_number(env, "ARTDASH_MAX_PIXELS", DEFAULT_MAX_PIXELS, int)
        limits = ImageLimits(max_bytes=int(max_mb * 1024 * 1024), max_pixels=max_pixels)
        quality = _positive_number(env, "ARTDASH_QUALITY_PLAY_SECONDS", DEFAULT_QUALITY_PLAY_SECONDS, float)
        hours = _positive_number(env, "ARTDASH_SESSION_HOURS", DEFAULT_SESSION_HOURS, float)
        video_mb = _positive_number(env, "ARTDASH_MAX_VIDEO_MB", DEFAULT_MAX_VIDEO_MB, float)
        video_minutes = _positive_number(env, "ARTDASH_MAX_VIDEO_MINUTES", DEFAULT_MAX_VIDEO_MINUTES, float)
        video_limits = VideoLimits(max_bytes=int(video_mb * 1024 * 1024), max_seconds=video_minutes * 60.0)
        sticky = _sticky_hours(env)
        secret = env.get("ARTDASH_SECRET_KEY") or ""
        if secret and len(secret) < 32:
            raise ConfigError("ARTDASH_SECRET_KEY must be at least 32 characters (e.g. `openssl rand -hex 32`); "
                              "or unset it to use a random key kept in the data directory")
        return cls(data_dir=data_dir, database_url=database_url, media_dir=media_dir,
                   limits=limits, user=env.get("ARTDASH_USER") or LOCAL_ADMIN,
                   results_database_url=env.get("ARTDASH_RESULTS_DATABASE_URL") or "",
                   quality_play_seconds=quality, secret_key=secret, session_hours=hours,
                   results_log_dir=Path(env["ARTDASH_RESULTS_LOG_DIR"]).expanduser()
                   if env.get("ARTDASH_RESULTS_LOG_DIR") else None, video_limits=video_limits,
                   sticky_hours=sticky)

    def signing_key(self) -> bytes:
        """The key that signs sign-in cookies: ARTDASH_SECRET_KEY, or a random key created
        once in the data directory (readable by its owner only)."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            fd = create_private(path)
            if fd is not None:  # None: another process made it first
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_hex(32))
        key = path.read_text().strip()
        if len(key) < 32:
            raise ConfigError(f"{path} is damaged (shorter than 32 characters): delete it, and everyone signs in again")
        return key.encode()
