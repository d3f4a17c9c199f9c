"""The real ``descarteslabs==1.12.1`` client, unchanged, against ``catalogql serve`` (issue 12.5).

``descartes_client.ensure_client`` builds (once, cached in ``.cache/descartes-client/``) a venv
with the client pinned as ``../shared/descartes-v1/install.sh`` pins it; ``.ci/run`` builds it
before ``make test``. ``descartes_scenario.py`` runs in that venv with only WIRE.md section 0's
environment (``DESCARTESLABS_ENV``, ``DESCARTESLABS_PLATFORM_URL``, ``DESCARTESLABS_TOKEN`` from
``catalogql token``, a fresh ``HOME``, no proxies) against a ``catalogql serve`` subprocess on
127.0.0.1, on SQLite and on PostgreSQL, and prints a JSON line per step, checked here one by one.

When the venv cannot be built (no PyPI, no Python 3.11) the test skips with the reason, or fails
under ``CI=true``; the shared GeoTIFFs follow the rule of every ``../shared`` fixture.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from catalogql.http.auth import make_token
from catalogql.service.principals import namespace_of
from conftest import SHARED_DIR, in_ci, require_shared
from descartes_client import ClientUnavailable, ensure_client
from http_fixtures import ROOT, SECRET, serving

SCENARIO = Path(__file__).with_name("descartes_scenario.py")
EXAMPLE = ROOT / "examples" / "descartes_client.py"  # the README's script
FILES = SHARED_DIR / "descartes-v1" / "files"
SHARED_TIFS = ("scene_001.tif", "scene_001_b2.tif")
RUN_SECONDS = 240  # the whole scenario; it takes a few seconds when nothing is retried


@pytest.fixture(scope="session")
def client_python() -> Path:
    """The python of the client's venv, built first if missing (skip, or fail under CI)."""
    try:
        return ensure_client()
    except ClientUnavailable as exc:
        if in_ci():
            pytest.fail(f"{exc}\n(CI=true, so this is a failure)", pytrace=False)
        pytest.skip(str(exc))


def _geotiff(path: Path) -> Path:
    """A 16x16 GeoTIFF of 3 uint16 bands in EPSG:4326 near (-104.9, 40.05), as a user makes one."""
    data = (np.arange(3 * 16 * 16, dtype="uint16") * 7 % 5000).reshape(3, 16, 16)
    profile = {
        "driver": "GTiff",
        "width": 16,
        "height": 16,
        "count": 3,
        "dtype": "uint16",
        "crs": "EPSG:4326",
        "transform": from_origin(-104.9, 40.05, 0.001, 0.001),
    }
    with rasterio.open(path, "w", **profile) as out:
        out.write(data)
    return path


