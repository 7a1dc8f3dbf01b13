"""What one Glue crawl needs to know, validated before any call to AWS."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated

import boto3
import re2
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
from gazetteer.packages.glue.names import DEFAULT_CATALOG
from gazetteer.store.sqlite_functions import compiled_regex

__all__ = ["GlueCrawlConfig", "check_exclude_table_regex", "known_regions", "normal_catalog_id", "parse_config"]

# An account's catalog (its 12-digit id), or an S3 Tables federated catalog: `<account>:s3tablescatalog/<bucket>`
# (table bucket names: 3-63 lower-case letters, digits and hyphens).
_CATALOG_ID = re.compile(r"^\d{12}(:s3tablescatalog/[a-z0-9][a-z0-9-]{1,61}[a-z0-9])?$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
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
    # An IAM role to assume (with the keys above, or the AWS environment's credentials), and its external id.
    role_arn: str | None = None
    external_id: str | None = None
    include: Names | None = None
    exclude: Names | None = None
    catalog_id: str | None = None
    # Tables (and views) whose name this RE2 pattern finds are left out; exclude wins over include.
    exclude_table_regex: str | None = Field(default=None, max_length=1000)
    admin_users: Names = ()
    admin_groups: Names = ()
    admin_roles: Names = ()
    allow_query: bool = Field(default=False, strict=True)
    allow_query_preview: bool = Field(default=False, strict=True)
    row_limit: int = Field(default=0, ge=0, le=2**31 - 1, strict=True)
    max_archive_ratio: float | None = Field(default=None, ge=0.0, le=1.0)
    # The vaulted credential a workflow's crawl runs with: its connection's defaultCredentialGuid, by which
    # pyatlan's app builder finds the credential of a connection it is given by qualified name.
    credential_guid: str | None = None

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
        value = normal_catalog_id(value)
        if value is not None and not _CATALOG_ID.match(value):
            raise ValueError(f"catalog id {value!r} is neither a 12-digit AWS account id nor an S3 Tables catalog "
                             "(<account id>:s3tablescatalog/<table bucket>)")
        return value

    @field_validator("role_arn")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is not None and not _ROLE_ARN.match(value):
            raise ValueError(f"role {value!r} is not an IAM role ARN, such as "
                             "arn:aws:iam::123456789012:role/glue-reader")
        return value

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        value = value or None
        if value is not None and not _EXTERNAL_ID.match(value):
            raise ValueError("the external id must be 2 to 1,224 letters, digits or +=,.@:/-_ (as STS requires)")
        return value

    @field_validator("exclude_table_regex")
    @classmethod
    def _table_regex(cls, value: str | None) -> str | None:
        if value:
            check_exclude_table_regex(value)
        return value or None

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
        if self.external_id and not self.role_arn:
            raise ValueError("an external id goes with a role to assume: give the role ARN too")
        return self

    def wants(self, database: str) -> bool:
        """Atlan's filter rule: include None = every database, exclude None = none, exclude wins.

        An empty include list means the same as None: pyatlan sends both as the filter "{}" (docs/design.md,
        Glue facts §3).
        """
        if self.exclude and database in self.exclude:
            return False
        return not self.include or database in self.include

    def wants_table(self, name: str) -> bool:
        """False for a table or view whose name the exclude regex finds (RE2: linear in the name, whatever the
        pattern)."""
        return not self.exclude_table_regex or compiled_regex(self.exclude_table_regex).search(name.encode()) is None


def normal_catalog_id(value: str | None) -> str | None:
    """None for the account's own catalog, however it was named ("", "AwsDataCatalog"), else the id as given."""
    value = (value or "").strip()
    return None if value in ("", DEFAULT_CATALOG) else value


def check_exclude_table_regex(pattern: str) -> None:
    """Refuse, naming the problem, a pattern RE2 cannot compile (a crawl would fail on it at its first table)."""
    try:
        compiled_regex(pattern)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise InvalidRequest(f"exclude table regex {pattern!r} is not a valid regular expression: {reason}") from None


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
