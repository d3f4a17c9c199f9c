"""A throwaway PostgreSQL server: a private cluster in a temporary folder, gone when you are done.

:class:`ThrowawayPostgres` runs ``initdb`` and ``pg_ctl`` from the local PostgreSQL binaries on a
fresh folder under ``/tmp``, listens on a unix socket in that folder only (no TCP port to clash
with), trusts every local connection as the ``postgres`` superuser, and on ``stop()`` (or at
interpreter exit, whichever comes first) shuts the server down and deletes the folder.
As root, the server runs as the ``postgres`` OS user (``initdb`` and ``postgres`` refuse to run as
root). Durability is switched off (``fsync``, ``synchronous_commit``, ``full_page_writes``): it is a
server for tests and benchmarks, and starts in about a second.

>>> with ThrowawayPostgres() as pg:
...     pg.execute("SELECT 'a' || 'b', 6 * 7")
...     folder = pg.directory
[('ab', 42)]
>>> folder.exists()
False

Queries (:meth:`~ThrowawayPostgres.execute`, :meth:`~ThrowawayPostgres.create_database`,
:meth:`~ThrowawayPostgres.ensure_postgis`) need psycopg 3 (``pip install 'catalogql[postgres]'``);
starting and stopping the server needs only the binaries. Every problem is a
:class:`PostgresUnavailable` that says what failed, where, and how to fix it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

from catalogql.errors import CatalogqlError

if TYPE_CHECKING:
    import psycopg

__all__ = ["BIN_ENV", "PostgresUnavailable", "ThrowawayPostgres", "find_bindir"]

BIN_ENV = "CATALOGQL_PG_BIN"
"""Environment variable naming the folder that holds ``initdb`` and ``pg_ctl``."""

_SUPERUSER = "postgres"
_SOCKET_PATH_MAX = 100  # sockaddr_un.sun_path is 108 bytes on Linux, 104 on the BSDs
_LOG_TAIL_LINES = 25
_INITDB_OPTIONS = ("-A", "trust", "-U", _SUPERUSER, "-E", "UTF8", "--locale=C", "--no-sync")
_FAST_SETTINGS: Mapping[str, str | int] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
_BINARIES_HINT = (
    "install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql-15`; macOS: "
    "`brew install postgresql@15`) or set {env} to the folder that holds initdb and pg_ctl"
)


class PostgresUnavailable(CatalogqlError):
    """A throwaway PostgreSQL server could not be found, started, stopped or set up.

    The message says what failed and where, then how to fix it on a ``hint:`` line.

    >>> print(PostgresUnavailable("initdb failed in /tmp/x", hint="free some disk space"))
    initdb failed in /tmp/x
    hint: free some disk space

    Attributes:
        what: What failed, and where.
        hint: How to fix it.
    """

    def __init__(self, what: str, *, hint: str) -> None:
        super().__init__(f"{what}\nhint: {hint}")
        self.what = what
        self.hint = hint


def find_bindir(bindir: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding the PostgreSQL server binaries ``initdb`` and ``pg_ctl``.

    Looks, in order, at ``bindir``, the ``CATALOGQL_PG_BIN`` environment variable (either of which,
    when given, must be right: there is no falling back from a wrong one), ``pg_config --bindir``,
    ``/usr/lib/postgresql/<version>/bin`` newest version first, and the ``PATH``.

    Args:
        bindir: A folder to use instead of searching.

    Returns:
        The folder.

    Raises:
        PostgresUnavailable: No folder with both binaries was found.

    >>> (find_bindir() / "initdb").exists()
    True
    >>> find_bindir("/nonexistent")
    Traceback (most recent call last):
      ...
    catalogql.testing.postgres_cluster.PostgresUnavailable: no initdb and pg_ctl in /nonexistent ...
    hint: ...
    """
    hint = _BINARIES_HINT.format(env=BIN_ENV)
    for given, source in ((bindir, "given as an argument"), (os.environ.get(BIN_ENV), BIN_ENV)):
        if given:
            path = Path(given).expanduser()
            if _has_server_binaries(path):
                return path
            raise PostgresUnavailable(f"no initdb and pg_ctl in {path} ({source})", hint=hint)
    searched = []
    for candidate in _candidate_bindirs():
        if _has_server_binaries(candidate):
            return candidate
        searched.append(str(candidate))
    where = ", ".join(dict.fromkeys(searched)) or "nowhere: no pg_config, no /usr/lib/postgresql"
    raise PostgresUnavailable(
        f"PostgreSQL server binaries (initdb, pg_ctl) not found (looked in {where}, and the PATH)",
        hint=hint,
    )


def _has_server_binaries(path: Path) -> bool:
    return all(os.access(path / name, os.X_OK) for name in ("initdb", "pg_ctl"))