def _token(server: Any, sub: str) -> str:
    """A token from ``catalogql token``, signed with the server's secret (as the README's)."""
    command = [sys.executable, "-m", "catalogql", "token", "--sub", sub]
    command += ["--secret-file", str(server.secret_file)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip()


def _client_env(url: str, token: str, home: Path) -> dict[str, str]:
    """WIRE.md section 0's environment and nothing else (no proxies), with a fresh HOME."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "DESCARTESLABS_ENV": "gcp-production",
        "DESCARTESLABS_PLATFORM_URL": url,
        "DESCARTESLABS_TOKEN": token,
    }


def _run_scenario(
    python: Path, url: str, token: str, home: Path, *args: str
) -> tuple[dict[str, dict[str, Any]], str]:
    env = _client_env(url, token, home)
    done = subprocess.run(
        [str(python), str(SCENARIO), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_SECONDS,
        check=False,
    )
    steps: dict[str, dict[str, Any]] = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            steps[entry["step"]] = entry
    return steps, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_the_real_descartes_client_end_to_end(
    store: str, client_python: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    files = require_shared(FILES)
    tifs = [str(files / name) for name in SHARED_TIFS]
    tifs.append(str(_geotiff(tmp_path / "generated.tif")))
    if store == "sqlite":
        db = f"sqlite:///{tmp_path / 'catalog.db'}"
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        name = f"dl_{uuid.uuid4().hex[:12]}"
        db = cluster.create_database(name)
        request.addfinalizer(lambda: cluster.drop_database(name))
    home = tmp_path / "home"
    home.mkdir()
    with serving(db, tmp_path, "--storage", str(tmp_path / "files")) as server:
        tokens = [  # alice's as a user makes it; the others signed here (a subprocess is slow)
            _token(server, "alice"),
            make_token(SECRET, "mallory", ttl=3600),
            make_token(SECRET, "bob", ttl=3600, groups=["readers"]),
        ]
        steps, output = _run_scenario(
            client_python,
            server.url,
            tokens[0],
            home,
            "--second-token",
            tokens[1],
            "--reader-token",
            tokens[2],
            "--tag",
            "t1",
            *(arg for tif in tifs for arg in ("--tif", tif)),
        )
        example = subprocess.run(
            [str(client_python), str(EXAMPLE), tifs[-1]],
            capture_output=True,
            text=True,
            timeout=RUN_SECONDS,
            check=False,
            env=_client_env(server.url, tokens[0], home),
        )  # the README's script, with the README's token
    log = server.log_text()

    namespace = namespace_of("alice")
    pid = f"{namespace}:scenes-t1"
    assert "end" in steps, f"the scenario did not finish:\n{output}\n--- server log\n{log}"
    not_ok = [name for name, entry in steps.items() if not entry["ok"]]
    assert not_ok == [], f"steps not ok: {not_ok}\n{output}\n--- server log\n{log}"

    def value(name: str) -> Any:
        return steps[name]["value"]

    def raised(name: str) -> str:
        return str(steps[name]["error"])

    everything = ["meta_only", "nd_scene", "tif_0", "tif_1", "tif_2"]
    assert value("whoami") == {"namespace": namespace, "url": f"{server.url}/metadata/v1/catalog"}
    # products and bands, with their errors
    assert value("add_product") == {
        "id": pid,
        "type": "product",
        "title": "Scenes",
        "read": ["group:readers"],
    }
    assert raised("add_product again") == "ConflictError"
    assert value("get_product")["id"] == pid
    assert value("add_band red")["id"] == f"{pid}:red"
    assert value("add_band red")["dtype"] == "UInt16"
    assert [value(f"add_band {b}")["srcband"] for b in ("red", "green", "blue")] == [1, 2, 3]
    assert raised("add_band outside its dtype") == "BadRequestError"
    assert value("get_band")["id"] == f"{pid}:red"
    assert value("change_band")["description"] == "the red one"
    assert value("replace_band")["id"] == f"{pid}:green"
    assert raised("get_band removed") == "NotFoundError"
    assert value("get_bands_by_product") == [f"{pid}:{b}" for b in ("blue", "green", "red")]
    # uploads
    uploaded = [value(f"upload_image tif_{i}") for i in range(3)]
    assert uploaded == ["tif_0", "tif_1", "tif_2"]
    assert value("upload_ndarray") == "nd_scene.tif"
    assert value("upload_results until done") == dict.fromkeys(
        [*uploaded, "nd_scene.tif"], "SUCCESS"
    )
    assert value("upload_results limit 1") == {"count": 1, "more": True}
    assert value("iter_upload_results") == sorted([*uploaded, "nd_scene.tif"])
    assert value("upload_result nd_scene.tif") == {"id": "nd_scene.tif", "status": "SUCCESS"}
    assert value("add_image metadata only") == f"{pid}:meta_only"
    # Metadata search
    for form in ("dict", "shapely", "wkt"):
        assert value(f"search geom {form}") == everything, form
    assert value("search geom far away") == []
    assert value("search dates") == ["nd_scene", "tif_1", "tif_2"]
    assert value("search q") == ["nd_scene", "tif_0"]
    assert value("search q any_of and range") == ["meta_only", "tif_0"]
    assert value("search desc limit 2") == ["meta_only", "nd_scene"]
    assert value("search fields")["properties"] == ["acquired", "cloud_fraction"]
    assert "geometry" not in value("search fields")["keys"]
    assert value("features batch_size 2") == everything
    assert value("paged_search limit 2") == [2, 2, 1]
    assert value("ids") == ["nd_scene", "tif_0", "tif_1", "tif_2"]
    assert value("summary")["count"] == 5
    assert value("summary by month") == [
        ["2020-08", 1],
        ["2020-09", 1],
        ["2020-10", 1],
        ["2020-12", 1],
        ["2021-02", 1],
    ]
    got = value("get")
    assert (got["id"], got["product"], got["key"]) == (f"{pid}:nd_scene", pid, "nd_scene")
    assert got["acquired"].startswith("2020-12-15")
    assert value("get_by_ids") == ["meta_only", "nd_scene"]
    assert value("metadata get_product") == pid
    assert value("products") is True and value("available_products") is True
    assert value("own_products") == [pid]
    assert value("metadata bands") == [f"{pid}:{b}" for b in ("blue", "green", "red")]
    assert value("metadata get_band") == f"{pid}:red"
    assert value("get_bands_by_id") == value("metadata bands")
    # changes and removals
    assert value("change_product")["title"] == "Scenes (changed)"
    assert value("replace_product")["title"] == "Scenes (replaced)"
    assert value("replace_product")["read"] == ["group:readers"]
    assert value("change_image") == 0.12 and value("get changed image") == 0.12
    assert value("replace_image") == 0.7
    assert value("get_image") == f"{pid}:meta_only"
    assert raised("get removed image") == "NotFoundError"
    assert value("summary after remove") == 4
    assert raised("get_product missing") == "NotFoundError"
    assert raised("search bad sort_field") == "BadRequestError"
    assert raised("add_image duplicate") == "ConflictError"
    # a reader reads and cannot write; a stranger sees nothing
    assert value("reader search") == ["nd_scene", "tif_0", "tif_1", "tif_2"]
    assert value("reader get_product")["id"] == pid
    assert raised("reader change_product") == "ServerError"
    assert steps["reader change_product"]["status"] == 403
    assert value("second search") == []
    assert value("second summary") == 0
    assert value("second available_products") is False
    for name in ("second get", "second get_product", "second remove_product"):
        assert raised(name) == "NotFoundError", name
    # removal
    assert value("add_product empty") == f"{namespace}:empty-t1"
    assert value("remove_product empty") is None  # the client's answer to a non-JSON 200
    assert raised("get_product empty") == "NotFoundError"
    assert raised("remove_product without cascade") == "BadRequestError"
    assert value("remove_product cascade") == ["deletion_task"]
    assert value("product_deletion_status")["completed"] is True
    assert raised("get_product removed") == "NotFoundError"
    assert value("search removed") == []
    # the README's script
    shown = example.stdout.splitlines()
    assert example.returncode == 0 and len(shown) == 4, example.stdout + example.stderr
    assert shown[0] == "upload scene SUCCESS"
    assert re.fullmatch(rf"{namespace}:scenes-\w+:scene 2020-08-01T00:00:00\S* 0\.1", shown[1]), (
        shown
    )
    assert shown[2:] == ["summary 1", shown[3]] and shown[3].startswith("removed {'deletion_task'")
    # no 5xx in the server's log (the client retries one silently, the second time after 2-6 s),
    # and no step slow enough to have waited for such retries (generous: the machine is shared)
    slow = {name: entry["seconds"] for name, entry in steps.items() if entry.get("seconds", 0) > 10}
    slow.pop("upload_results until done", None)
    slow.pop("product_deletion_status", None)
    assert slow == {}, f"slow steps (a retried 5xx?): {slow}"
    assert re.findall(r'HTTP/1\.1" 5\d\d', log) == [], log
    pages = re.findall(r'"POST /metadata/v1/search HTTP/1\.1" 200', log)
    assert len(pages) >= 3 + 4  # paged_search's three pages and features' pages at least


def test_a_client_venv_that_cannot_be_built_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import descartes_client

    monkeypatch.setattr(descartes_client, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(descartes_client, "PYTHON_VERSION", (3, 99))
    with pytest.raises(ClientUnavailable, match=r"needs Python 3\.99.*install python3\.99"):
        ensure_client()
    assert not (tmp_path / "cache" / descartes_client.steps_hash() / ".complete").exists()
