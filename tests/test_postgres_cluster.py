"""The throwaway PostgreSQL server starts, has PostGIS and JSONB, isolates databases, and goes."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from catalogql.testing.postgres_cluster import BIN_ENV, PostgresUnavailable, ThrowawayPostgres

# The fixtures; harmless when tests/conftest.py registers the plugin too.
pytest_plugins = ["postgres_fixtures"]


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for its parent counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    return "zombie" not in state


def test_server_answers(postgres_engine: sa.Engine) -> None:
    with postgres_engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version()")).scalar_one()
        user = conn.execute(sa.text("SELECT current_user")).scalar_one()
    assert version.startswith("PostgreSQL ")
    assert user == "postgres"


def test_no_tcp_only_the_socket_in_its_folder(postgres_cluster: ThrowawayPostgres) -> None:
    assert postgres_cluster.execute("SHOW listen_addresses") == [("",)]
    assert (postgres_cluster.directory / f".s.PGSQL.{postgres_cluster.port}").is_socket()
    assert postgres_cluster.host == str(postgres_cluster.directory)


def test_postgis(postgres_db: sa.Engine) -> None:
    with postgres_db.begin() as conn:
        assert conn.execute(sa.text("SELECT postgis_version()")).scalar_one().startswith("3.")
        overlapping = conn.execute(
            sa.text(
                "SELECT ST_Intersects(ST_GeomFromText('POLYGON((0 0,2 0,2 2,0 2,0 0))', 4326),"
                " ST_GeomFromText('POLYGON((1 1,3 1,3 3,1 3,1 1))', 4326)),"
                " ST_Intersects(ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 1,0 0))', 4326),"
                " ST_GeomFromText('POLYGON((5 5,6 5,6 6,5 6,5 5))', 4326))"
            )
        ).one()
        assert tuple(overlapping) == (True, False)
        conn.execute(sa.text("CREATE TABLE scene (id int, footprint geometry(Polygon, 4326))"))
        conn.execute(sa.text("CREATE INDEX scene_footprint ON scene USING gist (footprint)"))
        conn.execute(
            sa.text(
                "INSERT INTO scene SELECT i, ST_MakeEnvelope(i, 0, i + 1, 1, 4326)"
                " FROM generate_series(0, 999) AS i"
            )
        )
        conn.execute(sa.text("ANALYZE scene"))
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        query = "SELECT id FROM scene WHERE footprint && ST_MakeEnvelope(10.5, 0, 11.5, 1, 4326)"
        assert conn.execute(sa.text(query + " ORDER BY id")).scalars().all() == [10, 11]
        plan = "\n".join(conn.execute(sa.text("EXPLAIN " + query)).scalars())
        assert "scene_footprint" in plan


def test_geoalchemy2_round_trip(postgres_db: sa.Engine) -> None:
    geoalchemy2 = pytest.importorskip("geoalchemy2")
    metadata = sa.MetaData()
    scene = sa.Table(
        "scene",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("footprint", geoalchemy2.Geometry("POLYGON", srid=4326)),
    )
    metadata.create_all(postgres_db)
    with postgres_db.begin() as conn:
        conn.execute(
            scene.insert(), [{"id": 1, "footprint": "SRID=4326;POLYGON((0 0,1 0,1 1,0 0))"}]
        )
        area = conn.execute(sa.select(sa.func.ST_Area(scene.c.footprint))).scalar_one()
    assert area == 0.5


def test_jsonb_and_collation(postgres_db: sa.Engine) -> None:
    with postgres_db.connect() as conn:
        doc = '{"platform": "WV03", "bands": ["red", "green"], "cloudCover": 12.5, "x": null}'
        types = conn.execute(
            sa.text(
                "SELECT jsonb_typeof(d->'platform'), jsonb_typeof(d->'bands'),"
                " jsonb_typeof(d->'cloudCover'), jsonb_typeof(d->'x'), d->>'platform'"
                " FROM (SELECT CAST(:doc AS jsonb) AS d) AS t"
            ),
            {"doc": doc},
        ).one()
        assert tuple(types) == ("string", "array", "number", "null", "WV03")
        bands = conn.execute(
            sa.text("SELECT jsonb_array_elements(CAST(:doc AS jsonb)->'bands') ->> 0"),
            {"doc": '{"bands": [["red"], ["green"]]}'},
        ).scalars()
        assert list(bands) == ["red", "green"]
        ordered = conn.execute(
            sa.text("SELECT s FROM unnest(ARRAY['a', 'B', 'b', 'A']) AS s ORDER BY s COLLATE \"C\"")
        ).scalars()
        assert list(ordered) == ["A", "B", "a", "b"]


def test_databases_are_isolated(
    postgres_cluster: ThrowawayPostgres, postgres_db: sa.Engine
) -> None:
    with postgres_db.begin() as conn:
        conn.execute(sa.text("CREATE TABLE only_here (x int)"))
    other = "isolation_check"
    postgres_cluster.create_database(other)
    try:
        found = postgres_cluster.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'", database=other
        )
        assert found == [(0,)]
    finally:
        postgres_cluster.drop_database(other)
    with postgres_db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM only_here")).scalar_one() == 0


def test_stop_removes_the_folder_and_the_server(postgres_cluster: ThrowawayPostgres) -> None:
    # Its own server: the session's must keep running.
    pg = ThrowawayPostgres().start()
    folder = pg.directory
    pid = int((folder / "data" / "postmaster.pid").read_text().split()[0])
    assert process_alive(pid)
    assert pg.execute("SELECT pg_backend_pid() <> %s", [pid]) == [(True,)]
    pg.stop()
    assert not folder.exists()
    assert not process_alive(pid)
    assert not pg.running
    pg.stop()  # a second stop does nothing
    with pytest.raises(PostgresUnavailable, match="not running"):
        _ = pg.url


def test_stop_on_error_in_with_block(postgres_cluster: ThrowawayPostgres) -> None:
    with pytest.raises(ZeroDivisionError), ThrowawayPostgres() as pg:
        folder = pg.directory
        _ = 1 / 0
    assert not folder.exists()


def test_bogus_bindir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(BIN_ENV, str(tmp_path / "no-such-bin"))
    with pytest.raises(PostgresUnavailable) as raised:
        ThrowawayPostgres().start()
    message = str(raised.value)
    assert str(tmp_path / "no-such-bin") in message
    assert BIN_ENV in message
    assert "apt-get install postgresql-" in message


def test_bogus_bindir_argument(tmp_path: Path) -> None:
    (tmp_path / "initdb").write_text("#!/bin/sh\nexit 1\n")  # not executable, and no pg_ctl
    with pytest.raises(PostgresUnavailable, match=r"no initdb and pg_ctl in .*argument"):
        ThrowawayPostgres(tmp_path).start()


def test_initdb_failure_quotes_its_output() -> None:
    # Not tmp_path: as root the scripts run as the postgres user, who cannot enter it.
    fake_bin = Path(tempfile.mkdtemp(prefix="catalogql-fake-bin-", dir="/tmp"))
    fake_bin.chmod(0o755)
    for name in ("initdb", "pg_ctl"):
        script = fake_bin / name
        script.write_text("#!/bin/sh\necho 'initdb: error: out of luck' >&2\nexit 1\n")
        script.chmod(0o755)
    before = set(Path("/tmp").glob("catalogql-pg-*"))
    try:
        with pytest.raises(PostgresUnavailable) as raised:
            ThrowawayPostgres(fake_bin).start()
    finally:
        shutil.rmtree(fake_bin)
    message = str(raised.value)
    assert message.startswith("initdb failed in /tmp/catalogql-pg-")
    assert "initdb: error: out of luck" in message
    assert "hint: " in message
    assert set(Path("/tmp").glob("catalogql-pg-*")) <= before  # nothing left behind
