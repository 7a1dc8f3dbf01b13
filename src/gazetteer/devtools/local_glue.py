"""A local AWS Glue endpoint for tests, the demo and benchmarks.

moto in server mode speaks Glue's real HTTP/JSON protocol (and STS's, Lake Formation's and S3's, on the same
URL); ``glue_middleware`` adds what moto lacks (real paging, fault injection, a request log, column statistics,
LF-tags on resources, fast synthetic seeding). The server always runs in a subprocess:
moto is GIL-bound, and sharing the caller's interpreter would slow down (and distort timings of) the very
crawler under test.

Run it directly::

    python -m gazetteer.devtools.local_glue --host 127.0.0.1 --port 0 [--page-size N]

It prints ``LOCAL_GLUE_URL=http://127.0.0.1:PORT`` once it accepts connections. From Python use
``LocalGlue``, which starts that subprocess and talks to its control endpoints::

    with LocalGlue(page_size=2) as glue:
        client = glue.client()
        glue.set_faults([{"operation": "GetTables", "page": 1, "code": "InternalServiceException"}])

A fault rule names a Glue operation (``GetTables``), an STS one (``AssumeRole``), a Lake Formation one
(``GetResourceLFTags``), ``*`` for every call, or an S3 one as ``S3:<Operation>``, optionally for one object
key, answered the way S3 answers (403 and an XML ``<Error>`` for ``AccessDenied``)::

    glue.set_faults([{"operation": "S3:GetObject", "key": "jobs/daily_sales_etl.py", "code": "AccessDenied"}])

S3 calls are logged under the same names (``glue.requests("S3:GetObject")``). boto3 reaches S3 here with
path-style URLs (``http://127.0.0.1:PORT/<bucket>/<key>``), as it addresses any endpoint given as an IP.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any, cast

from gazetteer.devtools.glue_middleware import LocalGlueMiddleware

READY_PREFIX = "LOCAL_GLUE_URL="
DUMMY_KEY = "testing"
# What a crawl calls, all answered by the local server: Glue; STS, to assume a role or learn its account (for
# the ARNs GetTags takes); Lake Formation, for LF-tags; S3, for the scripts of Glue jobs.
SERVICES = ("GLUE", "STS", "LAKEFORMATION", "S3")


def endpoint_env(url: str) -> dict[str, str]:
    """The variables that point boto3's clients of `SERVICES` at `url` (a local Glue server)."""
    return {f"AWS_ENDPOINT_URL_{service}": url for service in SERVICES}


class LocalGlueError(RuntimeError):
    """The local Glue server could not be started or did not answer as expected."""


