"""Bad input anywhere gets a 4xx JSON error and changes nothing: huge numbers, deep
nesting, ids that only look like numbers, values out of range."""

import pytest
from spark_support import create_cluster

API = "/services/labdeck/api/v1"
HUGE = "9" * 5000  # more digits than Python parses by default


@pytest.mark.parametrize(
    "method,path,body,status",
    [
        ("POST", "/clusters", '{"name": "x", "workers": ' + HUGE + "}", 400),
        ("POST", "/clusters", "[" * 100_000 + "]" * 100_000, 400),
        ("POST", "/clusters", '{"name": "x", "worker_memory": "' + HUGE + 'm"}', 400),
        ("POST", "/clusters", '{"name": "x", "workers": 100000000000000000000}', 400),
        ("POST", "/clusters", '{"name": "x", "worker_cores": 4096}', 400),
        ("GET", "/sessions/%C2%B2", None, 404),
        ("GET", "/sessions/123456789012345678901234567890", None, 404),
        ("GET", "/ledger?kind=notebooks", None, 400),
    ],
)
def test_bad_input_is_a_json_4xx_and_changes_nothing(labdeck, new_user, method, path, body, status):
    _, token = new_user("fuzzy")
    response = labdeck.request(
        method,
        API + path,
        token=token,
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error", "message"}
    assert labdeck.service("GET", "/clusters", token=token).json() == []


def test_quota_values_beyond_any_limit_are_refused(labdeck, new_user):
    name, _ = new_user("bigquota")
    before = labdeck.service("GET", f"/admin/users/{name}/quota").json()
    response = labdeck.service(
        "PUT", f"/admin/users/{name}/quota", json={"cpu": {"daily_seconds": 10**30}}
    )
    assert response.status_code == 400
    assert "at most" in response.json()["message"]
    assert labdeck.service("GET", f"/admin/users/{name}/quota").json() == before


def test_livy_ids_and_numbers_out_of_range(labdeck, new_user):
    _, token = new_user("livyfuzz")
    cluster = create_cluster(labdeck, token, "fuzz")  # still starting is enough here
    base = f"/clusters/{cluster['id']}/livy/sessions"
    for path in (f"{base}/%C2%B2", f"{base}/{'1' * 30}", f"{base}/1/statements/%C2%B2"):
        response = labdeck.service("GET", path, token=token)
        assert response.status_code == 404, path
    response = labdeck.service(
        "POST", base, token=token, json={"kind": "pyspark", "heartbeatTimeoutInSecond": 2**70}
    )
    assert response.status_code == 400
    assert "heartbeatTimeoutInSecond" in response.json()["message"]
    for body, words in [
        ({"driverMemory": "lots"}, "'driverMemory' must look like"),
        ({"driverMemory": "64g"}, "'driverMemory' must be at most 8192m"),
        ({"executorMemory": "8g"}, "'executorMemory' must be at most 512m"),
        ({"executorCores": 4}, "'executorCores' must be at most 1"),
        ({"conf": {"spark.master": "local[*]"}}, "cannot be set here: spark.master"),
        ({"conf": {"spark.authenticate": "false"}}, "cannot be set here"),
    ]:
        response = labdeck.service("POST", base, token=token, json={"kind": "pyspark", **body})
        # input is checked before the cluster's state
        assert response.status_code == 400, body
        assert words in response.json()["message"], response.json()
    assert labdeck.service("GET", base, token=token).json()["total"] == 0
    labdeck.service("DELETE", f"/clusters/{cluster['id']}", token=token)
