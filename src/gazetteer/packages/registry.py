"""The package registry: each package by the name workflow documents give it (the Glue crawler first)."""

from __future__ import annotations

from typing import Any

from gazetteer.errors import InvalidRequest
from gazetteer.packages.base import Package, WorkflowSpec
from gazetteer.packages.glue.package import GLUE

__all__ = ["Package", "WorkflowSpec", "check_settings", "package_for", "package_named", "parse_workflow"]

_REGISTRY: dict[str, Package] = {package.name: package for package in (GLUE,)}


def package_named(name: str) -> Package:
    """The registered package called `name`; InvalidRequest listing the known ones otherwise."""
    found = _REGISTRY.get(name)
    if found is None:
        raise InvalidRequest(f"Unknown package {name!r}: this server runs {', '.join(sorted(_REGISTRY))}")
    return found


def _annotation(holder: Any, where: str) -> str | None:
    if holder is None:
        return None
    if not isinstance(holder, dict):
        raise InvalidRequest(f"{where} must be a JSON object")
    annotations = holder.get("annotations")
    if annotations is not None and not isinstance(annotations, dict):
        raise InvalidRequest(f"{where}.annotations must be a JSON object")
    name = (annotations or {}).get("package.argoproj.io/name")
    return str(name) if name else None


def package_for(document: dict[str, Any]) -> Package:
    """The package a workflow document belongs to, from its annotations (pyatlan sets the name in both)."""
    spec = document.get("spec")
    if not isinstance(spec, dict):
        raise InvalidRequest("spec must be a JSON object, as the client's to_workflow() makes it")
    name = (_annotation(document.get("metadata"), "metadata")
            or _annotation(spec.get("workflowMetadata"), "spec.workflowMetadata"))
    return package_named(name or "")


def parse_workflow(document: dict[str, Any]) -> WorkflowSpec:
    """Check a workflow document with the package it names."""
    return package_for(document).parse(document)


def check_settings() -> None:
    """Refuse bad package settings now (start-up), rather than failing every run later."""
    for package in _REGISTRY.values():
        package.check_settings()
