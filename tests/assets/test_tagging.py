"""Tags on assets in the core (gazetteer.assets.tagging), on SQLite and PostgreSQL: the propagation bound, the Tags
facet of the search page, and refusals that write nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gazetteer.assets import tagging
from gazetteer.assets.curation import AssetChange, save_assets
from gazetteer.assets.tag_defs import TagSpec, create_tags
from gazetteer.assets.tagging import TagEdit, TagOptions, edit_tags, tags_by_guid
from gazetteer.assets.text_search import FacetedQuery, faceted_search
from gazetteer.auth.principal import Principal
from gazetteer.errors import NotFound, PermissionDenied
from gazetteer.store.schema import asset_tags

ADMIN = Principal("u0", "admin", frozenset({"$admin"}))
MEMBER = Principal("u1", "ann", frozenset({"$member"}))
CONNECTION = "default/glue/1790000001"
TABLE = f"{CONNECTION}/AwsDataCatalog/sales/orders"


@pytest.fixture()
def catalog(engine: sa.Engine) -> sa.Engine:
    schema = TABLE.rsplit("/", 1)[0]
    changes = [AssetChange("Connection", {"qualifiedName": CONNECTION, "name": "c", "adminRoles": ["$admin"]}),
               AssetChange("Database", {"qualifiedName": schema.rsplit("/", 1)[0], "name": "AwsDataCatalog"}),
               AssetChange("Schema", {"qualifiedName": schema, "name": "sales"}),
               AssetChange("Table", {"qualifiedName": TABLE, "name": "orders"}),
               AssetChange("Table", {"qualifiedName": f"{schema}/other", "name": "other"}),
               *[AssetChange("Column", {"qualifiedName": f"{TABLE}/c{i}", "name": f"c{i}"}) for i in range(5)]]
    save_assets(engine, changes, ADMIN)
    create_tags(engine, [TagSpec("PII"), TagSpec("Gold")], ADMIN)
    return engine


def _guids(engine: sa.Engine) -> dict[str, str]:
    from gazetteer.store.schema import assets

    with engine.connect() as conn:
        return dict(conn.execute(sa.select(assets.c.qualified_name, assets.c.guid)).all())


def test_one_assignment_reaches_at_most_the_propagation_limit_nearest_first(catalog, monkeypatch) -> None:
    monkeypatch.setattr(tagging, "PROPAGATION_LIMIT", 3)
    edit_tags(catalog, ADMIN, TagEdit(add=(("PII", TagOptions(propagate=True)),)), type_name="Table",
              qualified_name=TABLE)
    guids = _guids(catalog)
    tagged = tags_by_guid(catalog, list(guids.values()))
    reached = sorted(qn for qn, guid in guids.items() if guid in tagged and qn != TABLE)
    assert reached == [f"{TABLE}/c0", f"{TABLE}/c1", f"{TABLE}/c2"]  # in name order within the first hop


def test_the_tags_facet_counts_direct_and_propagated_tags_and_ignores_its_own_filter(catalog) -> None:
    edit_tags(catalog, ADMIN, TagEdit(add=(("PII", TagOptions(propagate=True)), ("Gold", TagOptions()))),
              type_name="Table", qualified_name=TABLE)
    page = faceted_search(catalog, FacetedQuery(tags=("Gold",)))
    assert [a.qualified_name for a in page.assets] == [TABLE]
    # Disjunctive: ticking Gold still shows how many carry PII (the table and its five columns).
    assert [(b.key, b.count) for b in page.facets["tag"].buckets] == [("PII", 6), ("Gold", 1)]
    narrowed = faceted_search(catalog, FacetedQuery(tags=("PII",), types=("Column",)))
    assert narrowed.total == 5 and [(b.key, b.count) for b in narrowed.facets["tag"].buckets] == [("PII", 5)]


def test_refused_and_unknown_tags_write_nothing(catalog) -> None:
    with pytest.raises(PermissionDenied, match="not an admin of connection 'c'"):
        edit_tags(catalog, MEMBER, TagEdit(add=(("PII", TagOptions()),)), type_name="Table", qualified_name=TABLE)
    with pytest.raises(PermissionDenied, match="may not create, change or delete Atlan tag definitions .*: only a "):
        create_tags(catalog, [TagSpec("Mine")], MEMBER)
    with pytest.raises(NotFound, match="no Atlan tag 'Nope'"):
        edit_tags(catalog, ADMIN, TagEdit(add=(("PII", TagOptions()), ("Nope", TagOptions()))),
                  type_name="Table", qualified_name=TABLE)
    with catalog.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(asset_tags)).scalar() == 0
