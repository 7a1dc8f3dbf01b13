"""A table's partitions as a crawl sees them: how many, the newest ones, and whether those match the table.

Pure, no I/O: `GlueReader.partitions` gathers a `Partitions`, `partition_attributes` turns it into the
table's attributes. The newest partition is the table's "last landed" data. Athena reads a partition with the
partition's own columns, and fails with HIVE_PARTITION_SCHEMA_MISMATCH when they disagree with the table's
(a column retyped or dropped in the table but not in the partitions written before); only the newest few are
compared, so a table with 100,000 partitions costs one more call, not 100,000 (docs/design.md, Glue facts §10).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gazetteer.assets.datatypes import normalise_type

__all__ = ["NEWEST", "PARTITION_ATTRIBUTES", "NewestPartition", "Partitions", "newest_of", "partition_attributes"]

# How many of the newest partitions are compared with the table.
NEWEST = 3
# What `partition_attributes` may set on a table.
PARTITION_ATTRIBUTES = ("partitionCount", "lastPartition", "lastPartitionCreatedAt", "partitionsWithOtherColumns")


@dataclass(frozen=True)
class NewestPartition:
    values: tuple[str, ...]
    created: datetime | None
    columns: tuple[Mapping[str, Any], ...] | None = None  # the partition's own columns, when read


@dataclass(frozen=True)
class Partitions:
    """How many partitions a table has, and its newest few (newest first)."""

    count: int
    newest: tuple[NewestPartition, ...] = ()


def newest_of(partitions: Iterable[Mapping[str, Any]], keep: int = NEWEST) -> tuple[int, tuple[NewestPartition, ...]]:
    """(how many, the `keep` newest by CreationTime) of a stream of GetPartitions entries, in bounded memory."""
    count = 0

    def entries() -> Iterable[tuple[datetime, tuple[str, ...]]]:
        nonlocal count
        for partition in partitions:
            count += 1
            created = partition.get("CreationTime")
            moment = created if isinstance(created, datetime) else None
            if moment is not None and moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            yield (moment or datetime.min.replace(tzinfo=UTC)), tuple(str(v) for v in partition.get("Values") or ())

    best = heapq.nlargest(keep, entries())
    newest = tuple(NewestPartition(values, None if moment.year == 1 else moment) for moment, values in best)
    return count, newest


def _columns(columns: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    return {str(c.get("Name", "")).lower(): normalise_type(str(c.get("Type") or "")) for c in columns
            if isinstance(c, Mapping)}


def _difference(table: dict[str, str], partition: dict[str, str]) -> str | None:
    """What first differs between the table's columns and a partition's, in words; None when they agree."""
    for name, data_type in table.items():
        if name not in partition:
            return f"no column {name}"
        if partition[name] != data_type:
            return f"{name} is {partition[name]}, the table's is {data_type}"
    extra = sorted(set(partition) - set(table))
    return f"an extra column {extra[0]}" if extra else None


def partition_attributes(partitions: Partitions, keys: Sequence[str], table_columns: Iterable[Mapping[str, Any]],
                         label: str) -> tuple[dict[str, Any], list[str]]:
    """The table's partition attributes (count, the newest partition and when it landed, the newest ones whose
    columns differ from the table's), and a warning for each of those."""
    attributes: dict[str, Any] = {"partitionCount": partitions.count}
    warnings: list[str] = []
    if not partitions.newest:
        return attributes, warnings

    def named(partition: NewestPartition) -> str:
        return "/".join(f"{key}={value}" for key, value in zip(keys, partition.values, strict=False))

    latest = partitions.newest[0]
    attributes["lastPartition"] = named(latest)
    if latest.created is not None:
        attributes["lastPartitionCreatedAt"] = int(latest.created.timestamp() * 1000)
    table = _columns(table_columns)
    mismatched = []
    for partition in partitions.newest:
        difference = None if partition.columns is None else _difference(table, _columns(partition.columns))
        if difference:
            mismatched.append(named(partition))
            warnings.append(f"{label}: partition {named(partition)} has other columns than the table ({difference}); "
                            "Athena fails queries over it with HIVE_PARTITION_SCHEMA_MISMATCH")
    attributes["partitionsWithOtherColumns"] = mismatched
    return attributes, warnings
