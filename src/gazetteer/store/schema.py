"""Table definitions, shared by the services and the Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# JSON documents: plain JSON text on SQLite, JSONB (indexable, compact) on PostgreSQL.
Json = sa.JSON().with_variant(JSONB(), "postgresql")


class Timestamp(sa.types.TypeDecorator[datetime]):
    """A moment in UTC, read back time-zone aware on both backends (SQLite keeps no offset: it stores UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        # Anything but an aware datetime (None, a naive UTC one, the search compiler's text) goes as it is.
        return value.astimezone(UTC) if isinstance(value, datetime) and value.tzinfo is not None else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


# One row per asset of any type. The crawl-owned attributes live in `attributes`; `content_hash` is a
# digest of them so a re-crawl can tell "unchanged" without reading or rewriting the document, and
# `source_hash` (tables and views) a digest of the Glue definition they were mapped from, so an unchanged
# table is not even mapped again.
assets = sa.Table(
    "assets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("guid", sa.String(36), nullable=False, unique=True),
    sa.Column("type_name", sa.String(64), nullable=False),
    sa.Column("qualified_name", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="ACTIVE"),
    sa.Column("connection_qualified_name", sa.Text, nullable=False),
    sa.Column("schema_qualified_name", sa.Text, nullable=True),
    sa.Column("parent_qualified_name", sa.Text, nullable=True),
    sa.Column("attributes", Json, nullable=False),
    # What people edit (userDescription, owners, certificate, announcement); never written by a crawl.
    # Full-text structures over these two live outside this definition (migration 0004).
    sa.Column("curated", Json, nullable=True),
    sa.Column("content_hash", sa.String(32), nullable=False),
    sa.Column("source_hash", sa.String(32), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(255), nullable=False, server_default="gazetteer"),
    sa.Column("updated_by", sa.String(255), nullable=False, server_default="gazetteer"),
    sa.Index("ix_assets_connection_type_status", "connection_qualified_name", "type_name", "status"),
    sa.Index("ix_assets_schema_qualified_name", "schema_qualified_name"),
    sa.Index("ix_assets_parent_qualified_name", "parent_qualified_name"),
    sa.Index("ix_assets_type_name_name", "type_name", "name"),
    # The newest tables and views (the home page's "recently changed"), read backwards along one range each.
    sa.Index("ix_assets_type_status_updated_at", "type_name", "status", "updated_at", "id"),
)

# Page views: how often each asset's page was opened (gazetteer.assets.popularity), a ranking signal and a sort.
# Apart from `assets` so that a view bumps one small row and never rewrites an asset, its full-text index or
# the catalog's generation. Keyed by guid, which an archived and restored asset keeps.
asset_views = sa.Table(
    "asset_views",
    metadata,
    sa.Column("asset_guid", sa.String(36), primary_key=True),
    sa.Column("views", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("last_viewed_at", Timestamp, nullable=False),
    sa.Index("ix_asset_views_views", "views"),
)

# Lineage edges, one per input or output of an active Process or ColumnProcess: the process's `inputs` and
# `outputs` references (in its attributes) indexed by the qualified names they point at, so a lineage walk goes
# one hop per indexed look-up. Database triggers keep it in step with `assets` whoever writes (a crawl, its
# rollback, the API): see migration 0013. `direction` is "i" (the asset is an input) or "o" (an output).
lineage_edges = sa.Table(
    "lineage_edges",
    metadata,
    sa.Column("process_id", sa.Integer, nullable=False),
    sa.Column("asset_qualified_name", sa.Text, nullable=False),
    sa.Column("direction", sa.String(1), nullable=False),
    sa.Index("ix_lineage_edges_asset_qualified_name_direction", "asset_qualified_name", "direction"),
    sa.Index("ix_lineage_edges_process_id", "process_id"),
)

# The undo log that makes a crawl all or nothing while it still streams its writes a page at a time. Before a
# crawl first rewrites an asset it copies the asset's crawl-owned columns here (never `curated`: people edit
# it while crawls run); for the assets it creates it keeps ranges of ids instead (`asset_id` to
# `created_through`, those of them whose created_by is the crawl). A crawl that fails puts the old values
# back and deletes what it created; one that succeeds drops its rows. Rows left behind belong to a crawl
# that did not finish: as long as a crawl has rows here, it can still be rolled back.
crawl_undo = sa.Table(
    "crawl_undo",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("crawl", sa.String(255), nullable=False),
    sa.Column("asset_id", sa.Integer, nullable=False),
    sa.Column("created_through", sa.Integer, nullable=True),
    sa.Column("type_name", sa.String(64), nullable=True),
    sa.Column("name", sa.Text, nullable=True),
    sa.Column("status", sa.String(16), nullable=True),
    sa.Column("connection_qualified_name", sa.Text, nullable=True),
    sa.Column("schema_qualified_name", sa.Text, nullable=True),
    sa.Column("parent_qualified_name", sa.Text, nullable=True),
    sa.Column("attributes", Json, nullable=True),
    sa.Column("content_hash", sa.String(32), nullable=True),
    sa.Column("source_hash", sa.String(32), nullable=True),
    sa.Column("updated_at", Timestamp, nullable=True),
    sa.Column("updated_by", sa.String(255), nullable=True),
    sa.Index("ix_crawl_undo_crawl_asset_id", "crawl", "asset_id"),
)

# The catalog's generation: the sum of `generation` over these few rows grows with every committed write that
# can change what a search sees (see gazetteer.store.generation), so an in-process cache of search results
# keyed by it is never stale, whichever process wrote. Several rows ("slots"), each writer bumping one at
# random, so concurrent writers on PostgreSQL rarely wait for one another's row lock.
catalog_generation = sa.Table(
    "catalog_generation",
    metadata,
    sa.Column("slot", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("generation", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("pages", sa.BigInteger, nullable=False, server_default="0"),
)

# History: one row per change to one asset, appended and never rewritten (only retention deletes old rows,
# GAZETTEER_HISTORY_DAYS). Written in the same transaction as the change (gazetteer.assets.history). A crawl's
# rows carry its `run` and stay hidden while that crawl can still be rolled back (it has `crawl_undo` rows); a
# rollback deletes them. `changes` maps each changed attribute to [old, new]; a table's or view's event carries
# its schema `diff` (gazetteer.assets.schema_diff), whether any of it is `breaking`, and the downstream assets
# that lineage says it `affected`.
asset_events = sa.Table(
    "asset_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # created | updated | archived | restored
    sa.Column("asset_guid", sa.String(36), nullable=False),
    sa.Column("type_name", sa.String(64), nullable=False),
    sa.Column("qualified_name", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("connection_qualified_name", sa.Text, nullable=False),
    sa.Column("table_qualified_name", sa.Text, nullable=True),  # a column's table or view
    sa.Column("actor", sa.String(255), nullable=False),  # the user (or token's user), or the crawl's run
    sa.Column("agent", sa.String(16), nullable=False),  # crawl | api | ui | openlineage
    sa.Column("run", sa.String(255), nullable=True),
    sa.Column("changes", Json, nullable=True),
    sa.Column("diff", Json, nullable=True),
    sa.Column("breaking", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("affected", Json, nullable=True),
    sa.Index("ix_asset_events_asset_guid_id", "asset_guid", "id"),
    sa.Index("ix_asset_events_qualified_name_id", "qualified_name", "id"),
    sa.Index("ix_asset_events_table_qualified_name_id", "table_qualified_name", "id"),
    sa.Index("ix_asset_events_run_id", "run", "id"),
    sa.Index("ix_asset_events_connection_qualified_name_id", "connection_qualified_name", "id"),
    sa.Index("ix_asset_events_actor_id", "actor", "id"),  # the audit API's search by user
    sa.Index("ix_asset_events_at", "at"),
)

# Webhook subscriptions: who is told what (gazetteer.webhooks). `secret` signs each delivery (HMAC-SHA256) and
# is kept encrypted by the credential vault; `events` are the kinds subscribed to; a subscription without a
# connection hears of every connection ($admin only).
webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("guid", sa.String(36), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("format", sa.String(16), nullable=False, server_default="json"),  # json | slack
    sa.Column("connection_qualified_name", sa.Text, nullable=True),
    sa.Column("asset_types", Json, nullable=True),
    sa.Column("events", Json, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

# The webhook outbox and its log: a delivery is written in the same transaction as the change it tells of, so
# none is lost when the server dies in between; a dispatcher claims due ones (`claimed_until`), posts them and
# records the outcome. `event_key` is the idempotency key receivers see: the same on every attempt.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("webhook_id", sa.Integer,
              sa.ForeignKey("webhooks.id", name="fk_webhook_deliveries_webhook_id_webhooks", ondelete="CASCADE"),
              nullable=False),
    sa.Column("event_kind", sa.String(32), nullable=False),
    sa.Column("event_key", sa.String(64), nullable=False, unique=True),
    sa.Column("body", Json, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),  # pending | delivered | failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Timestamp, nullable=False),
    sa.Column("claimed_until", Timestamp, nullable=True),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("delivered_at", Timestamp, nullable=True),
    sa.Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    sa.Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
)

# Atlan tags (classifications): their definitions (gazetteer.assets.tag_defs). `name` is the internal name
# the wire carries in an asset's classifications (Atlan hashes it: 22 random letters and digits), `display_name`
# the one people see and type; both unique. `options` holds Atlan's color, iconName, iconType, emoji, imageID.
tag_defs = sa.Table(
    "tag_defs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("guid", sa.String(36), nullable=False, unique=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(64), nullable=False),
    sa.Column("display_key", sa.String(64), nullable=False, unique=True),  # display_name folded: no two alike
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("options", Json, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("updated_by", sa.String(255), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

# Tags on assets (gazetteer.assets.tagging), one row per asset, tag and source: a tag people put on an asset has
# `source_asset_id` = `asset_id`; one it propagated to (the columns of a tagged table, what lineage computes from
# it) names the asset that carries it directly. Kept apart from `assets`, so a crawl never rewrites them and a
# search by tag is one indexed look-up. Deleting an asset (a crawl rolled back) or a tag definition takes its
# rows with it.
asset_tags = sa.Table(
    "asset_tags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("asset_id", sa.Integer,
              sa.ForeignKey("assets.id", name="fk_asset_tags_asset_id_assets", ondelete="CASCADE"), nullable=False),
    sa.Column("tag_id", sa.Integer,
              sa.ForeignKey("tag_defs.id", name="fk_asset_tags_tag_id_tag_defs", ondelete="CASCADE"), nullable=False),
    sa.Column("source_asset_id", sa.Integer,
              sa.ForeignKey("assets.id", name="fk_asset_tags_source_asset_id_assets", ondelete="CASCADE"),
              nullable=False),
    sa.Column("propagate", sa.Boolean, nullable=False),
    sa.Column("remove_on_delete", sa.Boolean, nullable=False),  # Atlan's removePropagationsOnEntityDelete
    sa.Column("restrict_lineage", sa.Boolean, nullable=False),  # restrictPropagationThroughLineage
    sa.Column("restrict_hierarchy", sa.Boolean, nullable=False),  # restrictPropagationThroughHierarchy
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("asset_id", "tag_id", "source_asset_id"),
    sa.Index("ix_asset_tags_tag_id_asset_id", "tag_id", "asset_id"),
    sa.Index("ix_asset_tags_source_asset_id_tag_id", "source_asset_id", "tag_id"),
)

# Glossary terms assigned to assets (Atlan's `meanings`; gazetteer.assets.meanings), by guid: a guid is never
# reused, so a row outlives a crawl's rollback harmlessly, and a re-crawl (which keeps every asset's guid, an
# archived one's too) never touches it. Readers join both guids to active assets.
term_assignments = sa.Table(
    "term_assignments",
    metadata,
    sa.Column("asset_guid", sa.String(36), primary_key=True),
    sa.Column("term_guid", sa.String(36), primary_key=True),
    sa.Column("created_by", sa.String(255), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("ix_term_assignments_term_guid", "term_guid"),
)
