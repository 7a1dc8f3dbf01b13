"""The glossary's pages: the glossaries (`/glossary`), one glossary with its category tree and terms
(`/glossary/{guid}`, `?category=` for one category's terms), and a term (`/glossary/term/{guid}`): its definition,
its categories, the assets it is assigned to, and the way back to its glossary.

Glossaries, categories and terms are made and changed with pyatlan or the API (entity/bulk); these pages read
(`gazetteer.assets.glossary_browse`, `gazetteer.assets.meanings`). An asset page names its terms as links here, and
`/assets/{guid}` of a glossary item comes here (`glossary_url`).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from gazetteer.assets.browse import get_asset
from gazetteer.assets.glossary_browse import glossary_contents, list_glossaries
from gazetteer.assets.meanings import assets_of_term
from gazetteer.assets.records import GLOSSARY_TYPES
from gazetteer.assets.views import AssetView
from gazetteer.errors import NotFound
from gazetteer.web.ui.routing import UserDep, read_engine, render, router

__all__ = ["glossary_url", "PAGE_SIZE"]

PAGE_SIZE = 100
_LONGEST_GUID = 64


def glossary_url(asset: AssetView) -> str:
    """Where a glossary item is shown: its glossary's page (a category: that page, showing its terms) or its own."""
    if asset.type_name == "AtlasGlossaryTerm":
        return f"/glossary/term/{asset.guid}"
    if asset.type_name == "AtlasGlossaryCategory":
        return f"/glossary/{asset.guid}?category={asset.guid}"
    return f"/glossary/{asset.guid}"


def _pages(total: int) -> int:
    return max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)


@router.get("/glossary")
def glossaries_page(request: Request, user: UserDep) -> Response:
    return render(request, "glossaries.html", {"glossaries": list_glossaries(read_engine(request))})


@router.get("/glossary/term/{guid}")
def term_page(request: Request, user: UserDep, guid: str, page: int = 1) -> Response:
    engine = read_engine(request)
    term = get_asset(engine, guid=guid[:_LONGEST_GUID], relationships=True)
    if term.type_name != "AtlasGlossaryTerm":
        raise NotFound(f"{term.name!r} is a {term.type_name}, not a term.")
    page = max(1, page)
    total, assigned = assets_of_term(engine, term.guid, start=(page - 1) * PAGE_SIZE, size=PAGE_SIZE)
    related = term.related or {}
    context: dict[str, Any] = {"term": term, "a": term.attributes, "glossary": related.get("anchor"),
                               "categories": related.get("categories") or (), "assigned": assigned, "total": total,
                               "page": page, "pages": _pages(total)}
    return render(request, "term.html", context)


@router.get("/glossary/{guid}")
def glossary_page(request: Request, user: UserDep, guid: str, category: str | None = None,
                  page: int = 1) -> Response:
    page = max(1, page)
    contents = glossary_contents(read_engine(request), guid[:_LONGEST_GUID],
                                 category_guid=category[:_LONGEST_GUID] if category else None,
                                 start=(page - 1) * PAGE_SIZE, size=PAGE_SIZE)
    return render(request, "glossary.html", {"g": contents, "a": contents.glossary.attributes, "page": page,
                                             "pages": _pages(contents.total), "glossary_types": GLOSSARY_TYPES})
