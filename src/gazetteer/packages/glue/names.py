"""The Glue package's names, as Atlan and pyatlan spell them (kept import-light: the HTTP client uses them)."""

__all__ = ["DEFAULT_CATALOG", "PACKAGE", "PREFIX"]

#: The `package.argoproj.io/name` annotation of a Glue workflow.
PACKAGE = "@atlan/glue"
#: Workflow names are `<PREFIX>-<10-digit epoch>`; pyatlan's `find_by_type` searches by it.
PREFIX = "atlan-glue"
#: The catalog name in qualified names and filters when no catalog id is given.
DEFAULT_CATALOG = "AwsDataCatalog"
