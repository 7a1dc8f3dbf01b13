"""The one settings object, read from the environment (prefix GAZETTEER_) once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GAZETTEER_", extra="ignore")

    home: Path = Field(default=Path("~/.gazetteer"), description="Where the embedded catalog and keys live")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite under home")
    secret_key: SecretStr | None = Field(default=None, description="Key of the credential vault")
    # NoDecode: pydantic-settings would read a list from the environment as JSON; this one is comma-separated.
    old_secret_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Previous vault keys, comma-separated: they still decrypt until rotated")
    admin_token: SecretStr | None = Field(default=None, description="Accepted as an admin API token")
    # The circuit breaker: a crawl may archive at most this share of a connection's tables.
    max_archive_ratio: float = Field(default=0.5, ge=0.0, le=1.0)
    glue_max_attempts: int = Field(default=8, ge=1, le=20, description="botocore standard-mode attempts")
    glue_workers: int = Field(default=4, ge=1, le=32, description="Concurrent Glue readers in one crawl")
    run_workers: int = Field(default=4, ge=1, le=64, description="Workflow runs executed at the same time")
    query_timeout_seconds: float = Field(default=10.0, gt=0, le=3600,
                                         description="Seconds each query of an API request may run (crawls: no limit)")

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
