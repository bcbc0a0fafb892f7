"""The OpenAPI document covers every route the app serves, from the validating Structs."""

from __future__ import annotations

import re

from starlette.routing import Route
from starlette.testclient import TestClient


def _served(client: TestClient) -> set[tuple[str, str]]:
    app = client.app
    assert hasattr(app, "routes")
    found = set()
    for route in app.routes:
        if isinstance(route, Route) and route.path != "/openapi.json":
            path = re.sub(r"\{(\w+):path\}", r"{\1}", route.path)
            found |= {(method.lower(), path) for method in route.methods or () if method != "HEAD"}
    return found


def test_every_served_route_is_documented_and_nothing_else(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert documented == _served(client)


def test_schemas_are_the_contract_types(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    status = schemas["ModelStatus"]
    assert {"model_id", "status", "health_check", "performance_metrics"} <= set(status["required"])
    assert set(status["properties"]["status"]["enum"]) == {
        "not_loaded",
        "loading",
        "loaded",
        "error",
        "unloading",
    }
    load = document["paths"]["/api/models/{model_id}/load"]["post"]
    assert load["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LoadModelRequest"
    }
    assert "202" in load["responses"]
    assert schemas["ErrorBody"]["required"] == ["error"]
