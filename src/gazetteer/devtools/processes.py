"""Gazetteer servers and workers as real processes, for the tests and the benchmarks.

Each process writes its output to its own log file (read back when a start fails or a test wants to see
what a process said) and is stopped with SIGTERM, or killed with SIGKILL to play a crash.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["GazetteerProcess", "ServerProcess", "WorkerProcess", "clean_env", "free_port"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any Gazetteer, AWS or Atlan setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GAZETTEER_", "AWS_", "ATLAN_"))}
    env.update(settings)
    return env


class GazetteerProcess:
    """`gazetteer <args>` with its output in `log_path`; `ready()` says when it may be used."""

    START_SECONDS = 60.0

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.args, self.env, self.log_path = args, env, log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([sys.executable, "-m", "gazetteer.cli", *args], env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
        except BaseException:  # not ready, or interrupted while waiting (Ctrl-C): leave no orphan behind
            self.stop(kill=True)
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.START_SECONDS
        while not self.ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"gazetteer {self.args[0]} exited:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gazetteer {self.args[0]} was not ready in {self.START_SECONDS:.0f} s:\n"
                                   f"{self.log()}")
            time.sleep(0.1)

    def ready(self) -> bool:
        return True

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, kill: bool = False) -> None:
        """SIGTERM and wait (a clean shutdown), or SIGKILL (a crash)."""
        if self._log.closed:
            return
        if self.alive:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(timeout=60)
        self._log.close()


class ServerProcess(GazetteerProcess):
    """`gazetteer serve` on a free port of 127.0.0.1, ready when /health answers 200."""

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(["serve", "--port", str(self.port), "--workers", str(workers)], env, log_path)

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False


class WorkerProcess(GazetteerProcess):
    """`gazetteer worker`, ready when Celery says it is."""

    def __init__(self, env: dict[str, str], log_path: Path, *, concurrency: int = 1) -> None:
        super().__init__(["worker", "--concurrency", str(concurrency)], env, log_path)

    def ready(self) -> bool:
        return " ready." in self.log()
