"""What one Glue crawl needs to know, validated before any call to AWS."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated

import boto3
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from gazetteer.errors import InvalidRequest

__all__ = ["GlueCrawlConfig", "known_regions", "parse_config"]

_CATALOG_ID = re.compile(r"^\d{12}$")
# Glue names, and the users, groups and roles named as admins, are at most 255 characters.
Name = Annotated[str, StringConstraints(max_length=255)]
Names = Annotated[tuple[Name, ...], Field(max_length=1000)]


@lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region botocore knows Glue in, over all AWS partitions."""
    session = boto3.session.Session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("glue", partition_name=partition)
    )


class GlueCrawlConfig(BaseModel):
    """The settings of one crawl: the connection it fills and the Glue catalog it reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    connection_name: str = Field(min_length=1, max_length=255)
    # Set when crawling into an existing connection; otherwise the crawl makes `default/glue/<epoch>`.
    connection_qualified_name: str | None = None
    region: str
    access_key: str | None = Field(default=None, max_length=128)
    secret_key: SecretStr | None = None
    include: Names | None = None
    exclude: Names | None = None
    catalog_id: str | None = None
    admin_users: Names = ()
    admin_groups: Names = ()
    admin_roles: Names = ()
    allow_query: bool = Field(default=False, strict=True)
    allow_query_preview: bool = Field(default=False, strict=True)
    row_limit: int = Field(default=0, ge=0, le=2**31 - 1, strict=True)
    max_archive_ratio: float | None = Field(default=None, ge=0.0, le=1.0)

    @field_validator("connection_name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the connection name is empty: give the name the crawled assets will live under")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        value = value.strip()
        if value not in known_regions():
            raise ValueError(f"unknown AWS region {value!r}: use a Glue region such as us-east-1 or eu-west-1")
        return value

    @field_validator("catalog_id")
    @classmethod
    def _catalog(cls, value: str | None) -> str | None:
        if value is not None and not _CATALOG_ID.match(value):
            raise ValueError(f"catalog id {value!r} is not a 12-digit AWS account id")
        return value

    @field_validator("include", "exclude")
    @classmethod
    def _names(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        cleaned = tuple(name.strip() for name in value)
        if any(not name for name in cleaned):
            raise ValueError("database names in include/exclude must not be empty")
        return cleaned

    @model_validator(mode="after")
    def _keys(self) -> GlueCrawlConfig:
        if bool(self.access_key) != bool(self.secret_key and self.secret_key.get_secret_value()):
            raise ValueError("give both the access key and the secret key, or neither (to use the AWS environment)")
        return self

    def wants(self, database: str) -> bool:
        """Atlan's filter rule: include None = every database, exclude None = none, exclude wins.

        An empty include list means the same as None: pyatlan sends both as the filter "{}" (docs/design.md,
        Glue facts §3).
        """
        if self.exclude and database in self.exclude:
            return False
        return not self.include or database in self.include


def parse_config(**values: object) -> GlueCrawlConfig:
    """Build a config, turning validation errors into one InvalidRequest a user can act on."""
    try:
        return GlueCrawlConfig(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'config'}: {error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors()
        )
        raise InvalidRequest(f"Invalid Glue crawl settings: {problems}") from None
