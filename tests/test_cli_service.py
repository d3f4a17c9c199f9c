"""The CLI's service commands (product, band, image, upload), acting ``--as`` someone.

The commands run as a shell runs them (``python -m catalogql`` in a subprocess: exit statuses,
JSON on standard output, errors on standard error); the ``--as`` parsing table and the
usage errors run in-process through :func:`catalogql.cli.main`.
"""

from __future__ import annotations

import io
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from catalogql.cli import main
from catalogql.cli_service import parse_principal
from catalogql.errors import UsageError
from catalogql.service import Principal
from test_cli_process import cli

ALICE = Principal("alice")
PID = f"{ALICE.namespace}:landcover"


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def refused(result: subprocess.CompletedProcess[str], status: int, *said: str) -> str:
    assert result.returncode == status, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for text in said:
        assert text in result.stderr, result.stderr
    return result.stderr


# -- --as -------------------------------------------------------------------------------------

AS_TABLE: list[tuple[str, tuple[str, str | None, tuple[str, ...], str | None]]] = [
    ("alice", ("alice", None, (), None)),
    ("sub=alice", ("alice", None, (), None)),
    ("alice,email=a@x.org", ("alice", "a@x.org", (), None)),
    ("alice,group=team", ("alice", None, ("team",), None)),
    ("alice,group=team,group=ops", ("alice", None, ("ops", "team"), None)),
    ("alice,org=acme", ("alice", None, (), "acme")),
    ("alice, email = a@x.org , org=acme", ("alice", "a@x.org", (), "acme")),
    ("google-oauth2|1234,group=g", ("google-oauth2|1234", None, ("g",), None)),
    ("alice,email=a@x.org,group=team,org=acme", ("alice", "a@x.org", ("team",), "acme")),
]

AS_ERRORS: list[tuple[str, str, str]] = [
    ("", "has no user id", "--as SUB"),
    (",group=team", "has no user id", "--as SUB"),
    ("email=a@x.org", "does not start with the user id", "put the sub first"),
    ("alice,grp=team", "unknown key 'grp'", "did you mean 'group'?"),
    ("alice,mail=a@x.org", "unknown key 'mail'", "did you mean 'email'?"),
    ("alice,team", "'team' is not KEY=VALUE", "--as SUB"),
    ("alice,group=", "group is empty", "--as SUB"),
    ("alice,org=a,org=b", "org is given twice", "only group repeats"),
    ("alice,email=a,email=b", "email is given twice", "only group repeats"),
    ("ali\tce", "control character", "--as SUB"),
]


@pytest.mark.parametrize(("text", "expected"), AS_TABLE)
def test_as_parses_sub_email_groups_and_org(
    text: str, expected: tuple[str, str | None, tuple[str, ...], str | None]
) -> None:
    principal = parse_principal(text)
    assert (principal.sub, principal.email, principal.groups, principal.org) == expected


