"""The crawl's adaptive concurrency limit (gazetteer.packages.glue.concurrency), with real threads."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gazetteer.packages.glue.client import GlueReader
from gazetteer.packages.glue.concurrency import AdaptiveLimit
from gazetteer.packages.glue.config import parse_config
from gazetteer.packages.glue.crawl import crawl
from gazetteer.packages.glue.settings import GlueSettings


def test_the_limit_grows_about_one_per_window_and_stops_at_its_maximum() -> None:
    limit = AdaptiveLimit(initial=4, maximum=6)
    for _ in range(3):
        limit.answered()
    assert limit.limit == 4
    for _ in range(2):
        limit.answered()
    assert limit.limit == 5  # five answers: 4 + 1/4 + 1/4.25 + ... ≥ 5, about one window
    for _ in range(100):
        limit.answered()
    assert limit.limit == 6 and limit.peak == 6


def test_a_throttle_halves_it_once_per_window_never_below_the_floor() -> None:
    limit = AdaptiveLimit(initial=16, minimum=2)
    with limit.slot() as first, limit.slot() as second:
        limit.throttled(first)
        limit.throttled(second)  # the same burst: no second halving
    assert limit.limit == 8 and limit.decreases == 1
    for _ in range(3):
        with limit.slot() as epoch:
            limit.throttled(epoch)
    assert limit.limit == 2 and limit.decreases == 3  # 8 → 4 → 2, then the floor holds (no decrease)
    with pytest.raises(ValueError):
        AdaptiveLimit(initial=0)


def test_no_more_calls_are_in_flight_than_the_limit_allows() -> None:
    limit = AdaptiveLimit(initial=3, maximum=3)
    lock, in_flight, seen = threading.Lock(), [0], [0]

    def call() -> None:
        with limit.slot():
            with lock:
                in_flight[0] += 1
                seen[0] = max(seen[0], in_flight[0])
            time.sleep(0.01)
            with lock:
                in_flight[0] -= 1
        limit.answered()

    threads = [threading.Thread(target=call) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen[0] == 3


def test_a_reader_calls_glue_more_at_once_while_it_answers_and_less_once_it_throttles(glue) -> None:
    glue.client("us-east-1").create_database(DatabaseInput={"Name": "sales"})
    config = parse_config(connection_name="c", region="us-east-1", access_key="AKIAX", secret_key="x")
    reader = GlueReader(config, max_attempts=5, calls=AdaptiveLimit(initial=2, maximum=16))
    glue.set_faults([{"operation": "GetTables", "delay_seconds": 0.02}])
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda _: list(reader.table_pages("sales")), range(80)))
    grown = reader.calls.limit
    assert grown > 2 and reader.calls.peak == grown and reader.calls.decreases == 0
    # Four throttles in all: fewer than any one caller's five attempts, so none of them can fail, however the
    # sixteen threads interleave (a seeded probability could throttle one caller five times in a row).
    glue.set_faults([{"operation": "GetTables", "times": 4}])
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda _: list(reader.table_pages("sales")), range(8)))
    assert reader.calls.decreases >= 1 and reader.throttled >= 1 and reader.calls.limit < grown


def test_a_crawl_grows_its_limit_from_workers_and_throttling_never_takes_it_below_them(glue, engine) -> None:
    client = glue.client("us-east-1")
    for database in ("alpha", "beta"):
        client.create_database(DatabaseInput={"Name": database})
        for number in range(40):
            client.create_table(DatabaseName=database, TableInput={"Name": f"t{number}", "StorageDescriptor": {
                "Columns": [{"Name": "id", "Type": "bigint"}]}})
    config = parse_config(connection_name="c", region="us-east-1", access_key="AKIAX", secret_key="x")
    settings = GlueSettings(max_attempts=10, workers=3, max_concurrency=12, read_tags=False)
    answered = crawl(engine, config, settings=settings)
    assert answered.status == "Succeeded" and answered.concurrency["lowest"] == 3
    assert answered.concurrency["peak"] > 3 and answered.concurrency["decreases"] == 0
    # Throttled a third of the time: the limit is lowered, never below the crawl's workers.
    glue.set_faults([{"operation": "GetColumnStatisticsForTable", "probability": 0.33, "seed": 3}])
    throttled = crawl(engine, config, settings=settings)
    assert throttled.status == "Succeeded" and throttled.throttled > 0
    assert throttled.concurrency["decreases"] >= 1 and throttled.concurrency["lowest"] == 3
