"""Helpers of the HTTP tests: tokens, a free port, and a ``catalogql serve`` subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from catalogql.http.auth import make_token

ROOT = Path(__file__).resolve().parents[1]
SECRET = b"test-secret-of-the-http-tests-0123456789"


def bearer(sub: str = "alice", secret: bytes = SECRET, **claims: object) -> dict[str, str]:
    """The Authorization header of a valid token for ``sub``."""
    token = make_token(secret, sub, ttl=3600, **claims)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    """A running ``catalogql serve``: its base URL, process and log file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    secret_file: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def launch(
    db: str,
    folder: Path,
    *args: str,
    timeout: float = 120.0,
    secret: bool = True,
    new_session: bool = False,
) -> Server:
    """Start ``catalogql serve --db DB`` on a free port and wait until it answers ``/healthz``.

    It runs in ``folder``, with ``--secret-file`` holding :data:`SECRET` (``secret=False``: none,
    so the server finds or makes its own, as a user's would); ``new_session``: in a process group
    of its own, so that a signal can reach the uvicorn supervisor and its workers at once. A
    server that exits or does not answer within ``timeout`` is killed and the test fails with
    its log."""
    secret_file = folder / "secret"
    secret_file.write_bytes(SECRET)
    port = free_port()
    log = folder / f"serve-{port}-{uuid.uuid4().hex[:6]}.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        env.pop(proxy, None)
    command = [sys.executable, "-m", "catalogql", "serve", "--db", db, "--port", str(port)]
    command += ["--secret-file", str(secret_file), *args] if secret else list(args)
    env.pop("CATALOGQL_SECRET", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=folder,
            start_new_session=new_session,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log, secret_file)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{server.log_text()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1.0, trust_env=False).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            if new_session:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            process.wait()
            raise AssertionError(f"serve did not answer /healthz:\n{server.log_text()}")
        time.sleep(0.1)


@contextmanager
def serving(
    db: str, folder: Path, *args: str, timeout: float = 120.0, secret: bool = True
) -> Iterator[Server]:
    """:func:`launch` the server for the block; then SIGTERM (and, 15 s later, kill)."""
    server = launch(db, folder, *args, timeout=timeout, secret=secret)
    process = server.process
    try:
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
