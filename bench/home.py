"""Time to first byte of the web UI's home page and a table's page on a big catalog, against baselines timed in
the same run.

    python bench/home.py [--tables 50000 --columns 20] [--keep PATH] [--rounds 40]
                         [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test --keep SCHEMA]

The catalog is bench/search.py's (1 connection, 1 database, 50 schemas, `--tables` tables of `--columns` columns:
1,050,052 assets by default), generated into a SQLite file (or, with `--database-url`, a PostgreSQL schema), or
reused with `--keep`. A real `gazetteer serve` answers over loopback; a signed-in browser's requests (the sign-in
cookie) are timed from sending to the first byte of the answer's body, for: `/health` and the API's entity by
guid (`GET /api/meta/entity/guid/{guid}`, a table with its relationships) as baselines, the home page `/`, a
table's page `/assets/{guid}` (a different table each time), and a search page with words and one with a type
ticked (facets counted over 50,000 tables). The kinds take turns, after `--warmup` rounds. Ratios to the
baselines are the result: the machine is shared, absolute times drift.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _harness import ADMIN_TOKEN, Processes, median, percentile, start_server
from search import _drawn, _schema, generate

from gazetteer.devtools.processes import clean_env
from gazetteer.store import open_engine
from gazetteer.store.statistics import refresh_statistics
from gazetteer.web.ui.routing import TOKEN_COOKIE


def first_byte_ms(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    with client.stream("GET", path) as answer:
        if answer.status_code != 200:
            raise SystemExit(f"GET {path}: {answer.status_code} {answer.read()[:300]!r}")
        chunks = answer.iter_raw()
        next(chunks, b"")
        elapsed = time.perf_counter() - started
        for _ in chunks:  # the rest of the body, so the connection is free for the next request
            pass
    return elapsed * 1000


def measure(url: str, drawn: dict, rounds: int, warmup: int) -> dict:
    rng = random.Random(11)
    tables = [guid for guid, _ in drawn["tables"]]
    kinds = {
        "health": lambda: "/health",
        "entity by guid (API)": lambda: f"/api/meta/entity/guid/{rng.choice(tables)}",
        "home page": lambda: "/",
        "table page": lambda: f"/assets/{rng.choice(tables)}",
        "search page, words": lambda: f"/?q={rng.choice(('customer', 'order amount', 'event', 'supplier'))}",
        "search page, Table ticked": lambda: "/?type=Table",
    }
    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=url, cookies={TOKEN_COOKIE: ADMIN_TOKEN}, headers=headers, timeout=120) as client:
        for round_ in range(warmup + rounds):
            for kind, path in kinds.items():
                took = first_byte_ms(client, path())
                if round_ >= warmup:
                    timings[kind].append(took)
    base, api = median(timings["health"]), median(timings["entity by guid (API)"])
    return {kind: {"p50_ms": round(median(values), 1), "p95_ms": round(percentile(values, 95), 1),
                   "x_health": round(median(values) / base, 1), "x_entity": round(median(values) / api, 2)}
            for kind, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=50_000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--keep", help="reuse (or keep) the catalog: a SQLite file, or a PostgreSQL schema")
    parser.add_argument("--database-url", help="PostgreSQL: the catalog goes into a schema of the bench's own")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    report: dict = {"tables": args.tables, "columns": args.columns}
    with contextlib.ExitStack() as stack:
        if args.database_url:
            url = stack.enter_context(_schema(args))
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            url = f"sqlite:///{Path(args.keep) if args.keep else tmp / 'catalog.db'}"
        engine = open_engine(url)
        with engine.connect() as conn:
            fresh = conn.exec_driver_sql("SELECT count(*) FROM assets").scalar_one() == 0
        if fresh:
            started = time.perf_counter()
            generate(engine, args.tables, args.columns)
            if args.database_url:
                refresh_statistics(engine, changed=10**9)
            report["load_seconds"] = round(time.perf_counter() - started, 1)
        drawn = _drawn(engine)
        with engine.connect() as conn:
            report["assets"] = conn.exec_driver_sql("SELECT count(*) FROM assets").scalar_one()
        engine.dispose()
        print(f"catalog of {report['assets']:,} assets" + (f", generated in {report['load_seconds']} s" if fresh
                                                           else ", reused"), flush=True)
        home = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        processes = Processes()
        stack.callback(processes.stop_all)
        env = clean_env(GAZETTEER_HOME=str(home), GAZETTEER_DATABASE_URL=url, GAZETTEER_ADMIN_TOKEN=ADMIN_TOKEN)
        server = start_server(processes, env, home / "server.log", workers=1)
        report["results"] = measure(server.url, drawn, args.rounds, args.warmup)
    print(f"{'kind':<28} {'p50 ms':>8} {'p95 ms':>8} {'× /health':>10} {'× entity':>9}")
    for kind, row in report["results"].items():
        print(f"{kind:<28} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['x_health']:>10} {row['x_entity']:>9}")
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
