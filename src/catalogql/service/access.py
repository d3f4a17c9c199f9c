"""Who may do what: the one rule of SPEC section 7, for products and everything in them.

A product lists its ``owners``, its ``writers`` and its ``read`` principals (grant names such as
``user:<namespace>``, ``email:a@b.c``, ``group:team``, ``org:acme``). A principal whose names
meet

- ``owners`` may **own** it (and so also write and read it),
- ``writers`` may **write** it (and read it),
- ``read`` may **read** it,

and anyone else may do nothing with it. Bands and images have no rule of their own: what a
principal may do with them is what :func:`authorize` says for their product.

Refusals: a principal who may not even read gets :class:`~catalogql.errors.NotFound`, with the
same message as for a product that does not exist (:func:`not_found`), so that existence never
leaks; one who may read but not do what they asked gets :class:`~catalogql.errors.Forbidden`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from catalogql.errors import Forbidden, NotFound, Problem
from catalogql.search import EVERYONE
from catalogql.service.principals import Principal

__all__ = [
    "GRANT_PREFIXES",
    "Permission",
    "authorize",
    "check_grants",
    "level",
    "not_found",
    "readers",
    "visible_names",
]

Permission = Literal["read", "write", "own"]
"""What a principal asks to do, weakest first."""

_RANK: dict[str | None, int] = {None: 0, "read": 1, "write": 2, "own": 3}

GRANT_PREFIXES = ("user:", "email:", "group:", "org:")
"""The prefixes a grant name may have."""


def level(principal: Principal, product: Mapping[str, Any]) -> Permission | None:
    """The most a principal may do with a product (and its bands and images), or None.

    Args:
        principal: Who asks.
        product: The product's attributes (``owners``, ``writers``, ``read``).

    >>> alice, bob = Principal("alice", groups=["team"]), Principal("bob")
    >>> product = {"owners": [alice.user], "writers": [], "read": ["group:team"]}
    >>> level(alice, product), level(Principal("carol", groups=["team"]), product)
    ('own', 'read')
    >>> level(bob, product) is None
    True
    """
    names = principal.names
    if not names.isdisjoint(product.get("owners") or ()):
        return "own"
    if not names.isdisjoint(product.get("writers") or ()):
        return "write"
    if not names.isdisjoint(product.get("read") or ()):
        return "read"
    return None


def visible_names(principal: Principal) -> frozenset[str]:
    """The reader names a principal's searches and gets see records with: the one rule.

    The principal's own names (``user:``, ``email:``, ``group:``, ``org:``) and
    :data:`~catalogql.search.EVERYONE`: an authenticated principal sees what ``catalogql load``
    loaded (for everyone) and what the products it may read hold. Every search and get of
    the service passes these as ``readers``.

    >>> sorted(visible_names(Principal("bob", groups=["team"])))[:2]
    ['*', 'group:team']
    """
    return principal.names | {EVERYONE}


def not_found(kind: str, id: str) -> NotFound:
    """The error for something that does not exist, or that the caller may not see.

    >>> error = not_found("product", "ns:x")
    >>> error.status, error.message
    (404, "product 'ns:x' not found")
    """
    return NotFound(
        f"{kind} {id!r} not found",
        hint="check the id; ids of products are namespaced: <namespace>:<name>",
    )


def authorize(
    principal: Principal,
    product: Mapping[str, Any] | None,
    need: Permission,
    *,
    product_id: str,
    kind: str = "product",
    id: str | None = None,
) -> Permission:
    """Decide whether ``principal`` may do ``need`` with a product or something in it.

    The one place every permission of the service is decided (products, bands, images, tasks).

    Args:
        principal: Who asks.
        product: The product's attributes, or None if there is no such product.
        need: What they ask to do.
        product_id: The product's id (for the messages).
        kind: What is asked about (``product``, ``band``, ``image``), for the messages.
        id: Its id, for the messages (the product's id if None).

    Returns:
        What the principal may do (at least ``need``).

    Raises:
        NotFound: No such product, or the principal may not read it (the same error).
        Forbidden: The principal may read it but not do ``need``.

    >>> alice, bob = Principal("alice"), Principal("bob")
    >>> product = {"owners": [alice.user], "writers": [], "read": [bob.user]}
    >>> authorize(alice, product, "own", product_id="p")
    'own'
    >>> authorize(bob, product, "write", product_id="p", kind="band", id="p:red")
    Traceback (most recent call last):
      ...
    catalogql.errors.Forbidden: you may read band 'p:red' but not write it (hint: ask an owner \
of product 'p' to add you to its writers)
    >>> authorize(Principal("carol"), product, "read", product_id="p") == authorize(
    ...     alice, None, "read", product_id="p")
    Traceback (most recent call last):
      ...
    catalogql.errors.NotFound: product 'p' not found (hint: check the id; ids of products are \
namespaced: <namespace>:<name>)
    """
    target = product_id if id is None else id
    found = None if product is None else level(principal, product)
    if found is None:
        raise not_found(kind, target)
    if _RANK[found] < _RANK[need]:
        hint = (
            f"only an owner of product {product_id!r} may do this"
            if need == "own"
            else f"ask an owner of product {product_id!r} to add you to its writers"
        )
        verb = "own" if need == "own" else "write"
        raise Forbidden(f"you may {found} {kind} {target!r} but not {verb} it", hint=hint)
    return found


def readers(product: Mapping[str, Any]) -> tuple[str, ...]:
    """Every name that may read a product: its owners, writers and ``read`` grants, sorted.

    What the stores filter lists (and, later, records) by: a principal sees the product if one
    of its names is among these, which is exactly when :func:`level` is not None.

    >>> readers({"owners": ["user:a"], "writers": ["org:x"], "read": ["group:g", "user:a"]})
    ('group:g', 'org:x', 'user:a')
    """
    names: set[str] = set()
    for field in ("owners", "writers", "read"):
        names.update(product.get(field) or ())
    return tuple(sorted(names))


def check_grants(value: Any, field: str) -> tuple[list[str], list[Problem]]:
    """Validate a list of grant names (``read``, ``writers``, ``owners``).

    Returns:
        The names (duplicates dropped, first order kept) and the problems found, each naming
        the field and index (``read[1]``).

    >>> check_grants(["group:team", "group:team", "email:a@b.c"], "read")[0]
    ['group:team', 'email:a@b.c']
    >>> problem = check_grants(["team"], "writers")[1][0]
    >>> problem.field, problem.hint
    ('writers[0]', 'a grant starts with one of user:, email:, group:, org: (e.g. group:team)')
    """
    problems: list[Problem] = []
    if not isinstance(value, list | tuple):
        problems.append(
            Problem(
                field,
                None,
                f"{field} must be a list of grant names, not {value!r}",
                f'write {field}=["group:team", "email:a@b.c"]',
                "service.grants",
            )
        )
        return [], problems
    names: list[str] = []
    for index, name in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(name, str) or not name.startswith(GRANT_PREFIXES):
            problems.append(
                Problem(
                    where,
                    None,
                    f"{where} is not a grant name: {name!r}",
                    f"a grant starts with one of {', '.join(GRANT_PREFIXES)} (e.g. group:team)",
                    "service.grant-prefix",
                )
            )
        elif len(name.partition(":")[2].strip()) == 0 or len(name) > 1000:
            problems.append(
                Problem(
                    where,
                    None,
                    f"{where} names nobody: {name!r}",
                    "write the name after the prefix, e.g. group:team",
                    "service.grant-empty",
                )
            )
        elif name not in names:
            names.append(name)
    return names, problems
