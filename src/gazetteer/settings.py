"""The one settings object, read from the environment (prefix GAZETTEER_) once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from gazetteer.errors import InvalidRequest


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GAZETTEER_", extra="ignore")

    home: Path = Field(default=Path("~/.gazetteer"), description="Where the embedded catalog and keys live")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite under home")
    # repr=False: like the primary's, this URL may hold a password, and a settings object may end up in a log.
    read_database_url: str | None = Field(
        default=None, repr=False,
        description="PostgreSQL URL of a read replica: searches and the UI's asset pages read there "
                    "(docs/scale-out.md, 'Read replicas'); writes and workflows stay on GAZETTEER_DATABASE_URL")
    secret_key: SecretStr | None = Field(default=None, description="Key of the credential vault")
    # NoDecode: pydantic-settings would read a list from the environment as JSON; this one is comma-separated.
    old_secret_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Previous vault keys, comma-separated: they still decrypt until rotated")
    admin_token: SecretStr | None = Field(default=None, description="Accepted as an admin API token")
    run_workers: int = Field(default=4, ge=1, le=64, description="Runs one server executes at once (no broker)")
    broker_url: str | None = Field(default=None, description="Redis URL of the Celery broker: runs go to workers")
    run_lease_seconds: float = Field(default=30.0, ge=3, le=3600,
                                     description="A run whose worker stops renewing this long is ended as Error")
    housekeeping_seconds: float = Field(default=5.0, ge=0.2, le=60,
                                        description="How often a server reaps leases, re-dispatches, fires schedules")
    query_timeout_seconds: float = Field(default=10.0, gt=0, le=3600,
                                         description="Seconds each query of an API request may run (crawls: no limit)")
    # Webhooks (gazetteer.webhooks): deliveries leave from a dispatcher thread in each server process.
    public_url: str | None = Field(default=None, description="The server's address as people reach it, e.g. "
                                   "https://catalog.example.com: links in webhook messages (Slack) point there")
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60,
                                           description="How long one webhook delivery attempt may take")
    webhook_max_attempts: int = Field(default=8, ge=1, le=50,
                                      description="Attempts of a webhook delivery before it is marked failed")
    webhook_retry_seconds: float = Field(default=10.0, ge=0.01, le=3600,
                                         description="Wait before a delivery's first retry; it doubles with each "
                                                     "attempt (with jitter), up to an hour")
    webhook_poll_seconds: float = Field(default=1.0, ge=0.05, le=60,
                                        description="How often a server looks for webhook deliveries that are due")
    webhook_senders: int = Field(default=4, ge=1, le=32,
                                 description="Webhook deliveries one server process sends at once")
    history_days: int | None = Field(default=None, ge=0, le=36500,
                                     description="Days of asset history kept; unset keeps everything, 0 records none")

    @field_validator("old_secret_keys", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("home")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'catalog.db'}"

    @property
    def shared_database(self) -> bool:
        """Whether several processes may use the catalog database (PostgreSQL; a SQLite file is one process's)."""
        return not self.effective_database_url.startswith("sqlite")

    def require_shared_database(self, what: str) -> None:
        """Refuse `what` on SQLite: it needs a database that several processes share."""
        if not self.shared_database:
            raise InvalidRequest(
                f"{what} needs a database that several processes share, and the catalog is a SQLite file: set "
                "GAZETTEER_DATABASE_URL=postgresql+psycopg://USER@HOST:5432/DB (see the README's Deployment section)")

    @field_validator("read_database_url")
    @classmethod
    def _read_replica(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Messages never hold the URL (nor the parser's message, which quotes it): it may hold a password.
        if not value:
            return None
        if "database_url" not in info.data:
            return value  # GAZETTEER_DATABASE_URL is invalid itself and reported as such
        primary = info.data["database_url"] or ""
        if not primary.startswith("postgresql"):
            raise ValueError("a read replica needs a PostgreSQL catalog, and the catalog is a SQLite file: set "
                             "GAZETTEER_DATABASE_URL=postgresql+psycopg://USER@HOST:5432/DB too, or unset "
                             "GAZETTEER_READ_DATABASE_URL")
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            raise ValueError("is not a database URL; expected postgresql+psycopg://USER@HOST:5432/DB") from None
        if backend != "postgresql":
            raise ValueError(f"must be a PostgreSQL URL (postgresql+psycopg://USER@HOST:5432/DB), not {backend!r}: "
                             "a read replica is a PostgreSQL hot standby of GAZETTEER_DATABASE_URL")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// or http://, e.g. https://catalog.example.com")
        return value.rstrip("/") if value else None

    @field_validator("broker_url")
    @classmethod
    def _broker(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("GAZETTEER_BROKER_URL must be a Redis URL, e.g. redis://127.0.0.1:6379/0")
        return value or None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings; InvalidRequest naming each bad variable (never its value: it may be a secret)."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(f"GAZETTEER_{'_'.join(str(part) for part in e['loc']).upper()}: "
                             f"{e['msg'].removeprefix('Value error, ')}" for e in error.errors())
        raise InvalidRequest(f"Invalid settings: {problems}") from None
