"""The service commands of the command line: products, bands, images and uploads, as a principal.

::

    catalogql product add NAME --as WHO [FIELDS] [--db URL]
    catalogql product get|remove ID --as WHO [--cascade]
    catalogql product list --as WHO [--owned] [--limit N] [--continuation TOKEN]
    catalogql product change ID --as WHO [FIELDS] [--set-global-permissions]
    catalogql band add|change PRODUCT NAME --as WHO [FIELDS]
    catalogql band get|remove PRODUCT NAME --as WHO
    catalogql band list PRODUCT --as WHO
    catalogql image upload PRODUCT FILE... --as WHO [--image-id KEY] [--overwrite] [FIELDS]
    catalogql image get|remove PRODUCT KEY --as WHO
    catalogql image list PRODUCT --as WHO
    catalogql upload status PRODUCT UPLOAD_ID --as WHO
    catalogql upload list PRODUCT --as WHO [--status STATUS]
    catalogql gc [--db URL] [--storage DIR]

Every command acts as the principal given by ``--as sub[,email=E][,group=G]...[,org=O]``
(required; :func:`parse_principal`) on the catalog of ``--db`` (as the other commands:
``$CATALOGQL_DB``, else ``sqlite:///catalog.db``; only ``product add`` creates it);
uploaded files go to ``--storage DIR``, by default ``<database file>.files`` beside an SQLite
catalog (a PostgreSQL catalog needs ``--storage``); opening the service recovers interrupted
uploads and removes unreferenced files, which ``gc`` does alone. A product id without a ``:``
is one of the caller's own: ``landcover`` is ``<sha1(sub)>:landcover``, as ``product add``
names it.

FIELDS are the common fields as options (``--title``, ``--read`` repeatable, ``--dtype``,
``--data-range MIN MAX``...; each command's ``--help`` lists its own), ``--set KEY=JSON`` for
any other field (repeatable; ``--set tags='["a","b"]'``, a string in JSON quotes:
``--set notes='"text"'``), and ``--json FILE`` (or ``-`` for standard input) for a whole body;
options win over the body, ``--set`` over both.

The answer is the service's JSON on standard output. Exit status: 0 done, 1 refused (an invalid
field, not found, forbidden, a conflict; an upload whose status is ``failure``), 2 bad usage
(a missing or malformed ``--as``, an unreadable ``--json`` file, a catalog that cannot be
opened), with the error on standard error in the command line's one shape.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from catalogql.errors import InvalidInput, UsageError

if TYPE_CHECKING:  # the service (and the search engine under it) loads when a command runs
    from catalogql.service import Principal, Service

__all__ = [
    "AS_HINT",
    "DEFAULT_DB",
    "Field",
    "add_service_commands",
    "answer_errors",
    "fields_of",
    "parse_principal",
    "product_id",
]

AS_HINT = (
    "write --as SUB[,email=ADDRESS][,group=GROUP]...[,org=ORG], e.g. "
    "--as alice,email=alice@example.com,group=team,org=acme"
)

_AS_KEYS = ("sub", "email", "group", "org")


def parse_principal(text: str) -> Principal:
    """The principal of an ``--as`` value: ``sub[,email=…][,group=…]…[,org=…]``.

    The first item is the user id (``sub``; ``sub=…`` may also be written); ``group`` may be
    repeated, the others given once. A value cannot hold a comma.

    Raises:
        UsageError: For an empty value, an unknown or repeated key, an item without ``=``, or
            a value the principal refuses (exit status 2, with a hint).

    >>> p = parse_principal("alice,email=alice@example.com,group=team,group=ops,org=acme")
    >>> p.sub, p.email, p.groups, p.org
    ('alice', 'alice@example.com', ('ops', 'team'), 'acme')
    >>> parse_principal("alice,grp=team")
    Traceback (most recent call last):
      ...
    catalogql.errors.UsageError: --as: unknown key 'grp' in 'grp=team' (hint: did you mean \
'group'? write --as SUB[,email=ADDRESS][,group=GROUP]...[,org=ORG], e.g. --as \
alice,email=alice@example.com,group=team,org=acme)
    """
    from catalogql.service import Principal

    items = text.split(",")
    first = items[0].strip()
    if first.startswith("sub="):
        first = first[len("sub=") :]
    elif "=" in first and first.split("=", 1)[0] in _AS_KEYS:
        raise UsageError(
            f"--as {text!r} does not start with the user id", hint=f"put the sub first: {AS_HINT}"
        )
    if not first:
        raise UsageError(f"--as {text!r} has no user id (sub)", hint=AS_HINT)
    email: str | None = None
    org: str | None = None
    groups: list[str] = []
    for item in items[1:]:
        key, equals, value = (part.strip() for part in item.partition("="))
        if not equals:
            raise UsageError(
                f"--as: {item!r} is not KEY=VALUE (a value cannot hold a comma)", hint=AS_HINT
            )
        if key not in _AS_KEYS[1:]:
            close = difflib.get_close_matches(key, _AS_KEYS[1:], n=1)
            guess = f"did you mean {close[0]!r}? " if close else ""
            raise UsageError(f"--as: unknown key {key!r} in {item!r}", hint=guess + AS_HINT)
        if not value:
            raise UsageError(f"--as: {key} is empty in {item!r}", hint=AS_HINT)
        if key == "group":
            groups.append(value)
        elif (email if key == "email" else org) is not None:
            raise UsageError(f"--as: {key} is given twice", hint=f"only group repeats; {AS_HINT}")
        elif key == "email":
            email = value
        else:
            org = value
    try:
        return Principal(first, email=email, groups=groups, org=org)
    except InvalidInput as exc:
        raise UsageError(f"--as: {exc.message}", hint=AS_HINT) from None


def product_id(principal: Principal, given: str) -> str:
    """A product id as the commands take it: without a ``:``, one of the principal's own.

    >>> from catalogql.service import Principal
    >>> alice = Principal("alice")
    >>> product_id(alice, "landcover") == f"{alice.namespace}:landcover"
    True
    >>> product_id(alice, "acme:landcover")
    'acme:landcover'
    """
    return given if ":" in given else f"{principal.namespace}:{given}"


# --------------------------------------------------------------------------------------------
# Field options


@dataclass(frozen=True)
class Field:
    """A field given as an option: ``--flag`` sets ``name`` (``kind``: how its text is read).

    ``kind`` is ``text``, ``int``, ``number``, ``list`` (repeatable, a list of text), or
    ``pair`` (two numbers).
    """

    flag: str
    name: str
    kind: str
    help: str


_GRANTS = (
    Field("--read", "read", "list", "who may read: user:<sha1>, email:E, group:G, org:O (repeat)"),
    Field("--writer", "writers", "list", "who may write, as --read (repeat)"),
    Field("--owner", "owners", "list", "who owns it, as --read (repeat)"),
)

PRODUCT_OPTIONS = (
    Field("--title", "title", "text", "the product's title"),
    Field("--description", "description", "text", "its description"),
    *_GRANTS,
    Field("--tag", "tags", "list", "a tag (repeat)"),
    Field("--notes", "notes", "text", "free notes"),
    Field("--resolution", "resolution", "number", "the resolution"),
    Field("--start-datetime", "start_datetime", "text", "the first acquisition (ISO 8601)"),
    Field("--end-datetime", "end_datetime", "text", "the last acquisition (ISO 8601)"),
)

BAND_OPTIONS = (
    Field("--srcband", "srcband", "int", "the band of the file it is read from (1-based)"),
    Field("--dtype", "dtype", "text", "Byte, UInt16, Int16, UInt32, Int32, Float32, Float64"),
    Field("--data-range", "data_range", "pair", "the lowest and highest value"),
    Field("--type", "type", "text", "spectral, mask, class, derived or other"),
    Field("--nbits", "nbits", "int", "bits used (default: the dtype's)"),
    Field("--nodata", "nodata", "number", "the no-data value"),
    Field("--description", "description", "text", "the band's description"),
    Field("--srcfile", "srcfile", "int", "the file of a multi-file image it is read from"),
    Field("--default-range", "default_range", "pair", "the range shown by default"),
    Field("--colormap-name", "colormap_name", "text", "a named colormap (viridis, ...)"),
    *_GRANTS,
    Field("--tag", "tags", "list", "a tag (repeat)"),
)

IMAGE_OPTIONS = (
    Field("--acquired", "acquired", "text", "when it was acquired (ISO 8601; required)"),
    Field("--cloud-fraction", "cloud_fraction", "number", "0 to 1"),
    Field("--fill-fraction", "fill_fraction", "number", "0 to 1"),
    Field("--tag", "tags", "list", "a tag (repeat)"),
)


def _number(text: str, flag: str) -> int | float:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{flag} takes a number, not {text!r}", hint=f"write {flag} 10000")
    return value


def _add_field_options(parser: argparse.ArgumentParser, options: Sequence[Field]) -> None:
    group = parser.add_argument_group("fields")
    for option in options:
        dest = f"field_{option.name}"
        if option.kind == "list":
            group.add_argument(
                option.flag, dest=dest, action="append", metavar="NAME", help=option.help
            )
        elif option.kind == "pair":
            group.add_argument(
                option.flag, dest=dest, nargs=2, metavar=("MIN", "MAX"), help=option.help
            )
        else:
            group.add_argument(
                option.flag, dest=dest, metavar=option.kind.upper(), help=option.help
            )
    group.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="any field, its value as JSON (repeat): --set nodata=0, --set notes='\"text\"'",
    )
    group.add_argument(
        "--json",
        dest="body",
        metavar="FILE",
        help="the whole body as a JSON object, from FILE or - (standard input)",
    )
    parser.set_defaults(field_options=tuple(options))


def fields_of(args: argparse.Namespace) -> dict[str, Any]:
    """The fields a command was given: ``--json`` body, then the options, then ``--set``.

    >>> parser = argparse.ArgumentParser()
    >>> _add_field_options(parser, BAND_OPTIONS)
    >>> fields_of(parser.parse_args(["--dtype", "UInt16", "--data-range", "0", "1e4",
    ...                              "--set", "nodata=0"]))
    {'dtype': 'UInt16', 'data_range': [0, 10000.0], 'nodata': 0}
    """
    body: dict[str, Any] = {}
    if args.body is not None:
        loaded = _load_json(args.body)
        if not isinstance(loaded, dict):
            raise UsageError(
                f"--json {args.body}: the body must be a JSON object, not {type(loaded).__name__}",
                hint='write {"title": "..."}',
            )
        body.update(loaded)
    for option in args.field_options:
        given = getattr(args, f"field_{option.name}")
        if given is None:
            continue
        if option.kind == "int":
            number = _number(given, option.flag)
            if not isinstance(number, int):
                raise UsageError(f"{option.flag} takes a whole number, not {given!r}")
            body[option.name] = number
        elif option.kind == "number":
            body[option.name] = _number(given, option.flag)
        elif option.kind == "pair":
            body[option.name] = [_number(value, option.flag) for value in given]
        else:
            body[option.name] = given
    for item in args.sets:
        key, equals, raw = item.partition("=")
        if not equals or not key.strip():
            raise UsageError(f"--set {item!r} is not KEY=JSON", hint="write --set nodata=0")
        try:
            body[key.strip()] = json.loads(raw)
        except ValueError:
            raise UsageError(
                f"--set {key.strip()}: {raw!r} is not JSON",
                hint=f"a string needs JSON quotes: --set {key.strip()}='\"{raw}\"'",
            ) from None
    return body


def _load_json(path: str) -> Any:
    try:
        raw = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from None


# --------------------------------------------------------------------------------------------
# Running a command


DEFAULT_DB = "sqlite:///catalog.db"
"""The catalog of every command without ``--db`` or ``$CATALOGQL_DB``."""

Handler = Callable[["Service", "Principal", argparse.Namespace], Any]


def _url(args: argparse.Namespace) -> str:
    url = str(args.db or os.environ.get("CATALOGQL_DB") or DEFAULT_DB)
    if url.startswith("memory:"):
        raise UsageError(
            f"{url} is empty here: a memory catalog lives only as long as one command",
            hint="use sqlite:///FILE.db (the default is sqlite:///catalog.db)",
        )
    return url


def _open_service(args: argparse.Namespace) -> Service:
    from catalogql.search import CatalogError
    from catalogql.service import open_service

    url = _url(args)
    try:
        return open_service(url, storage=args.storage, create=args.creates)
    except CatalogError as error:
        raise UsageError(str(error)) from None


def _runner(handler: Handler) -> Callable[[argparse.Namespace, TextIO, TextIO], int]:
    def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        if args.principal is None:
            raise UsageError(
                "--as is required for service commands: say who acts (the principal acting)",
                hint=AS_HINT,
            )
        principal = parse_principal(args.principal)
        service = _open_service(args)
        try:
            answer = handler(service, principal, args)
        finally:
            service.close()
        status = 0
        if isinstance(answer, _Failed):
            answer, status = answer.answer, 1
            for line in answer_errors(answer):
                print(line, file=err)
        print(json.dumps(answer, indent=2, ensure_ascii=False), file=out)
        return status

    return run


@dataclass(frozen=True)
class _Failed:
    """An answer printed as it is, whose command still fails (an upload whose status is failure)."""

    answer: Any


def answer_errors(answer: Any) -> list[str]:
    """The ``error: …`` lines of failed uploads in an answer (a status, or a list of them).

    >>> answer_errors({"id": "a.tif", "status": "failure", "errors": [{"code": "upload.x",
    ...     "message": "not a GeoTIFF", "hint": "upload a GeoTIFF"}]})
    ['error: upload a.tif failed: not a GeoTIFF [upload.x] (hint: upload a GeoTIFF)']
    """
    statuses = answer if isinstance(answer, list) else [answer]
    lines = []
    for status in statuses:
        if not isinstance(status, dict) or status.get("status") != "failure":
            continue
        for error in status.get("errors") or [{"message": "failed", "code": "upload.failure"}]:
            hint = f" (hint: {error['hint']})" if error.get("hint") else ""
            lines.append(
                f"error: upload {status.get('id')} failed: {error.get('message')} "
                f"[{error.get('code')}]{hint}"
            )
    return lines


def _page(items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    return {"data": items, "continuation": token}


# -- products


def _product_add(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    return svc.add_product(who, args.name, **fields_of(args))


def _product_get(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    return svc.get_product(who, product_id(who, args.product))


def _product_list(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    return _page(
        *svc.list_products(who, owned=args.owned, limit=args.limit, continuation=args.continuation)
    )


def _product_change(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    fields = fields_of(args)
    pid = product_id(who, args.product)
    if not fields and not args.set_global_permissions:
        raise UsageError("nothing to change", hint="give a field: --title T, --set KEY=JSON")
    if not fields:
        return svc.set_global_permissions(who, pid)
    return svc.change_product(
        who, pid, set_global_permissions=args.set_global_permissions, **fields
    )


def _product_remove(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    pid = product_id(who, args.product)
    answer = svc.remove_product(who, pid, cascade=args.cascade)
    if answer is None:
        return {"id": pid, "removed": True}
    task = answer["deletion_task"]
    return {"id": pid, **answer, **svc.product_deletion_status(who, task)}


# -- bands


def _band_add(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    return svc.add_band(who, product_id(who, args.product), args.name, **fields_of(args))


def _band_get(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    return svc.get_band(who, product_id(who, args.product), args.name)


def _band_list(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    return _page(
        *svc.list_bands(
            who, product_id(who, args.product), limit=args.limit, continuation=args.continuation
        )
    )


def _band_change(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    fields = fields_of(args)
    if not fields:
        raise UsageError("nothing to change", hint="give a field: --nodata 0, --set KEY=JSON")
    return svc.change_band(who, product_id(who, args.product), args.name, **fields)


def _band_remove(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    pid = product_id(who, args.product)
    svc.remove_band(who, pid, args.name)
    return {"id": f"{pid}:{args.name}", "removed": True}


# -- images and uploads


def _image_upload(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    pid = product_id(who, args.product)
    fields = fields_of(args)
    if svc.storage is None:
        raise UsageError(
            f"uploads to {svc.catalog.url} need a folder for the files",
            hint="give --storage DIR (the default, <database file>.files, is for SQLite only)",
        )
    files = [Path(name) for name in args.files]
    for path in files:
        if not path.is_file():
            raise UsageError(f"cannot read {path}: no such file")
    if args.image_id is not None and len(files) > 1:
        raise UsageError(
            "--image-id names one image: give one FILE with it",
            hint="upload each file as its own image, named after the file",
        )
    statuses = [
        svc.upload_image(who, pid, path, image_id=args.image_id, overwrite=args.overwrite, **fields)
        for path in files
    ]
    answer: Any = statuses[0] if len(statuses) == 1 else statuses
    if any(status.get("status") == "failure" for status in statuses):
        return _Failed(answer)
    return answer


def _image_get(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    return svc.get_image(who, product_id(who, args.product), args.key)


def _image_list(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    return _page(
        *svc.list_images(
            who, product_id(who, args.product), limit=args.limit, continuation=args.continuation
        )
    )


def _image_remove(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    pid = product_id(who, args.product)
    svc.remove_image(who, pid, args.key)
    return {"id": f"{pid}:{args.key}", "removed": True}


def _upload_status(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    return svc.upload_status(who, product_id(who, args.product), args.upload_id)


def _upload_list(svc: Service, who: Principal, args: argparse.Namespace) -> Any:
    return svc.list_uploads(
        who,
        product_id(who, args.product),
        status=args.status,
        limit=args.limit,
        continuation=args.continuation,
    )


def _run_gc(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from catalogql.search import CatalogError, open_catalog
    from catalogql.service import Service

    try:
        catalog = open_catalog(_url(args))
    except CatalogError as error:
        raise UsageError(str(error)) from None
    with Service(catalog, args.storage) as service:  # not open_service: it collects on opening
        print(json.dumps(service.gc(), indent=2), file=out)
    return 0


# --------------------------------------------------------------------------------------------
# The parsers


def _common(parser: argparse.ArgumentParser, db_help: str) -> None:
    parser.add_argument(
        "--as",
        dest="principal",
        metavar="WHO",
        help="who acts (required): SUB[,email=E][,group=G]...[,org=O]",
    )
    parser.add_argument("--db", help=db_help)
    parser.add_argument(
        "--storage",
        metavar="DIR",
        help="where uploaded files are kept (default: <database file>.files beside an SQLite "
        "catalog; required for PostgreSQL uploads)",
    )


def _paging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit",
        type=int,
        default=100,
        metavar="N",
        help="at most N per page (default: %(default)s)",
    )
    parser.add_argument(
        "--continuation", metavar="TOKEN", help="the next page: the continuation of the last answer"
    )


def add_service_commands(commands: Any, db_help: str) -> None:
    """Add ``product``, ``band``, ``image`` and ``upload`` to the CLI's subcommands.

    Args:
        commands: The ``add_subparsers`` object of the ``catalogql`` parser.
        db_help: The help text of ``--db``.

    >>> parser = argparse.ArgumentParser(prog="catalogql")
    >>> add_service_commands(parser.add_subparsers(dest="command"), "the catalog")
    >>> parser.parse_args(["band", "get", "p", "red", "--as", "alice"]).name
    'red'
    """

    def group(name: str, help: str) -> Any:
        parser = commands.add_parser(name, help=help, description=help + ". " + _ABOUT)
        return parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(actions: Any, name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help, description=help)
        _common(parser, db_help)
        parser.set_defaults(run=_runner(handler), creates=handler is _product_add)
        return parser

    products = group("product", "Create, read, list, change and remove products")
    p = action(products, "add", _product_add, "Create a product (its id: <sha1(sub)>:NAME)")
    p.add_argument("name", metavar="NAME", help="the product's name (or a namespaced id)")
    _add_field_options(p, PRODUCT_OPTIONS)
    p = action(products, "get", _product_get, "Print a product")
    p.add_argument("product", metavar="ID", help=_ID_HELP)
    p = action(products, "list", _product_list, "List the products you may read, paged")
    p.add_argument("--owned", action="store_true", help="only those you own")
    _paging(p)
    p = action(products, "change", _product_change, "Change the given fields of a product")
    p.add_argument("product", metavar="ID", help=_ID_HELP)
    _add_field_options(p, PRODUCT_OPTIONS)
    p.add_argument(
        "--set-global-permissions",
        action="store_true",
        help="copy its read/writers/owners to its bands and images",
    )
    p = action(
        products,
        "remove",
        _product_remove,
        "Remove a product (with --cascade, "
        "everything in it: prints the deletion task and its status)",
    )
    p.add_argument("product", metavar="ID", help=_ID_HELP)
    p.add_argument(
        "--cascade",
        action="store_true",
        help="also remove its bands and images (else refused while it has any)",
    )

    bands = group("band", "Add, read, list, change and remove the bands of a product")
    for name, handler, help, fields in (
        ("add", _band_add, "Add a band to a product", True),
        ("get", _band_get, "Print a band", False),
        ("change", _band_change, "Change the given fields of a band", True),
        ("remove", _band_remove, "Remove a band", False),
    ):
        p = action(bands, name, handler, help)
        p.add_argument("product", metavar="PRODUCT", help=_ID_HELP)
        p.add_argument("name", metavar="NAME", help="the band's name")
        if fields:
            _add_field_options(p, BAND_OPTIONS)
    p = action(bands, "list", _band_list, "List the bands of a product, paged")
    p.add_argument("product", metavar="PRODUCT", help=_ID_HELP)
    _paging(p)

    images = group("image", "Upload GeoTIFFs as images of a product; read, list, remove them")
    p = action(
        images,
        "upload",
        _image_upload,
        "Upload GeoTIFF files, each an image (exit 1 "
        "when an upload's status is failure; the statuses are printed)",
    )
    p.add_argument("product", metavar="PRODUCT", help=_ID_HELP)
    p.add_argument("files", metavar="FILE", nargs="+", help="a GeoTIFF")
    p.add_argument(
        "--image-id", metavar="KEY", help="the image's key (default: the file's name without .tif)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an image of that key")
    _add_field_options(p, IMAGE_OPTIONS)
    for name, handler, help in (
        ("get", _image_get, "Print an image"),
        ("remove", _image_remove, "Remove an image and its search record"),
    ):
        p = action(images, name, handler, help)
        p.add_argument("product", metavar="PRODUCT", help=_ID_HELP)
        p.add_argument("key", metavar="KEY", help="the image's key")
    p = action(images, "list", _image_list, "List the images of a product, paged")
    p.add_argument("product", metavar="PRODUCT", help=_ID_HELP)
    _paging(p)

    gc = commands.add_parser(
        "gc",
        help="recover interrupted uploads and remove unreferenced files",
        description="Turn the uploads whose process died into failures, and remove temporary "
        "files of dead processes and every stored file no image and no pending upload "
        "references (what opening the service also does). Prints what it did as JSON. Acts as "
        "no principal: no --as.",
    )
    gc.add_argument("--db", help=db_help)
    gc.add_argument("--storage", metavar="DIR", help="the uploads' folder (default: as above)")
    gc.set_defaults(run=_run_gc)

    ups = group("upload", "The statuses of a product's uploads")
    p = action(ups, "status", _upload_status, "Print an upload's status")
    p.add_argument("product", metavar="PRODUCT", help=_ID_HELP)
    p.add_argument("upload_id", metavar="UPLOAD_ID", help="the upload's id (the file's name)")
    p = action(ups, "list", _upload_list, "List a product's uploads, paged")
    p.add_argument("product", metavar="PRODUCT", help=_ID_HELP)
    p.add_argument(
        "--status",
        type=str.lower,
        choices=("pending", "running", "success", "failure"),
        help="only uploads with this status",
    )
    _paging(p)


_ID_HELP = "a product id; without ':' one of yours (NAME is <sha1(sub)>:NAME)"
_ABOUT = (
    "Every command acts as --as SUB[,email=E][,group=G]...[,org=O] and prints JSON. Exit "
    "status: 0 done, 1 refused (invalid, not found, forbidden, conflict, a failed upload), 2 "
    "bad usage."
)
