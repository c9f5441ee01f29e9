"""Property-based fuzz of the service's API from its own OpenAPI document: whatever a
client sends to any route (odd ids, odd queries, any JSON or none), the answer is never
a 5xx, and every error is JSON with a code and a message."""

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

API = "/services/labdeck/api/v1"
QUERY_NAMES = ("user", "kind", "from", "size", "since", "until", "format", "group", "files")

ids = st.one_of(
    st.text(min_size=1, max_size=24),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from(["²", "١٢", "0" * 30, "c-00000000", "..", "%", "1e3", " 1"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def fuzzer(labdeck):
    name = "fuzzer"
    token = labdeck.create_user(name)
    # nothing the fuzz sends may start a cluster
    labdeck.set_quota(name, {"spark": {"clusters": 0}})
    # nor a job (a command needs no file to exist)
    labdeck.set_quota(name, {"jobs": {"concurrent": 0}})
    document = labdeck.request("GET", f"{API}/openapi.json", token=token).json()
    operations = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    return token, operations


def body_for(operation: dict):
    """Bodies shaped like the documented one (to reach the validators), or anything."""
    schema = (
        operation.get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
    )
    fields = list(schema.get("properties", {}))
    shaped = st.dictionaries(st.sampled_from(fields), json_values, max_size=5) if fields else None
    choices = [json_values, st.binary(max_size=40)]
    return st.one_of(shaped, *choices) if shaped is not None else st.one_of(*choices)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_request_gets_a_server_error(labdeck, fuzzer, data):
    token, operations = fuzzer
    path, method, operation = data.draw(st.sampled_from(operations), label="operation")
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        value = data.draw(ids, label=name)
        # "." and ".." as themselves would be dot segments, which clients resolve before
        # sending (the request would leave the API); encoded, they reach the route
        segment = value.replace(".", "%2E") if value in (".", "..") else quote(value, safe="")
        path = path.replace("{" + name + "}", segment)
    query = data.draw(
        st.dictionaries(st.sampled_from(QUERY_NAMES), st.text(max_size=20), max_size=3),
        label="query",
    )
    body = data.draw(body_for(operation), label="body") if method in ("post", "put") else None
    raw = body if isinstance(body, bytes) else None if body is None else json.dumps(body)
    caller = "admin" if path.startswith("/admin/") else token
    response = labdeck.request(
        method.upper(),
        API + path,
        token=caller,
        params=query,
        data=raw,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code < 500, (method, path, query, raw, response.text)
    if response.status_code >= 400:
        error = response.json()
        # Livy's routes also say it as Livy does (`msg`), for Livy's clients
        livy = "/livy/" in path
        assert {"error", "message"} <= set(error) <= {"error", "message", "msg"}, error
        assert livy or "msg" not in error, error
        assert error["message"] and error.get("msg", error["message"]) == error["message"]
