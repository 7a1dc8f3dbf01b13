"""The one settings object, read from the environment (prefix GAZETTEER_) once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GAZETTEER_", extra="ignore")

    home: Path = Field(default=Path("~/.gazetteer"), description="Where the embedded catalog and keys live")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite under home")
    secret_key: SecretStr | None = Field(default=None, description="Key of the credential vault")
    admin_token: SecretStr | None = Field(default=None, description="Accepted as an admin API token")
    # The circuit breaker: a crawl may archive at most this share of a connection's tables.
    max_archive_ratio: float = Field(default=0.5, ge=0.0, le=1.0)
    glue_max_attempts: int = Field(default=8, ge=1, le=20, description="botocore standard-mode attempts")
    glue_workers: int = Field(default=4, ge=1, le=32, description="Concurrent Glue readers in one crawl")
    run_workers: int = Field(default=4, ge=1, le=64, description="Workflow runs executed at the same time")

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