@pytest.mark.parametrize(("text", "message", "hint"), AS_ERRORS)
def test_a_malformed_as_is_a_usage_error_with_a_hint(text: str, message: str, hint: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_principal(text)
    assert message in caught.value.message
    assert hint in (caught.value.problems[0].hint or "")


def test_as_errors_and_a_missing_as_exit_2_in_the_one_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    assert main(["product", "list", "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.startswith("catalogql product list: error: --as is required for service commands")
    assert "hint: write --as SUB" in err
    assert main(["band", "get", "p", "red", "--as", "alice,grp=x", "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.startswith("catalogql band get: error: --as: unknown key 'grp'")
    assert "did you mean 'group'?" in err


# -- products and bands -------------------------------------------------------------------------


def test_products_and_bands_from_the_shell(tmp_path: Path) -> None:
    db = ("--db", f"sqlite:///{tmp_path / 'c.db'}")
    alice = ("--as", "alice,group=team")
    reader = ("--as", "bob,group=readers")
    stranger = ("--as", "mallory")
    body = tmp_path / "product.json"
    body.write_text(json.dumps({"description": "from a file", "tags": ["demo"]}))

    added = ok(cli("product", "add", "landcover", "--title", "Land cover", "--json", str(body),
                   "--read", "group:readers", "--writer", "group:team", *alice, *db))  # fmt: skip
    assert added["id"] == PID
    assert (added["title"], added["description"], added["tags"]) == (
        "Land cover",
        "from a file",
        ["demo"],
    )
    assert (added["read"], added["writers"]) == (["group:readers"], ["group:team"])

    band = ok(cli("band", "add", "landcover", "red", "--srcband", "1", "--dtype", "UInt16",
                  "--data-range", "0", "10000", "--type", "spectral", "--set", "nodata=0",
                  *alice, *db))  # fmt: skip
    assert band["id"] == f"{PID}:red"
    assert (band["data_range"], band["nbits"], band["nodata"]) == ([0, 10000], 16, 0)

    # the reader reads by the full id; the short form is the caller's own namespace
    assert ok(cli("product", "get", PID, *reader, *db))["title"] == "Land cover"
    assert ok(cli("band", "get", PID, "red", *reader, *db))["srcband"] == 1
    assert [b["name"] for b in ok(cli("band", "list", PID, *reader, *db))["data"]] == ["red"]
    listed = ok(cli("product", "list", *reader, *db))
    assert [p["id"] for p in listed["data"]] == [PID] and listed["continuation"] is None
    assert ok(cli("product", "list", "--owned", *reader, *db))["data"] == []

    # a reader who writes: forbidden (1); a stranger: not found (1); the one error shape
    refused(cli("product", "change", PID, "--title", "X", *reader, *db), 1,
            "error: you may read product", "hint: ask an owner")  # fmt: skip
    refused(cli("band", "get", PID, "red", *stranger, *db), 1, "error: band", "not found")
    # an invalid field: 1, the field named
    refused(cli("band", "add", "landcover", "nir", "--srcband", "2", "--dtype", "Byte",
                "--data-range", "0", "300", "--type", "spectral", *alice, *db), 1,
            "error: data_range[1] = 300 is outside the range of Byte")  # fmt: skip
    # usage: 2
    refused(cli("band", "add", "landcover", "nir", "--data-range", "0", "lots", *alice, *db), 2,
            "catalogql band add: error: --data-range takes a number, not 'lots'")  # fmt: skip
    refused(cli("product", "change", "landcover", "--set", "notes=hi", *alice, *db), 2,
            "catalogql product change: error: --set notes: 'hi' is not JSON",
            "--set notes='\"hi\"'")  # fmt: skip

    changed = ok(cli("product", "change", "landcover", "--set", 'notes="n"', *alice, *db))
    assert (changed["notes"], changed["title"]) == ("n", "Land cover")
    assert (
        ok(cli("band", "change", "landcover", "red", "--nodata", "1", *alice, *db))["nodata"] == 1
    )
    # removal: refused while it holds bands (400: exit 1), then with --cascade the task
    refused(cli("product", "remove", "landcover", *alice, *db), 1, "still holds bands")
    ok(cli("band", "add", "landcover", "nir", "--srcband", "2", "--dtype", "UInt16",
           "--data-range", "0", "10000", "--type", "spectral", *alice, *db))  # fmt: skip
    assert ok(cli("band", "remove", "landcover", "nir", *alice, *db)) == {
        "id": f"{PID}:nir",
        "removed": True,
    }
    task = ok(cli("product", "remove", "landcover", "--cascade", *alice, *db))
    assert task["id"] == PID and task["deletion_task"] and task["completed"] is True
    assert task["response"]["deleted"] == 2  # the product and its band
    refused(cli("product", "get", "landcover", *alice, *db), 1, "not found")


def test_service_commands_refuse_a_memory_catalog_and_say_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["product", "list", "--as", "alice", "--db", "memory://"]) == 2
    err = capsys.readouterr().err
    assert "catalogql product list: error: memory:// is empty here" in err


def test_only_product_add_creates_the_catalog(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'typo.db'}"
    assert main(["product", "list", "--as", "alice", "--db", db]) != 0
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "typo.db").exists()
    assert main(["product", "add", "p", "--title", "P", "--description", "", "--as", "alice",
                 "--db", db]) == 0  # fmt: skip
    assert (tmp_path / "typo.db").exists()


def test_the_help_of_the_service_commands_names_as_and_the_exit_statuses() -> None:
    top = " ".join(cli("product", "--help").stdout.split())
    assert "--as SUB[,email=E][,group=G]...[,org=O]" in top
    assert "1 refused" in top and "2 bad usage" in top
    band = " ".join(cli("band", "add", "--help").stdout.split())
    assert "--data-range MIN MAX" in band and "--set KEY=JSON" in band


# -- images and uploads -------------------------------------------------------------------------


def _geotiff(path: Path, *, bands: int = 3) -> Path:
    import numpy as np
    import rasterio
    from rasterio.transform import Affine

    data = np.arange(bands * 16 * 16, dtype="uint16").reshape(bands, 16, 16)
    transform = Affine(30.0, 0.0, 500000.0, 0.0, -30.0, 4400000.0)
    with rasterio.open(path, "w", driver="GTiff", width=16, height=16, count=bands,
                       dtype="uint16", crs="EPSG:32613", transform=transform) as out:  # fmt: skip
        out.write(data)
    return path


def test_images_and_uploads_from_the_shell(tmp_path: Path) -> None:
    db = ("--db", f"sqlite:///{tmp_path / 'c.db'}")
    alice = ("--as", "alice")
    ok(cli("product", "add", "landcover", "--title", "L", "--description", "", *alice, *db))
    for i, name in enumerate(("red", "green", "blue"), 1):
        ok(cli("band", "add", "landcover", name, "--srcband", str(i), "--dtype", "UInt16",
               "--data-range", "0", "10000", "--type", "spectral", *alice, *db))  # fmt: skip
    scene = _geotiff(tmp_path / "scene_1.tif")
    status = ok(cli("image", "upload", "landcover", str(scene), "--acquired", "2020-06-01",
                    "--cloud-fraction", "0.1", *alice, *db))  # fmt: skip
    assert (status["id"], status["status"]) == ("scene_1.tif", "success")
    assert (tmp_path / "c.db.files").is_dir()  # the default storage: beside the database
    image = ok(cli("image", "get", "landcover", "scene_1", *alice, *db))
    assert (image["id"], image["cloud_fraction"]) == (f"{PID}:scene_1", 0.1)
    assert [i["id"] for i in ok(cli("image", "list", "landcover", *alice, *db))["data"]] == [
        f"{PID}:scene_1"
    ]
    assert ok(cli("upload", "status", "landcover", "scene_1.tif", *alice, *db))["status"] == (
        "success"
    )
    # a file that is not a GeoTIFF: the status says failure, printed; exit 1 with the error
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"not a tiff")
    failed = cli("image", "upload", "landcover", str(junk), "--acquired", "2020-06-01",
                 *alice, *db)  # fmt: skip
    refused(failed, 1, "error: upload junk.tif failed:")
    assert json.loads(failed.stdout)["status"] == "failure"
    listed = ok(cli("upload", "list", "landcover", *alice, *db))
    assert sorted(u["attributes"]["status"] for u in listed["data"]) == ["FAILURE", "SUCCESS"]
    failures = ok(cli("upload", "list", "landcover", "--status", "FAILURE", *alice, *db))
    assert [u["id"] for u in failures["data"]] == ["junk.tif"]
    # grants reach the images (and their records) with --set-global-permissions
    ok(cli("product", "change", "landcover", "--read", "group:readers",
           "--set-global-permissions", *alice, *db))  # fmt: skip
    assert ok(cli("image", "get", PID, "scene_1", "--as", "bob,group=readers", *db))["read"] == [
        "group:readers"
    ]
    refused(cli("image", "upload", "landcover", str(tmp_path / "nope.tif"), "--acquired",
                "2020-06-01", *alice, *db), 2, "cannot read")  # fmt: skip
    refused(cli("image", "get", "landcover", "scene_1", "--as", "mallory", *db), 1, "not found")
    files = tmp_path / "c.db.files"
    held = {p.name for p in files.rglob("*") if p.is_file()}
    assert ok(cli("image", "remove", "landcover", "scene_1", *alice, *db))["removed"] is True
    refused(cli("image", "get", "landcover", "scene_1", *alice, *db), 1, "not found")
    # its file (and the failed upload's) went when a command next opened the service (gc runs
    # on opening); gc, which acts as no one, finds nothing left to do
    assert {p.name for p in files.rglob("*") if p.is_file()} < held
    assert ok(cli("gc", *db)) == {"interrupted_uploads": [], "removed_files": []}


# -- the demo's service tour --------------------------------------------------------------------


def test_the_demo_tour_of_the_service(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from catalogql.demo import run_service_tour

    assert main(["demo", "--service"]) == 0
    out = capsys.readouterr().out
    assert "Search by all criteria" not in out  # --service: the tour alone
    lines = [" ".join(line.split()) for line in out.splitlines()]
    pid = f"{ALICE.namespace}:tour_landcover"
    assert f"alice creates product {pid}" in lines
    assert "bands: red, green, blue (UInt16, data_range 0-10000, srcband 1-3)" in lines
    for key in ("scene_a", "scene_b"):
        assert (f"upload {key}.tif (64x64, 3 bands UInt16, EPSG:32613): success, "
                f"image {pid}:{key}") in lines  # fmt: skip
    granted = lines.index("alice grants read to group:readers (and to the product's images); now")
    before, after = lines[:granted], lines[granted:]
    assert "alice (the owner) finds scene_a, scene_b" in before
    assert "bob (group readers) finds nothing" in before
    assert "bob (group readers) finds scene_a, scene_b" in after
    assert (
        "mallory (a stranger) finds nothing" in before
        and "mallory (a stranger) finds nothing" in after
    )
    assert f"mallory asks for scene_a by id: image '{pid}:scene_a' not found" in lines

    # the tour leaves its catalog, files and GeoTIFFs in the folder it is given
    run_service_tour(io.StringIO(), folder=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "scene_a.tif",
        "scene_b.tif",
        "service.db",
        "service.db.files",
    ]


# -- field options ------------------------------------------------------------------------------


def test_fields_come_from_json_then_options_then_set(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'c.db'}"]
    monkeypatch.setattr("sys.stdin", io.StringIO('{"title": "body", "description": "body", '
                                                 '"notes": "body"}'))  # fmt: skip
    assert main(["product", "add", "p", "--json", "-", "--title", "option", "--notes", "option",
                 "--set", 'notes="set"', "--as", "alice", *db]) == 0  # fmt: skip
    added = json.loads(capsys.readouterr().out)
    assert (added["title"], added["description"], added["notes"]) == ("option", "body", "set")

    for argv, said in (
        (["--json", str(tmp_path / "none.json")], "cannot read"),
        (["--set", "nodata"], "--set 'nodata' is not KEY=JSON"),
        (["--srcband", "1.5"], "--srcband takes a whole number, not '1.5'"),
        (["--nodata", "zero"], "--nodata takes a number, not 'zero'"),
        (["--data-range", "0", "true"], "--data-range takes a number, not 'true'"),
    ):
        assert main(["band", "add", "p", "red", *argv, "--as", "alice", *db]) == 2, argv
        assert said in capsys.readouterr().err, argv
    (tmp_path / "list.json").write_text("[1]")
    assert main(["band", "add", "p", "red", "--json", str(tmp_path / "list.json"), "--as",
                 "alice", *db]) == 2  # fmt: skip
    assert "the body must be a JSON object, not list" in capsys.readouterr().err
    # a field the resource does not have: refused by the service (1), with a did-you-mean
    assert main(["band", "add", "p", "red", "--srcband", "1", "--dtype", "Byte", "--data-range",
                 "0", "255", "--type", "spectral", "--set", "colour=\"red\"", "--as", "alice",
                 *db]) == 1  # fmt: skip
    assert "colour" in capsys.readouterr().err
    assert main(["band", "change", "p", "red", "--as", "alice", *db]) == 2
    assert "nothing to change" in capsys.readouterr().err


def test_without_rasterio_the_demo_skips_the_tour_and_says_how_to_get_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import catalogql.demo

    monkeypatch.setattr(catalogql.demo, "service_tour_missing", lambda: ["rasterio"])
    assert main(["demo", "--records", "50"]) == 0
    out = capsys.readouterr().out
    assert "Search by all criteria" in out and "The catalog service:" not in out
    assert "the service tour needs rasterio: pip install 'catalogql[service]'" in out
    assert main(["demo", "--service"]) == 2
    err = capsys.readouterr().err
    assert "catalogql demo: error: the service tour needs rasterio" in err
    assert "pip install 'catalogql[service]'" in err


def test_the_commands_on_postgresql_and_uploads_there_need_storage(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    cluster = request.getfixturevalue("postgres_cluster")
    name = f"cli_{uuid.uuid4().hex[:12]}"
    db = ["--db", cluster.create_database(name)]
    try:
        assert main(["product", "add", "p", "--title", "P", "--description", "", "--as",
                     "alice", *db]) == 0  # fmt: skip
        assert main(["band", "add", "p", "red", "--srcband", "1", "--dtype", "UInt16",
                     "--data-range", "0", "10000", "--type", "spectral", "--as", "alice",
                     *db]) == 0  # fmt: skip
        capsys.readouterr()
        scene = _geotiff(tmp_path / "s.tif", bands=1)
        upload = ["image", "upload", "p", str(scene), "--acquired", "2020-06-01"]
        assert main([*upload, "--as", "alice", *db]) == 2
        err = capsys.readouterr().err
        assert "catalogql image upload: error: uploads to postgresql" in err
        assert "give --storage DIR" in err
        storage = ["--storage", str(tmp_path / "files")]
        assert main([*upload, "--as", "alice", *db, *storage]) == 0
        assert json.loads(capsys.readouterr().out)["status"] == "success"
    finally:
        cluster.drop_database(name)
