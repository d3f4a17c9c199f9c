"""The real ``descarteslabs==1.12.1`` client in a venv of its own, built once and cached.

The steps are this project's own copy of ``../shared/descartes-v1/install.sh`` (same pins): the
client itself with ``--no-deps`` (it declares ``numpy<1.23``, which has no CPython 3.11 wheels),
then its dependencies pinned exactly, then an import smoke test. The venv lives in
``.cache/descartes-client/<hash of the steps>/`` (gitignored), so a change of a pin or a step makes
a new one; a finished venv holds a ``.complete`` marker and is reused between runs. Building takes
a file lock, so the two xdist workers of ``make test`` (and ``.ci/run``) never build it twice at
once.

Stdlib only: ``.ci/run`` runs it with the machine's ``python3`` before ``make test``::

    python3 tests/descartes_client.py          # prints the venv's python
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "descartes-client"

CLIENT = "descarteslabs==1.12.1"
DEPENDENCIES = (
    "numpy==1.26.4",
    "requests==2.34.2",
    "urllib3==2.8.0",
    "idna==3.20",
    "charset-normalizer==3.5.3",
    "certifi==2026.10.19.post1",
    "lazy-object-proxy==1.13.0",
    "dynaconf==3.3.5",
    "cachetools==4.2.4",
    "shapely==1.8.5.post1",
    "geojson==3.3.0",
    "pytz==2026.6",
    "tqdm==4.70.1",
    "mercantile==1.2.1",
    "click==8.5.1",
    "affine==3.0.1",
    "attrs==26.1.0",
    "blosc==1.11.4",
    "pillow==13.0.0",
    "imagecodecs==2024.6.1",
    "tifffile==2021.4.8",
    "protobuf==3.20.3",
    "grpcio==1.85.3",
    "pyarrow==17.0.0",
    "cloudpickle==1.6.0",
    "setuptools==69.5.1",
    "typing_extensions==4.16.0",
)
PYTHON_VERSION = (3, 11)

# Constructs both clients against an unused port: no request is sent.
SMOKE = """
import base64, json, time, warnings
warnings.simplefilter("ignore")
from descarteslabs.client.auth import Auth
from descarteslabs.client.services.catalog import Catalog
from descarteslabs.client.services.metadata import Metadata
import descarteslabs
b = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
tok = "%s.%s.sig" % (b({"alg": "none"}), b({"sub": "smoke", "exp": int(time.time()) + 3600}))
auth = Auth(jwt_token=tok, token_info_path=None)
md = Metadata(url="http://127.0.0.1:9/metadata/v1", auth=auth)
cat = Catalog(url="http://127.0.0.1:9/metadata/v1/catalog", auth=auth, metadata=md)
assert auth.namespace and auth.payload["sub"] == "smoke"
assert descarteslabs.__version__ == "1.12.1", descarteslabs.__version__
print("descarteslabs", descarteslabs.__version__, "OK")
"""


class ClientUnavailable(RuntimeError):
    """The client's venv could not be built; the message says which step failed and how."""


def steps_hash() -> str:
    """A short hash of everything that decides the venv's content (pins, smoke test, Python)."""
    text = json.dumps([CLIENT, DEPENDENCIES, SMOKE, PYTHON_VERSION])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def venv_dir() -> Path:
    """Where the venv of the current steps lives (built or not)."""
    return CACHE / steps_hash()


def _python() -> str:
    """A Python of :data:`PYTHON_VERSION` to make the venv with (this one if it fits)."""
    if sys.version_info[:2] == PYTHON_VERSION:
        return sys.executable
    name = "python{}.{}".format(*PYTHON_VERSION)
    found = shutil.which(name)
    if found is None:
        raise ClientUnavailable(
            f"the Descartes client venv needs Python {name[6:]} (its pinned wheels), and "
            f"{sys.executable} is {sys.version.split()[0]} with no {name} on PATH: install {name}"
        )
    return found


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise ClientUnavailable(
            f"building the Descartes client venv: {what} failed (exit {done.returncode}):\n"
            f"$ {' '.join(command)}\n{(done.stdout + done.stderr)[-3000:]}\n"
            "check that pip can reach PyPI (or delete .cache/descartes-client and retry)"
        )


def _build(venv: Path) -> None:
    """Make the venv at ``venv`` (its final path: a venv's scripts name it) and mark it done."""
    _run([_python(), "-m", "venv", str(venv)], "python -m venv")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    _run([*pip, "--no-deps", CLIENT], f"pip install --no-deps {CLIENT}")
    _run([*pip, *DEPENDENCIES], "pip install of the pinned dependencies")
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HOME": home, "DESCARTESLABS_ENV": "gcp-production"}
        _run([str(venv / "bin" / "python"), "-c", SMOKE], "the import smoke test", env)
    (venv / ".complete").write_text(steps_hash() + "\n", encoding="utf-8")


def ensure_client() -> Path:
    """The venv's python, building the venv first when it is missing (under a file lock).

    Raises:
        ClientUnavailable: A step failed (no Python 3.11, no PyPI, a failing smoke test).

    >>> ensure_client().name  # doctest: +SKIP
    'python'
    """
    target = venv_dir()
    python = target / "bin" / "python"
    if (target / ".complete").is_file():
        return python
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be building it: wait for it
        if not (target / ".complete").is_file():
            if target.exists():  # a build that was interrupted: start again
                shutil.rmtree(target)
            _build(target)
    return python


if __name__ == "__main__":
    try:
        print(ensure_client())
    except ClientUnavailable as exc:
        sys.exit(str(exc))
