"""Schemathesis against the HTTP API's own ``/openapi.json`` (issue 12, item 7).

Every operation the OpenAPI lists is called with requests Schemathesis draws from its schema
(valid ones and, for the bodies and parameters, invalid ones), in process over ASGI, on a catalog
with data: GBDX records, and a product with bands and images, whose ids the path parameters are
drawn from half the time (so GETs of real things are exercised, not only 404s). Every answer must:

- not be a 5xx (the real client retries even POSTs on one);
- carry a status code the operation documents, with the documented content type, and a body
  (and headers) matching the documented schema;
- and, besides, every operation but ``/healthz`` and ``/openapi.json`` answers 401 (with
  ``WWW-Authenticate``) without a token and with a forged one.

The stateful test follows the OpenAPI links (e.g. create a product, then get it) where the
schema has them. Everything runs with a fixed seed (``derandomize``) and a bounded number of
examples (``property_settings.scaled``), so ``make test`` stays deterministic and takes seconds;
``make hunt`` scales the examples up. One test runs the same checks, with fewer examples,
against a real ``catalogql serve`` subprocess.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import jwt
import pytest
import schemathesis
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import catalogql as cq
from catalogql.http import create_app
from catalogql.http.routes import ROUTERS
from catalogql.service import Principal
from catalogql.testing.synthetic import generate_records
from http_fixtures import SECRET, bearer, serving
from property_settings import scaled

OWNER = Principal("alice")
PUBLIC = {"/healthz", "/openapi.json"}
RECORDS = list(generate_records(20, seed=7))
BAND = {"srcband": 1, "dtype": "Byte", "data_range": [0, 255], "type": "spectral"}


def _loaded_service(storage: Path | None) -> cq.Service:
    """A memory catalog with records and a product with two bands and two images."""
    svc = cq.open_service("memory://", storage)
    svc.catalog.add_records(RECORDS)
    product = svc.add_product(OWNER, "schema-product", title="P", description="for schemathesis")
    for index, name in enumerate(("red", "nir")):
        svc.add_band(OWNER, product["id"], name, **{**BAND, "srcband": index + 1})
    for index in range(2):
        svc.add_image(
            OWNER,
            product["id"],
            f"image-{index}",
            acquired=f"2020-01-0{index + 1}",
            geometry="POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))",
        )
    return svc


def known_ids(svc: cq.Service) -> list[str]:
    """The ids path parameters are drawn from besides random text (records, product, bands...)."""
    ids = [str(record["identifier"]) for record in RECORDS[:5]]
    products, _ = svc.list_products(OWNER)
    (product,) = [p["id"] for p in products if p["id"].endswith(":schema-product")]
    ids.append(product)
    ids += [f"{product}:red", f"{product}:nir", f"{product}:image-0", f"{product}:image-1"]
    ids += ["schema-product", "red", "image-0", "derived:ndvi"]
    return ids


def _configured(schema: Any, svc: cq.Service) -> Any:
    """Positive and negative generation, deterministic; path parameters real ids half the time."""
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], deterministic=True
    )
    ids = known_ids(svc)

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        if not path_parameters:
            return st.just(path_parameters)
        real = st.fixed_dictionaries({name: st.sampled_from(ids) for name in path_parameters})
        return st.one_of(st.just(path_parameters), real)

    return schema


# The schema is loaded when the module is imported (the pytest plugin's lazy fixture loader does
# not work with pytest 9), from an app over a memory catalog: cheap, and never written to disk.
SERVICE = _loaded_service(None)
APP = create_app(SERVICE, secret=SECRET)
schema = _configured(schemathesis.openapi.from_asgi("/openapi.json", APP), SERVICE)

OPERATIONS = sum(1 for _ in schema.get_all_operations())
BUDGET = 300
"""About how many requests the per-operation test sends in all, shared by the operations (at
least 5 each), so the test stays within seconds as routes are added."""

SETTINGS = hypothesis.settings(
    max_examples=scaled(max(5, BUDGET // OPERATIONS)),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]
"""What every answer is checked for. Not Schemathesis's ``positive_data_acceptance``: a body
the schema allows may still be refused (a filter string or a WKT polygon is a language the JSON
Schema cannot express), and is refused with a documented 400 listing every problem."""


@schema.parametrize()
@SETTINGS
def test_every_operation_answers_as_documented(case: Any) -> None:
    """No 5xx; status, content type, headers and body as documented; invalid input refused."""
    case.call_and_validate(headers=bearer(), checks=CHECKS)


FORGED = jwt.encode({"sub": "alice", "exp": 4102444800}, b"not-the-servers-secret" * 2, "HS256")
REJECTED = {"no token": {}, "forged token": {"Authorization": f"Bearer {FORGED}"}}
PATH_PARAMETER = re.compile(r"\{([^}]+)\}")


def _without_authorization(case: Any) -> None:
    """Drop any Authorization header Schemathesis generated from the security scheme."""
    if case.headers:
        case.headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}


@pytest.mark.parametrize("rejected", sorted(REJECTED))
def test_auth_is_enforced_on_every_operation(rejected: str) -> None:
    """Every operation but the public ones answers 401 with a challenge, as documented.

    One request per operation (the path's parameters an id, a JSON object body): the token is
    checked before anything else the request holds, so what Schemathesis would draw adds nothing.
    """
    headers = REJECTED[rejected]
    operations = [result.ok() for result in schema.get_all_operations()]
    with TestClient(APP, raise_server_exceptions=False) as client:
        for operation in operations:
            method = operation.method.upper()
            parameters = dict.fromkeys(PATH_PARAMETER.findall(operation.path), "x")
            path = PATH_PARAMETER.sub("x", operation.path)
            body = {} if method in ("POST", "PUT", "PATCH") else None
            answer = client.request(method, path, headers=headers, json=body)
            if operation.path in PUBLIC:
                assert answer.status_code == 200, (rejected, path, answer.text)
                continue
            assert answer.status_code == 401, (rejected, method, path, answer.text)
            assert answer.headers["WWW-Authenticate"].startswith("Bearer realm="), answer.headers
            case = operation.Case(path_parameters=parameters, headers=headers)
            case.validate_response(
                answer,
                checks=[
                    status_code_conformance,
                    content_type_conformance,
                    response_headers_conformance,
                    response_schema_conformance,
                ],
            )


def test_the_known_ids_are_real_so_gets_of_them_succeed() -> None:
    """The ids the path parameters are drawn from name things the catalog has."""
    with TestClient(APP) as client:
        for identifier in known_ids(SERVICE)[:5]:
            answer = client.get(f"/catalog/v2/record/{identifier}", headers=bearer())
            assert answer.status_code == 200, (identifier, answer.text)
        product, red, _, image, _ = known_ids(SERVICE)[5:10]
        assert SERVICE.get_product(OWNER, product)["id"] == product
        assert SERVICE.get_band(OWNER, product, "red")["id"] == red
        assert SERVICE.get_image(OWNER, product, "image-0")["id"] == image


def test_every_route_is_in_the_schema_schemathesis_reads() -> None:
    """Schemathesis tests what the app serves: no route is missing from ``/openapi.json``."""
    routes = list(APP.routes) + [route for router in ROUTERS for route in router.routes]
    served = {
        (method, route.path)
        for route in routes
        if isinstance(route, APIRoute)
        for method in route.methods
        if method != "HEAD"
    }
    tested = {
        (result.ok().method.upper(), result.ok().path) for result in schema.get_all_operations()
    }
    assert served == tested


def test_against_a_real_catalogql_serve(tmp_path: Path) -> None:
    """The same checks, fewer examples, over HTTP against a ``catalogql serve`` subprocess."""
    db = f"sqlite:///{tmp_path / 'catalog.db'}"
    with cq.open_service(db, tmp_path / "storage") as svc:
        svc.catalog.add_records(RECORDS)
    with serving(db, tmp_path, "--storage", str(tmp_path / "storage")) as server:
        served = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        served.config.generation.update(modes=list(GenerationMode), deterministic=True)
        ids = [str(record["identifier"]) for record in RECORDS[:3]]
        operations = [result.ok() for result in served.get_all_operations()]
        assert {op.path for op in operations} >= PUBLIC - {"/openapi.json"}
        for operation in operations:
            strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)

            @hypothesis.settings(SETTINGS, max_examples=scaled(max(2, 40 // len(operations))))
            @hypothesis.given(case=strategy, real=st.sampled_from(ids))
            def call(case: Any, real: str) -> None:
                if case.path_parameters and real.endswith("0"):
                    case.path_parameters = dict.fromkeys(case.path_parameters, real)
                case.call_and_validate(headers=bearer(), checks=CHECKS)

            call()
            for headers in REJECTED.values():
                path = operation.path.replace("{identifier}", ids[0])
                answer = httpx.request(
                    operation.method.upper(), f"{server.url}{path}", headers=headers, json={}
                )
                expected = 200 if operation.path in PUBLIC else 401
                assert answer.status_code == expected, (operation.path, answer.text)
        assert "Traceback" not in server.log_text()


# -- what Schemathesis found, each pinned by a regression test ---------------------------------


def test_success_schemas_are_the_documented_json_not_a_string() -> None:
    """Found: every 200 was documented ``{"$ref": …, "type": "string"}`` (JSONBody was not a
    JSONResponse, so FastAPI added ``"type": "string"``) and no JSON answer matched it."""
    spec = create_app("memory://", secret=SECRET).openapi()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                for content in answer.get("content", {}).values():
                    documented = content.get("schema", {})
                    assert not ("$ref" in documented and "type" in documented), (
                        method,
                        path,
                        status,
                        content,
                    )


def test_validation_errors_are_documented_as_the_400_they_are() -> None:
    """Found: FastAPI documented a 422 ``HTTPValidationError`` on every route with parameters,
    but the app answers the framework's validation errors as 400 with the ``Error`` body."""
    spec = create_app("memory://", secret=SECRET).openapi()
    assert "HTTPValidationError" not in str(spec)
    record = spec["paths"]["/catalog/v2/record/{identifier}"]["get"]["responses"]
    assert record["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                assert "401" in operation["responses"], (method, path)


def test_an_app_over_a_given_service_leaves_it_open_across_restarts() -> None:
    """Found: the app closed a service it was given on its first shutdown, so the next client
    (Schemathesis loads the schema with one, then calls with another) got 500s, "closed"."""
    svc = cq.open_service("memory://")
    svc.catalog.add_records(RECORDS[:2])
    app = create_app(svc, secret=SECRET)
    for _ in range(2):
        with TestClient(app) as client:
            answer = client.post("/catalog/v2/search", json={}, headers=bearer())
            assert answer.status_code == 200, answer.text
    assert svc.search(OWNER, {})["stats"]["recordsReturned"] == 2
    svc.close()
    opened = create_app("memory://", secret=SECRET)
    with TestClient(opened):
        pass
    with pytest.raises(cq.CatalogqlError, match="closed"):
        opened.state.service.search(OWNER, {})


# -- stateful: the OpenAPI links, followed ------------------------------------------------------


ANSWERED: Counter[tuple[str, str, int]] = Counter()
"""What the stateful runs were answered: (method, path template, status) -> how many times."""


class _Authenticated:
    """What both state machines share: a valid token on every call, the checks, a count."""

    def after_call(self, response: Any, case: Any) -> None:
        ANSWERED[(case.method.upper(), case.path, response.status_code)] += 1

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        _without_authorization(case)
        return {"headers": bearer()}

    def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
        # Not negative_data_rejection here: in a sequence Schemathesis 4.32 marks some steps
        # negative whose body is valid (unknown fields, which the search ignores as documented)
        # and reports "Schema-violating request accepted, invalid component: positive test
        # case"; the per-operation test checks negative data on its own.
        checks = [check for check in CHECKS if check is not negative_data_rejection]
        case.validate_response(response, checks=checks, headers=kwargs.get("headers"))


class Workflow(_Authenticated, schema.as_state_machine()):  # type: ignore[misc]
    """Sequences of calls over the whole API following its links (explicit or inferred)."""


class GBDXWorkflow(  # type: ignore[misc]
    _Authenticated, schema.include(path_regex="^/catalog/v2/").as_state_machine()
):
    """Sequences of GBDX calls: a search, then its first record through the link."""


STATEFUL = hypothesis.settings(SETTINGS, max_examples=scaled(15), stateful_step_count=4)


def test_the_gbdx_link_is_followed() -> None:
    """The search's link names the record operation; a record a search found is then got."""
    spec = APP.openapi()
    links = [
        (operation["operationId"], link["operationId"])
        for operations in spec["paths"].values()
        for operation in operations.values()
        for answer in operation["responses"].values()
        for link in answer.get("links", {}).values()
    ]
    assert ("gbdxSearch", "gbdxRecord") in links
    ANSWERED.clear()
    GBDXWorkflow.run(settings=STATEFUL)
    # a record found by a search was got through the link (the ids are not drawn at random)
    assert ANSWERED[("GET", "/catalog/v2/record/{identifier}", 200)] > 0, ANSWERED


def test_sequences_over_the_whole_api_answer_as_documented() -> None:
    """Sequences of calls over every operation, linked where the schema links them."""
    ANSWERED.clear()
    Workflow.run(settings=STATEFUL)
    assert sum(ANSWERED.values()) > 0


NULLABLE = {
    "/metadata/v1/batch/images": ("BatchImagesRequest", {"ids": ["nope:x"]}),
    "/metadata/v1/products/search": ("ProductsSearchRequest", {}),
    "/metadata/v1/bands/search": ("BandsSearchRequest", {"products": ["nope"]}),
    "/metadata/v1/bands/derived/search": ("DerivedBandsSearchRequest", {}),
}


@pytest.mark.parametrize("path", sorted(NULLABLE))
def test_a_null_optional_field_is_documented_as_the_field_left_out(path: str) -> None:
    """Found: these Metadata bodies answered 200 to a null optional field (``fields``, ``tags``,
    ``offset``, ``continuation_token``...) that their schemas said would be refused."""
    import jsonschema_rs

    name, required = NULLABLE[path]
    documented = APP.openapi()["components"]["schemas"][name]
    body = {**dict.fromkeys(documented["properties"]), **required}
    assert jsonschema_rs.validator_for(documented).is_valid(body)
    with TestClient(APP) as client:
        answer = client.post(path, json=body, headers=bearer())
    assert answer.status_code == 200, answer.text
