"""`gazetteer demo`, as the README's quick start runs it (without staying up to serve)."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def test_demo_crawls_through_the_server_and_reruns_without_duplicates(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GAZETTEER_", "AWS_"))}
    env["GAZETTEER_HOME"] = str(tmp_path)
    command = [sys.executable, "-m", "gazetteer.cli", "demo", "--no-serve", "--port", "0"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "The run ended: Succeeded" in first.stdout and "Created the workflow" in first.stdout
    assert re.search(r"web UI\s+http://127\.0\.0\.1:\d+/", first.stdout)
    assert re.search(r"admin token gzt_demo_\S+", first.stdout)
    assert "orders" in first.stdout and "daily_revenue" in first.stdout
    # The crawl derived lineage (views, jobs whose scripts are in the local S3, the crawler), and says where to look.
    assert re.search(r"Lineage\s+5 views · 2 jobs · 1 crawlers", first.stdout), first.stdout
    assert re.search(r"lineage\s+http://127\.0\.0\.1:\d+/assets/[0-9a-f-]{36}/lineage", first.stdout)
    assert "gazetteer lineage default/glue/" in first.stdout
    # Then an upstream change: the plan names what breaks before the re-run records it.
    assert "Plan (nothing was written)" in first.stdout and "BREAKING" in first.stdout
    assert "column status was dropped" in first.stdout and "The re-run ended: Succeeded" in first.stdout
    assert re.search(r"changes\s+http://127\.0\.0\.1:\d+/changes\?breaking=true", first.stdout)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "Re-ran the existing workflow" in second.stdout and "0 created" in second.stdout
