"""What the workflow service and the workers know of a package: this interface, nothing package-specific.

A package turns a workflow document (the Argo JSON a client submits) into a checked `WorkflowSpec`, says
which Connection asset the workflow fills, and runs the workflow: a crawl into the catalog, reporting
progress and polling a stop callback between pages. Packages register by the name clients put in the
document's `package.argoproj.io/name` annotation (see `gazetteer.packages.package_for`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.engine import Connection, Engine

from gazetteer.assets.records import AssetRecord

__all__ = ["CREDENTIAL_PLACEHOLDER", "Package", "RunOutcome", "RunProgress", "WorkflowSpec"]

# Where a workflow document refers to its credential: the service vaults the credential and puts its guid here.
CREDENTIAL_PLACEHOLDER = "{{credentialGuid}}"


@dataclass(frozen=True)
class WorkflowSpec:
    """A checked workflow document: what the service stores and authorizes against, and what a run needs."""

    package: str
    name: str
    namespace: str
    # The Connection's attributes as the document names them (qualifiedName, name, admin users/groups/roles).
    connection: dict[str, Any]
    # The credential body from the document's payload; None when the document carries none (an update).
    credential: dict[str, Any] | None
    # What the package itself parsed (e.g. the Glue include/exclude filters); opaque to the service.
    details: Any = None


@dataclass(frozen=True)
class RunProgress:
    """How far a run is: `done` of `total` steps, and what it has found so far."""

    done: int
    total: int
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: its report is what the API, the CLI and the UI show."""

    succeeded: bool
    message: str | None
    report: dict[str, Any]


class Package(Protocol):
    """One kind of workflow (e.g. `@atlan/glue`)."""

    name: str

    def check_settings(self) -> None:
        """Refuse, with InvalidRequest naming the variable, a bad package setting (at start-up, not at a run)."""
        ...

    def parse(self, document: dict[str, Any]) -> WorkflowSpec:
        """Check a submitted document; InvalidRequest says exactly what is wrong."""
        ...

    def check(self, spec: WorkflowSpec, credential: dict[str, Any]) -> None:
        """Refuse, with InvalidRequest, a credential the workflow could not run with (before anything is stored)."""
        ...

    def connection_record(self, spec: WorkflowSpec, credential: dict[str, Any], credential_guid: str) -> AssetRecord:
        """The Connection asset the workflow creates and keeps current (its admins decide who may run it);
        `credential_guid` is the vaulted credential's, its `defaultCredentialGuid`."""
        ...

    def run(self, engine: Engine, spec: WorkflowSpec, credential: dict[str, Any], *, credential_guid: str, key: str,
            progress: Callable[[RunProgress], None], should_stop: Callable[[], bool],
            fence: Callable[[Connection], None]) -> RunOutcome:
        """Run the workflow into the catalog, all or nothing; `key` (the run's name) stamps what it writes, and
        `fence` opens each of its write transactions (it raises when the run may no longer write)."""
        ...

    def plan(self, engine: Engine, spec: WorkflowSpec, credential: dict[str, Any], *,
             credential_guid: str) -> dict[str, Any]:
        """What a run would change now, as a run report (`plan`: true), worked out without writing anything."""
        ...
