"""``catalogql serve``: the HTTP API under uvicorn, on one or several worker processes.

:func:`serve` prepares the catalog once (creates it if missing, recovers interrupted uploads),
resolves the token secret (making the secret file if needed), then runs uvicorn on
:func:`app_from_environment`, which each worker calls to build its app from the
``CATALOGQL_SERVE_*`` variables :func:`serve` sets. Workers share the catalog:
one SQLite file (WAL) or PostgreSQL.
The app logs a line per request (:mod:`catalogql.http.access`: method, path without its query,
status, time, the principal's ``sub``, never a token) where uvicorn logs. On SIGINT/SIGTERM
uvicorn stops taking connections and lets running requests finish (up to
:data:`GRACE_SECONDS`) before the workers close the catalog.

>>> sorted(ENVIRONMENT)
['db', 'secret_file', 'storage']
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from catalogql.errors import UsageError
from catalogql.http.app import create_app
from catalogql.http.auth import SECRET_ENV, default_secret_file, resolve_secret
from catalogql.service import open_service

__all__ = ["ENVIRONMENT", "GRACE_SECONDS", "app_from_environment", "log_config", "serve"]

ENVIRONMENT = {
    "db": "CATALOGQL_SERVE_DB",
    "storage": "CATALOGQL_SERVE_STORAGE",
    "secret_file": "CATALOGQL_SERVE_SECRET_FILE",
}
"""The variables :func:`serve` hands the workers their settings in."""

GRACE_SECONDS = 30
"""How long a shutdown waits for running requests."""


def app_from_environment() -> FastAPI:
    """The app of one worker, from the variables :func:`serve` set (a uvicorn factory).

    Raises:
        UsageError: ``CATALOGQL_SERVE_DB`` is not set.
    """
    url = os.environ.get(ENVIRONMENT["db"])
    if not url:
        raise UsageError(
            f"{ENVIRONMENT['db']} is not set",
            hint="start the server with `catalogql serve --db URL`",
        )
    storage = os.environ.get(ENVIRONMENT["storage"]) or None
    secret = resolve_secret(url, os.environ.get(ENVIRONMENT["secret_file"]) or None)
    return create_app(url, storage=storage, secret=secret)


def log_config() -> dict[str, Any]:
    """The logging configuration: uvicorn's, plus the app's loggers (``catalogql.http``) at INFO.

    Their lines (each request's, and failures with their traceback) go where uvicorn's go.

    >>> log_config()["loggers"]["catalogql.http"]["level"]
    'INFO'
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["catalogql.http"] = {
        "handlers": ["default"],
        "level": "INFO",
        "propagate": False,
    }
    return config


def serve(
    db: str,
    *,
    storage: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    secret_file: str | None = None,
    log_level: str = "info",
) -> None:
    """Run the server until it is stopped (SIGINT or SIGTERM).

    Raises:
        UsageError: Several workers on a memory catalog (each would have its own), fewer
            than one worker, or a port out of range.
    """
    if workers < 1:
        raise UsageError(f"--workers {workers} is not a number of workers", hint="use 1 or more")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is not a port", hint="use 1 to 65535 (0: any free one)")
    if db.startswith("memory:") and workers > 1:
        raise UsageError(
            "several workers cannot share a memory catalog",
            hint="serve an SQLite file (sqlite:///catalog.db) or PostgreSQL, or use --workers 1",
        )
    resolve_secret(db, secret_file)  # fails early; makes the default secret file if needed
    if secret_file is None and not os.environ.get(SECRET_ENV, "").strip():
        secret_file = str(default_secret_file(db))
    with open_service(db, storage):  # create it, recover interrupted uploads, once
        pass
    os.environ[ENVIRONMENT["db"]] = db
    os.environ[ENVIRONMENT["storage"]] = storage or ""
    os.environ[ENVIRONMENT["secret_file"]] = str(Path(secret_file)) if secret_file else ""
    import uvicorn

    print(
        f"catalogql serve: http://{host}:{port} on {db} ({workers} worker(s)); "
        f"make a token with `catalogql token --sub NAME"
        + (f" --secret-file {secret_file}`" if secret_file else "`"),
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        "catalogql.http.serve:app_from_environment",
        log_config=log_config(),
        factory=True,
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        access_log=False,  # the app logs each request (catalogql.http.access), without query
        log_level=log_level,
        timeout_graceful_shutdown=GRACE_SECONDS,
        proxy_headers=False,
        server_header=False,
    )