def _candidate_bindirs() -> list[Path]:
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))

    def version(bin_path: Path) -> tuple[int, ...]:
        digits = re.findall(r"\d+", bin_path.parent.name)
        return tuple(int(d) for d in digits) if digits else (-1,)

    installed = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(installed, key=version, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    return candidates


class ThrowawayPostgres:
    """A private PostgreSQL server on a unix socket in a temporary folder (a context manager).

    Nothing happens until :meth:`start` (or ``with``); :meth:`stop` shuts the server down and
    deletes the folder, and runs by itself at interpreter exit or when the object is collected, so
    no server is left running. The superuser is ``postgres``, with no password.

    Args:
        bindir: The folder holding ``initdb`` and ``pg_ctl`` (default: :func:`find_bindir`).
        port: The port number; it names the socket file, so any will do (no TCP is used).
        base_dir: Where to make the temporary folder (default ``/tmp``: the socket path must stay
            under 100 characters, and as root the ``postgres`` user must be able to reach it).
        settings: ``postgresql.conf`` settings added to, or replacing, the defaults (durability
            off); e.g. ``{"fsync": "on", "max_connections": 200}``.
        timeout: Seconds to wait for the server to start or stop.

    >>> pg = ThrowawayPostgres().start()
    >>> pg.url == f"postgresql+psycopg://postgres@/postgres?host={pg.host}&port={pg.port}"
    True
    >>> pg.execute("SHOW listen_addresses")
    [('',)]
    >>> pg.stop()
    >>> pg.running
    False
    """

    def __init__(
        self,
        bindir: str | os.PathLike[str] | None = None,
        *,
        port: int = 5432,
        base_dir: str | os.PathLike[str] | None = None,
        settings: Mapping[str, str | int] | None = None,
        timeout: float = 60.0,
    ) -> None:
        self._bindir_arg = bindir
        self._port = port
        self._base_dir = base_dir
        self._settings = {**_FAST_SETTINGS, **(settings or {})}
        self._timeout = timeout
        self._directory: Path | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def __repr__(self) -> str:
        state = f"running on {self._directory}" if self.running else "stopped"
        return f"<ThrowawayPostgres {state}>"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Self:
        """Create the cluster and start the server; returns ``self``.

        Returns:
            This server, running.

        Raises:
            PostgresUnavailable: The binaries are missing, or ``initdb`` or the server failed
                (the message quotes the end of its log). Nothing is left behind.

        >>> pg = ThrowawayPostgres().start()
        >>> pg.running, pg.directory.is_dir()
        (True, True)
        >>> pg.stop()
        """
        if self._directory is not None:
            raise PostgresUnavailable(
                f"this server is already running in {self._directory}",
                hint="call stop() first, or make another ThrowawayPostgres",
            )
        bindir = find_bindir(self._bindir_arg)
        prefix, owner = _run_as()
        base = Path(self._base_dir) if self._base_dir else _default_base_dir()
        directory = Path(tempfile.mkdtemp(prefix="catalogql-pg-", dir=base))
        data = directory / "data"
        self._directory = directory
        pg_ctl, seconds = [*prefix, str(bindir / "pg_ctl")], str(max(1, round(self._timeout)))
        self._finalizer = weakref.finalize(self, _shutdown, pg_ctl, data, directory, seconds)
        try:
            socket = directory / f".s.PGSQL.{self._port}"
            if len(str(socket)) >= _SOCKET_PATH_MAX:
                raise PostgresUnavailable(
                    f"the socket path {socket} is {len(str(socket))} characters long, "
                    f"more than a unix socket allows",
                    hint="pass a shorter base_dir, such as /tmp",
                )
            if owner is not None:
                os.chown(directory, *owner)
            self._run(
                [*prefix, str(bindir / "initdb"), "-D", str(data), *_INITDB_OPTIONS],
                what=f"initdb failed in {directory}",
                hint="see the output above; a full disk or a broken installation are the usual "
                f"causes, or point {BIN_ENV} at another PostgreSQL",
            )
            settings = {
                **self._settings,
                "listen_addresses": "",
                "unix_socket_directories": str(directory),
                "port": self._port,
            }
            with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
                conf.write("\n# catalogql throwaway server\n")
                conf.writelines(f"{key} = {_conf_value(val)}\n" for key, val in settings.items())
            log = directory / "log"
            self._run(
                [*pg_ctl, "start", "-D", str(data), "-l", str(log), "-w", "-t", seconds],
                what=f"the PostgreSQL server in {data} did not start",
                hint="see the server log above",
                log=log,
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder; does nothing when not running.

        The folder goes even when the server cannot be stopped cleanly (it is then killed).

        >>> pg = ThrowawayPostgres().start()
        >>> folder = pg.directory
        >>> pg.stop()
        >>> folder.exists(), pg.running
        (False, False)
        """
        finalizer, self._finalizer, self._directory = self._finalizer, None, None
        if finalizer is not None:
            finalizer()

    @property
    def running(self) -> bool:
        """Whether :meth:`start` has run and :meth:`stop` has not."""
        return self._directory is not None

    @property
    def directory(self) -> Path:
        """The temporary folder: the cluster in ``data/``, the server ``log``, and the socket."""
        if self._directory is None:
            raise PostgresUnavailable(
                "this throwaway PostgreSQL server is not running",
                hint="call start() first, or use it in a `with` block",
            )
        return self._directory

    @property
    def host(self) -> str:
        """The ``host`` to connect to: the folder holding the unix socket."""
        return str(self.directory)

    @property
    def port(self) -> int:
        """The port number (it only names the socket file ``.s.PGSQL.<port>``)."""
        return self._port

    @property
    def user(self) -> str:
        """The superuser to connect as (no password): ``postgres``."""
        return _SUPERUSER

    @property
    def url(self) -> str:
        """A SQLAlchemy URL for the ``postgres`` database, with the psycopg 3 driver."""
        return self.url_for("postgres")

    @property
    def dsn(self) -> str:
        """A libpq connection string for the ``postgres`` database (for ``psycopg.connect``)."""
        return self.dsn_for("postgres")

    def url_for(self, database: str) -> str:
        """A SQLAlchemy URL for ``database``, with the psycopg 3 driver.

        Args:
            database: The database name.

        Returns:
            ``postgresql+psycopg://postgres@/<database>?host=<folder>&port=<port>``.

        >>> with ThrowawayPostgres() as pg:
        ...     pg.url_for("my db").startswith("postgresql+psycopg://postgres@/my%20db?host=/")
        True
        """
        return (
            f"postgresql+psycopg://{_SUPERUSER}@/{quote(database, safe='')}"
            f"?host={quote(self.host, safe='/')}&port={self.port}"
        )

    def dsn_for(self, database: str) -> str:
        """A libpq connection string for ``database``.

        Args:
            database: The database name.

        Returns:
            ``host=<folder> port=<port> user=postgres dbname=<database>``, values quoted as needed.

        >>> with ThrowawayPostgres() as pg:
        ...     pg.dsn_for("my db").endswith("user=postgres dbname='my db'")
        True
        """
        parts = {"host": self.host, "port": self.port, "user": _SUPERUSER, "dbname": database}
        return " ".join(f"{key}={_conninfo_value(str(val))}" for key, val in parts.items())

    def connect(self, database: str = "postgres") -> psycopg.Connection[tuple[Any, ...]]:
        """A new psycopg connection to ``database``, in autocommit mode; close it when done.

        Args:
            database: The database name.

        Returns:
            The connection.

        >>> with ThrowawayPostgres() as pg, pg.connect() as conn:
        ...     conn.execute("SELECT current_user").fetchone()
        ('postgres',)
        """
        try:
            import psycopg
        except ImportError as exc:
            raise _psycopg_missing() from exc
        return psycopg.connect(self.dsn_for(database), autocommit=True)

    def execute(
        self,
        sql: str,
        params: Sequence[Any] | Mapping[str, Any] | None = None,
        *,
        database: str = "postgres",
    ) -> list[tuple[Any, ...]]:
        """Run one statement in autocommit mode on a new connection; returns its rows.

        Args:
            sql: The statement, with ``%s`` or ``%(name)s`` placeholders.
            params: Values for the placeholders.
            database: The database to run it in.

        Returns:
            The rows, or ``[]`` for a statement that returns none.

        >>> with ThrowawayPostgres() as pg:
        ...     pg.execute("SELECT %s::int + 1", [41])
        [(42,)]
        """
        with self.connect(database) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description is not None else []

    def create_database(self, name: str, *, template: str = "template1") -> str:
        """Create the database ``name`` as a copy of ``template``; returns its SQLAlchemy URL.

        Args:
            name: The new database's name (any text: it is quoted).
            template: The database to copy; ``template1`` (the default) carries whatever was added
                to it, such as PostGIS by ``ensure_postgis("template1")``; ``template0`` is empty.

        Returns:
            The new database's URL (see :meth:`url_for`).

        >>> with ThrowawayPostgres() as pg:
        ...     url = pg.create_database("scratch")
        ...     pg.execute("SELECT current_database()", database="scratch")
        [('scratch',)]
        """
        from psycopg import sql

        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)
        )
        with self.connect() as conn:
            conn.execute(statement)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop the database ``name`` if it exists, closing any connections to it.

        Args:
            name: The database's name.

        >>> with ThrowawayPostgres() as pg:
        ...     _ = pg.create_database("scratch")
        ...     pg.drop_database("scratch")
        ...     pg.execute("SELECT count(*) FROM pg_database WHERE datname = 'scratch'")
        [(0,)]
        """
        from psycopg import sql

        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with self.connect() as conn:
            conn.execute(statement)

    def ensure_postgis(self, database: str = "postgres") -> str:
        """Create the PostGIS extension in ``database`` unless it is there; returns its version.

        Args:
            database: The database; ``template1`` gives PostGIS to every database created later.

        Returns:
            The PostGIS library version, such as ``"3.3.2"``.

        Raises:
            PostgresUnavailable: PostGIS is not installed for this PostgreSQL (the message names
                the package to install).

        >>> with ThrowawayPostgres() as pg:
        ...     pg.ensure_postgis().startswith("3.")
        True
        """
        from psycopg import errors

        with self.connect(database) as conn:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except (errors.FeatureNotSupported, errors.UndefinedFile) as exc:
                major = (conn.info.server_version // 10000) or 15
                reason = " ".join(str(exc).splitlines()[:2])  # the error and its DETAIL
                raise PostgresUnavailable(
                    f"PostGIS is not installed for the PostgreSQL {major} in {self._bindir_text()} "
                    f"(CREATE EXTENSION postgis in database {database!r}: {reason})",
                    hint="install it (Debian/Ubuntu: "
                    f"`apt-get install postgresql-{major}-postgis-3`)",
                ) from exc
            row = conn.execute("SELECT postgis_lib_version()").fetchone()
        assert row is not None
        return str(row[0])

    def _bindir_text(self) -> str:
        try:
            return str(find_bindir(self._bindir_arg))
        except PostgresUnavailable:
            return "an unknown folder"

    def _run(self, command: list[str], *, what: str, hint: str, log: Path | None = None) -> None:
        try:
            done = subprocess.run(
                command,
                cwd=self.directory,  # the postgres user may not be able to enter ours
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=self._timeout + 30,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise PostgresUnavailable(f"{what}: {exc}", hint=hint) from exc
        if done.returncode != 0:
            output = done.stdout + done.stderr
            if log is not None and log.exists():
                output += log.read_text(encoding="utf-8", errors="replace")
            tail = "\n".join(output.strip().splitlines()[-_LOG_TAIL_LINES:])
            command_text = " ".join(command)
            raise PostgresUnavailable(
                f"{what} (exit status {done.returncode} from: {command_text})\n{tail}", hint=hint
            )


def _default_base_dir() -> Path:
    tmp = Path("/tmp")
    return tmp if tmp.is_dir() else Path(tempfile.gettempdir())


def _run_as() -> tuple[list[str], tuple[int, int] | None]:
    """The command prefix to run the server binaries with, and who must own the folder."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return [], None
    import pwd

    try:
        user = pwd.getpwnam(_SUPERUSER)
    except KeyError:
        raise PostgresUnavailable(
            "running as root, and there is no `postgres` user to run the PostgreSQL server as "
            "(initdb and postgres refuse to run as root)",
            hint="create one (`useradd --system postgres`), or run as an ordinary user",
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable(
            "running as root, and there is no `runuser` to run the PostgreSQL server as the "
            "`postgres` user (initdb and postgres refuse to run as root)",
            hint="install util-linux, or run as an ordinary user",
        )
    return [runuser, "-u", _SUPERUSER, "--"], (user.pw_uid, user.pw_gid)


def _shutdown(pg_ctl: list[str], data: Path, directory: Path, seconds: str) -> None:
    """Stop the server in ``data`` (fast, then immediate, then SIGKILL) and delete ``directory``."""
    try:
        pid_file = data / "postmaster.pid"
        for mode in ("fast", "immediate"):
            if not pid_file.exists():
                break
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(
                    [*pg_ctl, "stop", "-D", str(data), "-m", mode, "-w", "-t", seconds],
                    cwd=directory,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=int(seconds) + 30,
                )
        if pid_file.exists():  # pg_ctl could not stop it: kill the postmaster, if it still is one
            with contextlib.suppress(OSError, ValueError, IndexError):
                pid = int(pid_file.read_text().split()[0])
                if Path(f"/proc/{pid}/comm").read_text().strip() == "postgres":
                    os.kill(pid, signal.SIGKILL)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _conf_value(value: str | int) -> str:
    """A ``postgresql.conf`` value: quoted, with quotes and backslashes escaped."""
    escaped = str(value).replace("\\", "\\\\").replace("'", "''")
    return f"'{escaped}'"


def _conninfo_value(value: str) -> str:
    """A libpq connection-string value, quoted when it is empty or holds spaces or quotes."""
    if value and not re.search(r"[\s'\\]", value):
        return value
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _psycopg_missing() -> PostgresUnavailable:
    return PostgresUnavailable(
        "psycopg 3 is not installed: it is needed to connect to the server",
        hint="pip install 'catalogql[postgres]' (or psycopg[binary])",
    )
