"""One live workflow per connection: kept by the database, so concurrent creates cannot both get through."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from gazetteer.store import open_engine
from gazetteer.store.engine import _MIGRATIONS
from gazetteer.workflows.models import workflows
from tests.workflows.test_workflow_api import count_rows, workflow


def test_concurrent_creates_for_one_connection_store_one_workflow(any_server, glue) -> None:
    documents = []
    for i in range(6):  # six workflow names, one connection
        document = workflow(epoch=1790000000)
        document["metadata"]["name"] = f"atlan-glue-{1791000000 + i}"
        documents.append(document)
    with ThreadPoolExecutor(len(documents)) as pool:
        answers = list(pool.map(lambda d: any_server.client().post("/api/service/workflows", json=d), documents))
    assert sorted(answer.status_code for answer in answers) == [200] + [409] * 5, [a.text for a in answers]
    assert all("re-run" in answer.json()["errorMessage"] for answer in answers if answer.status_code == 409)
    assert count_rows(any_server, "workflows") == 1
    assert count_rows(any_server, "credentials") == 1  # the refused ones left no credential behind


def test_the_migration_archives_the_later_of_two_live_workflows(engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for name, age in (("atlan-glue-first", 2), ("atlan-glue-taker", 1), ("atlan-glue-other", 0)):
            conn.execute(sa.text(
                "INSERT INTO workflows (name, namespace, uid, package, connection_qualified_name, document, "
                "generation, created_at, updated_at, created_by, archived) VALUES (:name, 'default', :uid, "
                "'@atlan/glue', :qn, '{}', 1, :at, :at, 'x', :no)"),
                {"name": name, "uid": str(uuid.uuid4()), "at": now - timedelta(hours=age), "no": False,
                 "qn": "default/glue/2" if name == "atlan-glue-other" else "default/glue/1"})
    reopened = open_engine(engine.url.render_as_string(hide_password=False))  # migrates to the head again
    with reopened.connect() as conn:
        state = dict(conn.execute(sa.select(workflows.c.name, workflows.c.archived)).all())
    reopened.dispose()
    assert state == {"atlan-glue-first": False, "atlan-glue-taker": True, "atlan-glue-other": False}
