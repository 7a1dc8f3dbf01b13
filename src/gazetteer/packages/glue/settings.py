"""The Glue package's own settings, read from the environment once (GAZETTEER_GLUE_*)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["GlueSettings", "glue_settings"]


class GlueSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GAZETTEER_GLUE_", extra="ignore", populate_by_name=True)

    max_attempts: int = Field(default=8, ge=1, le=20, description="botocore standard-mode attempts per Glue call")
    workers: int = Field(default=4, ge=1, le=32,
                         description="Glue calls a crawl keeps in flight at its start, and at least while throttled")
    # The most a crawl's calls in flight may grow to while Glue answers without throttling (see concurrency.py).
    max_concurrency: int = Field(default=32, ge=1, le=128)
    # How long an assumed role's session lasts (STS allows 900 s up to the role's MaxSessionDuration);
    # botocore renews it before it ends.
    role_session_seconds: int = Field(default=3600, ge=900, le=43200)
    # Glue resource tags (GetTags, a call per database) and Lake Formation LF-tags (GetResourceLFTags, a call
    # per database and table when the catalog defines any); off, neither is asked for and the tags in the
    # catalog stay as they are.
    read_tags: bool = True
    # Lineage from Glue jobs (GetJobs, each job's script from S3) and crawlers (GetCrawlers); off, neither is
    # asked for and their lineage in the catalog stays as it is. Views' lineage comes from what the crawl read.
    read_jobs: bool = True
    # The circuit breaker: a crawl may archive at most this share of a connection's tables. Its variable
    # predates the GLUE_ prefix and keeps its name.
    max_archive_ratio: float = Field(default=0.5, ge=0.0, le=1.0,
                                     validation_alias=AliasChoices("GAZETTEER_MAX_ARCHIVE_RATIO", "max_archive_ratio"))


@lru_cache(maxsize=1)
def glue_settings() -> GlueSettings:
    return GlueSettings()
