"""Who can own an asset (auth.people): suggestions as one types, and names resolved to users and groups, on
SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from gazetteer.auth.people import resolve, suggest
from gazetteer.auth.service import create_group, create_token, create_user


def _people(engine: sa.Engine) -> None:
    create_group(engine, "stewards", "Data stewards")
    create_group(engine, "bob")  # a group named as a user is: the user wins
    create_user(engine, "dora", "$member", "dora@example.com", ["stewards"], first_name="Dora", last_name="Maar")
    create_user(engine, "bob", "$member")
    create_user(engine, "under_score", "$guest")
    create_token(engine, "robot", "$member")  # service-account-robot: not a person


def test_suggestions_match_names_first_and_last_names_and_aliases(engine: sa.Engine) -> None:
    _people(engine)
    with engine.connect() as conn:
        def names(text: str) -> list[tuple[str, str]]:
            return [(person.name, person.kind) for person in suggest(conn, text)]

        assert names("") == [("admin", "user"), ("bob", "user"), ("dora", "user"), ("under_score", "user"),
                             ("bob", "group"), ("stewards", "group")]
        assert names("MAA") == [("dora", "user")] and names("data") == [("stewards", "group")]
        assert names("under_") == [("under_score", "user")]
        assert names("_") == [] and names("%") == [] and names("service") == []
        assert suggest(conn, "d")[0].label == "user · Dora Maar · dora@example.com"
        assert suggest(conn, "ste")[0].label == "group · Data stewards"
        assert len(suggest(conn, "", limit=2)) == 2 and suggest(conn, "x" * 10_000) == []


def test_names_resolve_to_users_then_groups(engine: sa.Engine) -> None:
    _people(engine)
    with engine.connect() as conn:
        found = resolve(conn, ["dora", "stewards", "bob", "nobody", "service-account-robot", "", "x" * 300, "dora"])
    assert found.users == ("dora", "bob") and found.groups == ("stewards",)
    assert found.unknown == ("nobody", "service-account-robot", "x" * 300)
