"""The glossary in the store, on SQLite and PostgreSQL: glossary items saved as entity/bulk saves them, terms on
assets (searched, faceted, kept by a re-publish, hidden with an archived term), the category tree, who may."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from gazetteer.assets.curation import AssetChange, save_assets
from gazetteer.assets.glossary import delete_items
from gazetteer.assets.glossary_browse import glossary_contents, list_glossaries
from gazetteer.assets.meanings import TermsChange
from gazetteer.assets.publish import Publisher
from gazetteer.assets.search import search_assets
from gazetteer.assets.text_search import FacetedQuery, faceted_search
from gazetteer.errors import Conflict, InvalidRequest, PermissionDenied
from gazetteer.search import parse_search_request
from gazetteer.store.schema import asset_events, term_assignments
from tests.assets.test_curation import ADMIN, ALICE, BOB, GUEST, ORDERS, _guid, _records, catalog  # noqa: F401


def _ref(guid: str) -> dict[str, Any]:
    return {"typeName": "AtlasGlossaryTerm", "guid": guid}


def _glossary(engine: sa.Engine, who=ADMIN) -> dict[str, str]:
    """Sales: Money > Refunds; Revenue (in Money) and Margin."""
    anchor = {"typeName": "AtlasGlossary", "guid": "-1"}
    saved = save_assets(engine, [
        AssetChange("AtlasGlossary", {"qualifiedName": "-10", "name": "Sales"}, "-1"),
        AssetChange("AtlasGlossaryCategory", {"qualifiedName": "-11", "name": "Money", "anchor": anchor}, "-2"),
        AssetChange("AtlasGlossaryCategory", {"qualifiedName": "-12", "name": "Refunds", "anchor": anchor,
                                              "parentCategory": {"guid": "-2"}}, "-3"),
        AssetChange("AtlasGlossaryTerm", {"qualifiedName": "-13", "name": "Revenue", "anchor": anchor,
                                          "categories": [{"guid": "-2"}], "userDescription": "Net sales"}, "-4"),
        AssetChange("AtlasGlossaryTerm", {"qualifiedName": "-14", "name": "Margin", "anchor": anchor}, "-5"),
    ], who)
    return dict(zip(("glossary", "money", "refunds", "revenue", "margin"),
                    (saved.assigned[g] for g in ("-1", "-2", "-3", "-4", "-5")), strict=True))


def _assign(engine: sa.Engine, who=ADMIN, **terms: Any) -> None:
    save_assets(engine, [AssetChange("Table", {"qualifiedName": ORDERS, "name": "orders",
                                               **({"meanings": terms.pop("replace")} if "replace" in terms else {})},
                                     terms=TermsChange(None, terms.get("append"), terms.get("remove")))], who)


def _found(engine: sa.Engine, query: dict[str, Any]) -> list[str]:
    result = search_assets(engine, parse_search_request({"query": query, "size": 50}))
    return sorted(asset.name for asset in result.assets)


def test_terms_on_an_asset_are_searched_faceted_and_kept(catalog: sa.Engine) -> None:  # noqa: F811
    guids = _glossary(catalog)
    _assign(catalog, append=[_ref(guids["revenue"]), _ref(guids["margin"])])
    revenue_qn = search_assets(catalog, parse_search_request({"query": {"term": {"__guid": guids["revenue"]}}})
                               ).assets[0].qualified_name
    assert _found(catalog, {"term": {"__meanings": revenue_qn}}) == ["orders"]
    assert _found(catalog, {"terms": {"__meaningsText": ["Margin", "Nope"]}}) == ["orders"]
    assert _found(catalog, {"match": {"__meaningsText": "revenue"}}) == ["orders"]
    assert _found(catalog, {"bool": {"filter": [{"exists": {"field": "__meanings"}}]}}) == ["orders"]
    unassigned = _found(catalog, {"bool": {"must_not": [{"exists": {"field": "__meanings"}}],
                                           "filter": [{"term": {"__typeName.keyword": "Table"}}]}})
    assert "orders" not in unassigned
    with pytest.raises(InvalidRequest, match="only term, terms and exists are supported on .__meanings."):
        _found(catalog, {"prefix": {"__meanings": "x"}})

    # The search page's facet, and its filter.
    page = faceted_search(catalog, FacetedQuery())
    assert [(b.key, b.count) for b in page.facets["term"].buckets] == [("Margin", 1), ("Revenue", 1)]
    narrowed = faceted_search(catalog, FacetedQuery(terms=("Revenue",)))
    assert [a.name for a in narrowed.assets] == ["orders"]

    # A re-publish that rewrites the table (as a re-crawl does) keeps them; so do an archive and a restore.
    Publisher(catalog).publish(_records(rowCount=501))
    assert _found(catalog, {"term": {"__meanings": revenue_qn}}) == ["orders"]
    Publisher(catalog).archive([ORDERS])
    active = {"bool": {"filter": [{"term": {"__meanings": revenue_qn}}, {"term": {"__state": "ACTIVE"}}]}}
    assert _found(catalog, active) == []
    Publisher(catalog).publish(_records(rowCount=502))  # back, with its guid and so its terms
    assert _found(catalog, active) == ["orders"]

    # Removing one, then replacing all; each change is an event in the table's history.
    _assign(catalog, remove=[_ref(guids["margin"])])
    assert _found(catalog, {"term": {"__meaningsText": "Margin"}}) == []
    _assign(catalog, replace=[_ref(guids["margin"])])
    assert _found(catalog, {"term": {"__meaningsText": "Margin"}}) == ["orders"]
    assert _found(catalog, {"term": {"__meaningsText": "Revenue"}}) == []
    with catalog.connect() as conn:
        changes = [row.changes for row in conn.execute(sa.select(asset_events.c.changes).where(
            asset_events.c.asset_guid == _guid(catalog, ORDERS), asset_events.c.actor == "admin"))]
    assert {"meanings": [["Margin", "Revenue"], ["Revenue"]]} in changes
    assert {"meanings": [["Revenue"], ["Margin"]]} in changes

    # Archiving a term hides it; deleting it for good removes the assignment.
    delete_items(catalog, [guids["margin"]], ADMIN, hard=False)
    assert _found(catalog, {"term": {"__meaningsText": "Margin"}}) == []
    with catalog.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(term_assignments)).scalar_one() == 1
    delete_items(catalog, [guids["margin"]], ADMIN, hard=True)
    with catalog.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(term_assignments)).scalar_one() == 0


def test_names_are_unique_and_the_tree_holds(catalog: sa.Engine) -> None:  # noqa: F811
    guids = _glossary(catalog)
    (summary,) = list_glossaries(catalog)
    assert (summary.glossary.name, summary.terms, summary.categories) == ("Sales", 2, 2)
    contents = glossary_contents(catalog, guids["glossary"])
    assert [(n.category.name, n.terms, [k.category.name for k in n.children]) for n in contents.tree] == \
        [("Money", 1, ["Refunds"])]
    assert [t.name for t in contents.terms] == ["Margin", "Revenue"]
    assert [t.name for t in glossary_contents(catalog, guids["glossary"], category_guid=guids["money"]).terms] == \
        ["Revenue"]
    anchor = {"typeName": "AtlasGlossary", "guid": guids["glossary"]}
    with pytest.raises(Conflict, match="already exists in this glossary"):
        save_assets(catalog, [AssetChange("AtlasGlossaryTerm", {"qualifiedName": "-1", "name": "Revenue",
                                                                 "anchor": anchor})], ADMIN)
    with pytest.raises(Conflict, match="AtlasGlossary named 'Sales'"):
        save_assets(catalog, [AssetChange("AtlasGlossary", {"qualifiedName": "-1", "name": "Sales"})], ADMIN)
    money = search_assets(catalog, parse_search_request({"query": {"term": {"__guid": guids["money"]}}})).assets[0]
    with pytest.raises(InvalidRequest, match="below itself"):
        save_assets(catalog, [AssetChange("AtlasGlossaryCategory", {
            "qualifiedName": money.qualified_name, "name": "Money", "anchor": anchor,
            "parentCategory": {"guid": guids["refunds"]}})], ADMIN)
    # An update naming no anchor keeps the item in its glossary: a rename, and its categories kept.
    revenue = search_assets(catalog, parse_search_request({"query": {"term": {"__guid": guids["revenue"]}}})).assets[0]
    save_assets(catalog, [AssetChange("AtlasGlossaryTerm", {"qualifiedName": revenue.qualified_name,
                                                             "name": "Net revenue"})], ADMIN)
    assert [t.name for t in glossary_contents(catalog, guids["glossary"], category_guid=guids["money"]).terms] == \
        ["Net revenue"]
    # Purging a category moves its children up and takes it out of its terms.
    delete_items(catalog, [guids["money"]], ADMIN, hard=True)
    contents = glossary_contents(catalog, guids["glossary"])
    assert [(n.category.name, n.children) for n in contents.tree] == [("Refunds", ())]
    assert [t.attributes.get("categories") for t in contents.terms] == [None, []]
    # Archiving the glossary archives what it holds.
    delete_items(catalog, [guids["glossary"]], ADMIN, hard=False)
    assert list_glossaries(catalog) == ()
    assert _found(catalog, {"term": {"__typeName.keyword": "AtlasGlossaryTerm"}}) == ["Margin", "Net revenue"]
    assert _found(catalog, {"bool": {"filter": [{"term": {"__typeName.keyword": "AtlasGlossaryTerm"}},
                                                {"term": {"__state": "ACTIVE"}}]}}) == []


def test_who_may_manage_the_glossary_and_assign_its_terms(catalog: sa.Engine) -> None:  # noqa: F811
    with pytest.raises(PermissionDenied, match="read-only"):
        _glossary(catalog, GUEST)
    guids = _glossary(catalog, BOB)  # any $member manages the glossary...
    with pytest.raises(PermissionDenied, match="not an admin of connection"):
        _assign(catalog, BOB, append=[_ref(guids["revenue"])])  # ...but curates only the connections he admins
    _assign(catalog, ALICE, append=[_ref(guids["revenue"])])
    assert _found(catalog, {"exists": {"field": "__meanings"}}) == ["orders"]
    with pytest.raises(PermissionDenied):
        delete_items(catalog, [guids["revenue"]], GUEST, hard=False)
    with pytest.raises(InvalidRequest, match="not a glossary item"):
        delete_items(catalog, [_guid(catalog, ORDERS)], ADMIN, hard=False)


def test_the_terms_facet_of_a_search_by_term(catalog: sa.Engine) -> None:  # noqa: F811
    """A search filtered by one term, counting every term of its hits: the two uses of the assignments table in
    one statement must not mix up."""
    from gazetteer.api.asset_search import index_search

    guids = _glossary(catalog)
    _assign(catalog, append=[_ref(guids["revenue"]), _ref(guids["margin"])])
    answer = index_search(catalog, {"dsl": {"size": 0, "query": {"term": {"__meaningsText": "revenue"}},
                                            "aggregations": {"t": {"terms": {"field": "__meaningsText"}},
                                                             "n": {"terms": {"field": "__typeName.keyword"}}}}})
    buckets = answer["aggregations"]["t"]["buckets"]
    assert [(b["key"], b["doc_count"]) for b in buckets] == [("Margin", 1), ("Revenue", 1)]
    assert [(b["key"], b["doc_count"]) for b in answer["aggregations"]["n"]["buckets"]] == [("Table", 1)]


def test_term_assignments_are_what_migration_0016_made(engine: sa.Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from gazetteer.store.schema import metadata

    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
        columns = {c["name"] for c in sa.inspect(conn).get_columns("term_assignments")}
    assert [diff for diff in diffs if "term_assignments" in repr(diff)] == []
    assert columns == {"asset_guid", "term_guid", "created_by", "created_at"}