class LocalGlue:
    """A local Glue server in a subprocess, plus a handle to drive it from tests.

    ``page_size`` caps every paged answer (GetTables, GetDatabases, GetPartitions, ...) below Glue's own
    limits, so that even a tiny catalog exercises the NextToken loop. With ``reuse_first_pages`` (the
    default) a repeated, unchanged listing is served from the snapshot of its first run without asking
    moto again: faster, but a benchmark comparing a first and a later listing then compares cold to warm.
    """

    def __init__(
        self, page_size: int | None = None, *, reuse_first_pages: bool = True, startup_timeout: float = 60.0
    ) -> None:
        cmd = [sys.executable, "-m", "gazetteer.devtools.local_glue", "--host", "127.0.0.1", "--port", "0"]
        cmd.append("--exit-on-stdin-eof")
        if page_size is not None:
            cmd += ["--page-size", str(page_size)]
        if not reuse_first_pages:
            cmd.append("--no-reuse-first-pages")
        env = os.environ.copy()
        # Works from a source checkout too, where gazetteer may not be installed into the interpreter.
        src_dir = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src_dir, env.get("PYTHONPATH")) if p)
        # A file, not a pipe: nobody has to drain it, and its tail explains a failed start.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env
        )
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        self.page_size = page_size
        try:
            self.url = self._wait_ready(startup_timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        stdout = self._proc.stdout

        def pump() -> None:
            # Keeps reading after the URL line as well, so the child can never block on a full pipe.
            for raw in stdout:
                lines.put(raw.decode(errors="replace").strip())
            lines.put(None)

        threading.Thread(target=pump, name="local-glue-stdout", daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break  # stdout closed: the child died
            if line.startswith(READY_PREFIX):
                return line[len(READY_PREFIX) :]
        exited = self._proc.poll()
        reason = (
            f"exited with code {exited}"
            if exited is not None
            else f"did not get ready within {timeout:.0f} s"
        )
        raise LocalGlueError(f"local Glue server {reason}; stderr:\n{self._stderr_tail()}")

    def _stderr_tail(self, limit: int = 4000) -> str:
        try:
            self._stderr.seek(0)
            return self._stderr.read().decode(errors="replace")[-limit:]
        except (OSError, ValueError):
            return "<unavailable>"

    # ------------------------------------------------------------------ clients

    def client(self, region: str = "us-east-1", config: Any = None, service: str = "glue") -> Any:
        """A boto3 client of `service` (one of `SERVICES`, in boto3's spelling: "glue", "sts", "lakeformation",
        "s3") for this server (dummy credentials: moto does not check them)."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=DUMMY_KEY,
            aws_secret_access_key=DUMMY_KEY,
            config=config,
        )

    def s3_client(self, region: str = "us-east-1", config: Any = None) -> Any:
        """An S3 client for this server. Path-style always: virtual-hosted style would put the bucket into the
        host name (boto3 only falls back to path-style by itself for an IP address)."""
        from botocore.config import Config

        path_style = Config(s3={"addressing_style": "path"})
        return self.client(region, path_style if config is None else config.merge(path_style), service="s3")

    def env(self, region: str = "us-east-1") -> dict[str, str]:
        """Environment variables that point any AWS SDK (e.g. a crawler subprocess) at this server."""
        return {
            **endpoint_env(self.url),
            "AWS_ACCESS_KEY_ID": DUMMY_KEY,
            "AWS_SECRET_ACCESS_KEY": DUMMY_KEY,
            "AWS_DEFAULT_REGION": region,
        }

    # ------------------------------------------------------------------ control

    def _call(self, method: str, path: str, payload: Any = None, timeout: float = 600.0) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise LocalGlueError(
                f"{method} {path}: HTTP {exc.code}: {exc.read().decode(errors='replace')}"
            ) from exc
        return json.loads(body) if body else None

    def reset(self) -> None:
        """Wipe moto's state and forget all faults, paging snapshots, logged requests and counters."""
        self._call("POST", "/moto-api/reset")
        self._call("POST", "/_local_glue/reset")

    def set_faults(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replace the fault rules (see ``glue_faults.FaultRule``); returns them as the server holds them."""
        return cast(list[dict[str, Any]], self._call("POST", "/_local_glue/faults", rules)["rules"])

    def clear_faults(self) -> None:
        self._call("DELETE", "/_local_glue/faults")

    def faults(self) -> list[dict[str, Any]]:
        """The active rules, each with ``fired`` (how often it fired) and the remaining ``times``."""
        return cast(list[dict[str, Any]], self._call("GET", "/_local_glue/faults")["rules"])

    def requests(self, operation: str | None = None) -> list[dict[str, Any]]:
        """Logged Glue, STS, Lake Formation and S3 (``S3:GetObject``, ...) requests, oldest first: seq, time,
        operation, region, body, page, status, fault."""
        query = f"?operation={operation}" if operation else ""
        return cast(list[dict[str, Any]], self._call("GET", f"/_local_glue/requests{query}")["requests"])

    def clear_requests(self) -> None:
        """Forget logged requests and reset the per-operation counters."""
        self._call("DELETE", "/_local_glue/requests")

    def request_counts(self) -> dict[str, int]:
        """How many requests each operation received (cheaper than ``requests()``)."""
        return cast(dict[str, int], self._call("GET", "/_local_glue/stats")["counts"])

    def seed_synthetic(self, **kwargs: Any) -> dict[str, Any]:
        """Fill the catalog in-process; see ``glue_synthetic.seed_synthetic`` for the arguments."""
        return cast(dict[str, Any], self._call("POST", "/_local_glue/seed-synthetic", kwargs))

    # ------------------------------------------------------------------ lifecycle

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None:
                try:
                    proc.stdin.close()  # the child exits on EOF; terminate() is the fallback
                except OSError:
                    pass
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            if proc.stdout is not None:
                proc.stdout.close()
        self._stderr.close()

    def __enter__(self) -> LocalGlue:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def __del__(self) -> None:
        # Last resort for a forgotten handle; the stdin watch covers a parent that dies outright.
        if getattr(self, "_proc", None) is not None:
            try:
                self.stop()
            except Exception:  # noqa: BLE001 - best effort at interpreter exit
                pass


# ---------------------------------------------------------------------- server process


def _watch_stdin_and_exit() -> None:
    """Exit as soon as stdin reaches EOF, i.e. when the parent closed it or died (its pipe end closes)."""
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except (OSError, ValueError):
        pass
    os._exit(0)  # request threads may be mid-call; nothing here needs a graceful shutdown


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gazetteer.devtools.local_glue", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument("--page-size", type=int, default=None, help="cap every paged answer at N items")
    parser.add_argument(
        "--exit-on-stdin-eof", action="store_true", help="exit when stdin closes (used by LocalGlue)"
    )
    parser.add_argument(
        "--no-reuse-first-pages",
        action="store_true",
        help="ask moto again for every first page instead of reusing an unchanged snapshot",
    )
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    args = parser.parse_args(argv)
    if args.page_size is not None and args.page_size < 1:
        parser.error("--page-size must be at least 1")

    # Imported here so that importing LocalGlue in a test process does not load moto.
    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    app = LocalGlueMiddleware(
        DomainDispatcherApplication(create_backend_app),
        page_size=args.page_size,
        reuse_first_pages=not args.no_reuse_first_pages,
    )
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    # moto builds some resource URLs (e.g. SQS queue URLs) from MOTO_PORT.
    os.environ.setdefault("MOTO_PORT", str(server.server_port))

    if args.exit_on_stdin_eof:
        threading.Thread(target=_watch_stdin_and_exit, name="stdin-watch", daemon=True).start()

    def on_signal(signum: int, frame: Any) -> None:
        raise SystemExit(0)  # unwinds serve_forever in the main thread

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"{READY_PREFIX}http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
