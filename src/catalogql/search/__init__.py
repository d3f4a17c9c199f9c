"""The reference search engine: GBDX search semantics over three stores with one answer.

>>> from catalogql.search import open_catalog
>>> with open_catalog("memory://") as catalog:
...     catalog.search({"searchAreaWkt": "POLYGON((0 0, 1 0, 1 1, 0 0))"})["stats"]["totalRecords"]
0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from catalogql.errors import argument_error
from catalogql.search.engine import EVERYONE, MAX_RESULTS, Catalog, Page, Query, Transaction
from catalogql.search.errors import (
    CatalogError,
    CatalogNotFound,
    InvalidRecord,
    InvalidSearchRequest,
    RecordNotFound,
    RequestProblem,
    RequestTooLarge,
)
from catalogql.search.metadata_request import MetadataSearchRequest
from catalogql.search.records import EQUALITY_INDEXED
from catalogql.search.request import SearchRequest
from catalogql.syntax.parser import DEFAULT_LIMITS, Limits, QueryDialect

__all__ = [
    "EVERYONE",
    "MAX_RESULTS",
    "Catalog",
    "CatalogError",
    "CatalogNotFound",
    "InvalidRecord",
    "InvalidSearchRequest",
    "MetadataSearchRequest",
    "Page",
    "Query",
    "RecordNotFound",
    "RequestProblem",
    "RequestTooLarge",
    "SearchRequest",
    "Transaction",
    "open_catalog",
]

DEFAULT_URL = "sqlite:///catalog.db"


def open_catalog(
    url: str = DEFAULT_URL,
    *,
    schema: Mapping[str, Any] | None = None,
    dialect: QueryDialect = "default",
    indexed: Sequence[str] = EQUALITY_INDEXED,
    create: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> Catalog:
    """Open (or create) a catalog.

    Searching and fetching should open with ``create=False``: a URL with a typo then fails with
    :class:`CatalogNotFound` instead of answering from a new, empty catalog (only loading
    creates one).

    Args:
        url: ``memory://`` (in this process only), ``sqlite:///path/to/file.db`` (the embedded
            default; ``sqlite://`` alone is an in-memory database), or
            ``postgresql://user@host/dbname`` (PostGIS must be installable in that database).
            A bare file path means an SQLite file.
        schema: A queryables schema: filters are validated and typed by it on every store.
        dialect: The filter dialect requests are parsed in (``default`` or ``strict``).
        indexed: Hot properties whose equality lookups are served by an index.
        create: Whether to create the catalog (the SQLite file, the tables) when it does not
            exist; ``memory://`` and ``sqlite://`` are new whenever opened.
        limits: Input limits for requests: each filter's length, depth and comparisons, and
            the comparisons of one whole request (``Limits(max_request_comparisons=...)``).

    Returns:
        The catalog.

    Raises:
        CatalogError: For a URL no store understands, or a store that cannot be opened.
        CatalogNotFound: With ``create=False``, for a catalog that does not exist.

    >>> open_catalog("memory://")
    <MemoryCatalog memory://>
    >>> open_catalog("sqlite:///no-such-catalog.db", create=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
      ...
    catalogql.search.errors.CatalogNotFound: no catalog at sqlite:///no-such-catalog.db: the file no-such-catalog.db does not exist ...
    >>> open_catalog("ftp://x")
    Traceback (most recent call last):
      ...
    catalogql.search.errors.CatalogError: no store for 'ftp://x': use memory://, sqlite:///path/to/file.db or postgresql://user@host/dbname
    """  # noqa: E501
    if not isinstance(url, str):
        raise argument_error("open_catalog", "url", url, "a URL string such as 'memory://'")
    if isinstance(indexed, str | bytes) or not isinstance(indexed, Sequence):
        raise argument_error("open_catalog", "indexed", indexed, "a list of property names")
    for i, name in enumerate(indexed):
        if not isinstance(name, str):
            raise argument_error("open_catalog", f"indexed[{i}]", name, "a property name (a str)")
    options: dict[str, Any] = {
        "schema": schema,
        "dialect": dialect,
        "indexed": indexed,
        "create": create,
        "limits": limits,
    }
    if url == "memory://" or url.startswith("memory://"):
        from catalogql.search.stores.memory import MemoryCatalog

        return MemoryCatalog(url, **options)
    if url.startswith("sqlite:") or "://" not in url:
        from catalogql.search.stores.sqlite import SQLiteCatalog

        return SQLiteCatalog(url, **options)
    if url.startswith(("postgresql:", "postgresql+psycopg:", "postgres:")):
        from catalogql.search.stores.postgres import PostgresCatalog

        return PostgresCatalog(url, **options)
    raise CatalogError(
        f"no store for {url!r}: use memory://, sqlite:///path/to/file.db or "
        "postgresql://user@host/dbname"
    )
