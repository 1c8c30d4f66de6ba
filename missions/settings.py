"""The one settings class of the ``nestpatrol`` deployable.

Values come, in increasing precedence, from the defaults here, ``NESTPATROL_*`` environment
variables and the command-line flags the CLI passes in. Nothing is read at import time:
call :func:`load_settings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from missions.errors import MissionsError
from missions.storage.engine import PoolConfig

DEV_SECRET = "nestpatrol-dev-secret-not-for-production"


class Settings(BaseSettings):
    """Validated configuration shared by the CLI, the workers and the server."""

    model_config = SettingsConfigDict(env_prefix="NESTPATROL_", extra="forbid")

    data_dir: Path = Field(
        default=Path("nestpatrol-data"),
        description="Where the SQLite file, imagery and reports live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///<data_dir>/nestpatrol.db. "
        "PostgreSQL + PostGIS in production: postgresql+psycopg://user@host/db.",
    )
    db_pool_size: int = Field(
        default=5, ge=1, description="PostgreSQL: connections each process keeps open."
    )
    db_pool_max_overflow: int = Field(
        default=10, ge=0, description="PostgreSQL: extra connections a process may open at a peak."
    )
    db_pool_timeout_s: float = Field(
        default=30.0, gt=0, description="PostgreSQL: wait this long for a free connection (s)."
    )
    db_pool_recycle_s: int = Field(
        default=1800,
        ge=-1,
        description="PostgreSQL: replace connections older than this (s; -1 never).",
    )
    timezone: str = Field(default="Asia/Shanghai", description="IANA zone of local time.")
    cell_size_m: float = Field(default=100.0, gt=0, description="Unit-grid cell edge (m).")
    ceiling_m: float = Field(
        default=120.0, gt=0, description="Legal altitude ceiling above ground (m)."
    )
    dev_mode: bool = Field(
        default=False, description="Development mode: allows the built-in secret key."
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET),
        description="Signs access tokens; must be set (32+ characters) outside dev mode.",
    )
    token_ttl_s: int = Field(default=900, gt=0, description="Access-token lifetime (s).")
    login_attempts_per_minute: int = Field(default=10, gt=0)
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    host: str = Field(default="127.0.0.1", description="Address `nestpatrol serve` binds.")
    port: int = Field(default=8000, gt=0, lt=65536)
    tile_url: str | None = Field(
        default=None,
        description="Optional basemap tile URL template for the web map ({z}/{x}/{y}); "
        "default none: the map shows district and jurisdiction outlines only.",
    )
    tile_attribution: str = Field(default="", description="Attribution shown for the basemap.")

    @field_validator("db_pool_recycle_s")
    @classmethod
    def _recycle_not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("db_pool_recycle_s=0 would reopen every connection; use -1 or ≥ 1")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Asia/Shanghai'"
            ) from e
        return value

    def check_server_secret(self) -> None:
        """Refuse to serve with the built-in secret (or a short one) outside dev mode."""
        secret = self.secret_key.get_secret_value()
        if self.dev_mode:
            return
        if secret == DEV_SECRET or len(secret) < 32:
            raise MissionsError(
                "refusing to start: NESTPATROL_SECRET_KEY is the built-in development secret or "
                'shorter than 32 characters; set a random one (e.g. `python -c "import secrets; '
                'print(secrets.token_urlsafe(48))"`) or pass --dev for a local trial'
            )

    @property
    def db_url(self) -> str:
        """The database URL in force (the SQLite file in the data directory by default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'nestpatrol.db').as_posix()}"

    @property
    def db_pool(self) -> PoolConfig:
        """The connection pool each process opens on PostgreSQL (SQLite ignores it)."""
        return PoolConfig(
            size=self.db_pool_size,
            max_overflow=self.db_pool_max_overflow,
            timeout_s=self.db_pool_timeout_s,
            recycle_s=self.db_pool_recycle_s,
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, with explicit (non-``None``) overrides on top."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValueError as e:
        raise MissionsError(f"invalid settings: {e}") from e
