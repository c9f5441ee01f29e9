"""Model deployments with real model servers behind the real hub and service: both model
formats, who may call an endpoint, concurrency and size limits, failures with the
model's own error, updates without a failed request, serverless to zero and back,
deletion, a service restart, and bad requests."""

import os
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import joblib
import numpy as np
import pytest
import tritonclient.http as triton
from jobs_support import account, home, write_file
from labdeck.deployments import deploy, deployments
from labdeck.widgets.client import LabdeckClient, LabdeckError
from labdeck_process import wait_for
from sklearn.linear_model import LogisticRegression
from tritonclient.utils import InferenceServerException

# a model that says who runs it; its answer adds the request's numbers
ECHO_MODEL = """
import os, time

def model_fn(model_dir):
    return {"version": open(os.path.join(model_dir, "version.txt")).read().strip()}

def predict_fn(data, model):
    if "mark" in data:  # says it is running, in the owner's home
        open(os.path.join(os.environ["HOME"], data["mark"]), "w").close()
    time.sleep(data.get("sleep", 0))
    return {"sum": sum(data.get("values", [])), "uid": os.getuid(), **model}
"""
BROKEN_MODEL = """
def model_fn(model_dir):
    raise ValueError("the weights file is missing")

def predict_fn(data, model):
    return data
"""


def model_folder(labdeck, name, folder, version="1", code=ECHO_MODEL) -> str:
    write_file(labdeck, name, f"{folder}/inference.py", code)
    write_file(labdeck, name, f"{folder}/version.txt", version)
    return folder


def create(labdeck, token, **body) -> dict:
    return labdeck.service_json("POST", "/deployments", token, 201, json=body)


def get(labdeck, token, name) -> dict:
    return labdeck.service_json("GET", f"/deployments/{name}", token)


def wait_state(labdeck, token, name, states=("IN_SERVICE", "FAILED"), timeout=60) -> dict:
    def reached():
        found = get(labdeck, token, name)
        return found if found["state"] in states else None

    return wait_for(reached, timeout, 0.1, f"{name} to be {states}")


def invoke(labdeck, user, name, body, token="admin", headers=None, timeout=60):
    """POST invocations with a hub token (None: without, for a key in headers); the raw
    response."""
    return labdeck.service(
        "POST",
        f"/endpoints/{user}/{name}/invocations",
        token=token,
        json=body,
        headers=headers or {},
        timeout=timeout,
    )


def model_servers(model_dir: Path) -> set[int]:
    """Model server processes serving a folder (read from their environment)."""
    found = set()
    marker = str(model_dir).encode()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                environ = Path(f"/proc/{entry}/environ").read_bytes()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"labdeck.deployments.server" in cmdline and marker in environ:
                found.add(int(entry))
    return found


def test_an_inference_model_serves_as_its_owner_until_deleted(labdeck, owner):
    name, token = owner
    model_folder(labdeck, name, "models/echo")
    created = create(labdeck, token, name="echo", model_dir="models/echo", replicas=2)
    assert created["state"] == "CREATING"
    assert created["endpoint"]["invocations"].endswith(f"/endpoints/{name}/echo/invocations")
    served = wait_state(labdeck, token, "echo")
    assert served["state"] == "IN_SERVICE", served
    assert served["replicas_running"] == 2 and served["spec"]["model_format"] == "inference"

    answer = invoke(labdeck, name, "echo", {"values": [1, 2, 3.5]}, token=token)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"sum": 6.5, "uid": account(name).pw_uid, "version": "1"}
    assert "X-Model-Latency-Ms" not in answer.headers
    folder = home(labdeck, name) / "models" / "echo"
    pids = model_servers(folder)
    assert len(pids) == 2
    for pid in pids:  # the owner's account, listening on loopback only
        assert os.stat(f"/proc/{pid}").st_uid == account(name).pw_uid
    (entry,) = [
        e
        for e in labdeck.service("GET", f"/ledger?user={name}&kind=deployment").json()
        if e["ended"] is None
    ]
    assert entry["cores"] == 2 and entry["resource_id"] == served["id"]

    points = labdeck.service("GET", "/deployments/echo/metrics", token=token).json()["points"]
    assert sum(p["invocations"] for p in points) == 1
    for since in ("nan", "inf", "x"):
        bad = labdeck.service("GET", f"/deployments/echo/metrics?since={since}", token=token)
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_since", since

    deleted = labdeck.service("DELETE", "/deployments/echo", token=token)
    assert deleted.status_code == 204
    assert invoke(labdeck, name, "echo", {"values": [1]}, token=token).status_code == 404
    assert model_servers(folder) == set()
    assert labdeck.service("GET", "/deployments/echo", token=token).status_code == 404
    ended = labdeck.service("GET", f"/ledger?user={name}&kind=deployment").json()
    assert all(e["ended"] is not None for e in ended)


def test_a_scikit_learn_model_serves_predictions(labdeck, owner):
    name, token = owner
    folder = write_file(labdeck, name, "models/iris/README", "a classifier").parent
    model = LogisticRegression().fit([[0, 0], [0, 1], [5, 5], [6, 5]], [0, 0, 1, 1])
    joblib.dump(model, folder / "model.joblib")
    os.chown(folder / "model.joblib", account(name).pw_uid, account(name).pw_gid)
    create(labdeck, token, name="iris", model_dir="models/iris")
    assert wait_state(labdeck, token, "iris")["spec"]["model_format"] == "sklearn"
    answer = invoke(labdeck, name, "iris", {"instances": [[0, 0], [6, 6]]}, token=token)
    assert answer.status_code == 200, answer.text
    assert answer.json() == [0, 1]

    # the Open Inference Protocol, with Triton's own HTTP client (binary tensors)
    base = labdeck.url.removeprefix("http://") + f"/services/labdeck/api/v1/endpoints/{name}/iris"
    client = triton.InferenceServerClient(base)
    assert client.is_server_ready(headers={"Authorization": f"token {token}"})
    metadata = client.get_model_metadata("iris", headers={"Authorization": f"token {token}"})
    assert metadata["name"] == "iris"
    tensor = triton.InferInput("input-0", [2, 2], "FP32")
    tensor.set_data_from_numpy(np.array([[0, 0], [6, 6]], dtype=np.float32))
    result = client.infer("iris", [tensor], headers={"Authorization": f"token {token}"})
    assert result.as_numpy(result.get_response()["outputs"][0]["name"]).tolist() == [0, 1]
    with pytest.raises(InferenceServerException):  # and not without a token
        client.infer("iris", [tensor], headers={})
    labdeck.service("DELETE", "/deployments/iris", token=token)


def test_who_may_call_an_endpoint(labdeck, owner, new_user):
    name, token = owner
    _, other_token = new_user("caller")
    model_folder(labdeck, name, "models/access")
    create(labdeck, token, name="access", model_dir="models/access")
    wait_state(labdeck, token, "access")
    body = {"values": [1]}

    # private: its owner and admins; anyone else sees no such endpoint
    assert invoke(labdeck, name, "access", body, token=token).status_code == 200
    assert invoke(labdeck, name, "access", body).status_code == 200  # the admin token
    assert invoke(labdeck, name, "access", body, token=other_token).status_code == 404
    assert invoke(labdeck, name, "access", body, token=None).status_code == 401
    assert labdeck.service("GET", "/deployments/access", token=other_token).status_code == 404

    # hub: every logged-in hub user, still nobody without a token
    updated = labdeck.service("PUT", "/deployments/access", token=token, json={"access": "hub"})
    assert updated.status_code == 200 and "key" not in updated.json()
    wait_for(lambda: get(labdeck, token, "access")["spec"]["access"] == "hub", 30, 0.1)
    assert invoke(labdeck, name, "access", body, token=other_token).status_code == 200
    assert invoke(labdeck, name, "access", body, token=None).status_code == 401

    # key: its holder, without any hub account; a new key replaces the old one
    keyed = labdeck.service("PUT", "/deployments/access", token=token, json={"access": "key"})
    key = keyed.json()["key"]
    wait_for(lambda: get(labdeck, token, "access")["spec"]["access"] == "key", 30, 0.1)
    with_key = {"Authorization": f"Bearer {key}"}
    assert invoke(labdeck, name, "access", body, token=None, headers=with_key).status_code == 200
    assert invoke(labdeck, name, "access", body, token=other_token).status_code == 404
    wrong = invoke(
        labdeck, name, "access", body, token=None, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401
    new_key = labdeck.service("POST", "/deployments/access/key", token=token).json()["key"]
    assert invoke(labdeck, name, "access", body, token=None, headers=with_key).status_code == 401
    fresh = {"Authorization": f"Bearer {new_key}"}
    assert invoke(labdeck, name, "access", body, token=None, headers=fresh).status_code == 200
    assert "key" not in get(labdeck, token, "access")  # shown once only
    labdeck.service("DELETE", "/deployments/access", token=token)
    assert invoke(labdeck, name, "access", body, token=None, headers=fresh).status_code == 401


def test_concurrency_and_size_limits(labdeck, owner):
    name, token = owner
    model_folder(labdeck, name, "models/slow")
    create(labdeck, token, name="slow", model_dir="models/slow", max_concurrency=1)
    wait_state(labdeck, token, "slow")
    marker = home(labdeck, name) / "slow-started"

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(
            invoke, labdeck, name, "slow", {"sleep": 2, "mark": marker.name}, token=token
        )
        wait_for(marker.exists, 10, 0.02, "the slow call to run")
        busy = invoke(labdeck, name, "slow", {}, token=token)
        assert busy.status_code == 429
        assert busy.headers["Retry-After"] == "1"
        assert busy.json()["error"] == "too_many_requests"
        assert first.result().status_code == 200
    assert invoke(labdeck, name, "slow", {}, token=token).status_code == 200  # free again
    big = labdeck.service(
        "POST",
        f"/endpoints/{name}/slow/invocations",
        token=token,
        data=b"[" + b"1," * (3 * 2**20) + b"1]",
        headers={"Content-Type": "application/json"},
    )
    assert big.status_code == 413 and big.json()["error"] == "request_too_large"
    labdeck.service("DELETE", "/deployments/slow", token=token)


def test_a_model_that_cannot_load_fails_with_its_error(labdeck, owner):
    name, token = owner
    model_folder(labdeck, name, "models/broken", code=BROKEN_MODEL)
    create(labdeck, token, name="broken", model_dir="models/broken")
    failed = wait_state(labdeck, token, "broken")
    assert failed["state"] == "FAILED"
    assert "ValueError" in failed["state_reason"]
    assert "the weights file is missing" in failed["state_reason"]
    answer = invoke(labdeck, name, "broken", {}, token=token)
    assert answer.status_code == 503 and answer.json()["error"] == "not_in_service"
    assert model_servers(home(labdeck, name) / "models" / "broken") == set()
    assert labdeck.service("DELETE", "/deployments/broken", token=token).status_code == 204


def test_an_update_swaps_the_model_without_a_failed_request(labdeck, owner):
    name, token = owner
    model_folder(labdeck, name, "models/v1", version="1")
    model_folder(labdeck, name, "models/v2", version="2")
    create(labdeck, token, name="swap", model_dir="models/v1")
    wait_state(labdeck, token, "swap")
    answers: list = []
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            response = invoke(labdeck, name, "swap", {"values": [1]}, token=token)
            answers.append((response.status_code, response.json().get("version")))

    worker = threading.Thread(target=hammer)
    worker.start()
    try:
        wait_for(lambda: len(answers) >= 5, 20, 0.05, "answers from v1")
        updated = labdeck.service(
            "PUT", "/deployments/swap", token=token, json={"model_dir": "models/v2", "replicas": 2}
        )
        assert updated.status_code == 200, updated.text
        assert updated.json()["state"] == "UPDATING"
        wait_for(lambda: get(labdeck, token, "swap")["state"] == "IN_SERVICE", 60, 0.1)
        wait_for(lambda: answers[-1][1] == "2", 20, 0.05, "answers from v2")
    finally:
        stop.set()
        worker.join()
    assert {status for status, _ in answers} == {200}
    versions = [version for _, version in answers]
    assert versions[0] == "1" and versions[-1] == "2"
    assert get(labdeck, token, "swap")["replicas_running"] == 2
    assert len(model_servers(home(labdeck, name) / "models" / "v1")) == 0
    labdeck.service("DELETE", "/deployments/swap", token=token)


def test_serverless_scales_to_zero_and_the_next_request_waits_for_it(labdeck, owner):
    name, token = owner
    model_folder(labdeck, name, "models/lazy")
    created = create(
        labdeck,
        token,
        name="lazy",
        model_dir="models/lazy",
        mode="serverless",
        idle_seconds_to_zero=10,
    )
    wait_state(labdeck, token, "lazy")
    assert invoke(labdeck, name, "lazy", {"values": [2]}, token=token).status_code == 200
    folder = home(labdeck, name) / "models" / "lazy"
    wait_for(lambda: get(labdeck, token, "lazy")["replicas_running"] == 0, 30, 0.2, "scale to zero")
    wait_for(lambda: model_servers(folder) == set(), 30, 0.1, "its replica to stop")
    assert get(labdeck, token, "lazy")["state"] == "IN_SERVICE"

    # at zero nothing runs, so nothing is counted (its entry ends once the replica has)
    def counted() -> list:
        entries = labdeck.service("GET", f"/ledger?user={name}&kind=deployment").json()
        return [e for e in entries if e["resource_id"] == created["id"] and not e["ended"]]

    wait_for(lambda: counted() == [], 10, 0.1, "its ledger entry to end")

    started = time.monotonic()
    answer = invoke(labdeck, name, "lazy", {"values": [2, 3]}, token=token)
    assert answer.status_code == 200 and answer.json()["sum"] == 5
    assert time.monotonic() - started < 30
    assert get(labdeck, token, "lazy")["replicas_running"] == 1
    points = labdeck.service("GET", "/deployments/lazy/metrics", token=token).json()["points"]
    assert sum(p["cold_starts"] for p in points) == 1
    assert sum(p["invocations"] for p in points) == 2
    labdeck.service("DELETE", "/deployments/lazy", token=token)


def test_a_service_restart_keeps_endpoints_serving(labdeck, owner):
    name, token = owner
    model_folder(labdeck, name, "models/kept")
    create(labdeck, token, name="kept", model_dir="models/kept")
    wait_state(labdeck, token, "kept")
    pids = model_servers(home(labdeck, name) / "models" / "kept")
    labdeck.crash_service()
    assert get(labdeck, token, "kept")["state"] == "IN_SERVICE"
    answer = invoke(labdeck, name, "kept", {"values": [4]}, token=token)
    assert answer.status_code == 200 and answer.json()["sum"] == 4
    assert model_servers(home(labdeck, name) / "models" / "kept") == pids  # the same ones
    labdeck.service("DELETE", "/deployments/kept", token=token)


def test_bad_requests_are_400_and_start_nothing(labdeck, owner, tmp_path):
    name, token = owner
    model_folder(labdeck, name, "models/good")
    write_file(labdeck, name, "models/empty/readme.txt", "nothing here")
    outside = tmp_path / "model"
    outside.mkdir()
    (outside / "inference.py").write_text(ECHO_MODEL)
    bad = [
        {},
        {"name": "good"},
        {"name": "Bad Name", "model_dir": "models/good"},
        {"name": "-x", "model_dir": "models/good"},
        {"name": "x" * 64, "model_dir": "models/good"},
        {"name": "good", "model_dir": "models/missing"},
        {"name": "good", "model_dir": "models/empty"},
        {"name": "good", "model_dir": "../../etc"},
        {"name": "good", "model_dir": str(outside)},
        {"name": "good", "model_dir": "models/good", "mode": "batch"},
        {"name": "good", "model_dir": "models/good", "replicas": 0},
        {"name": "good", "model_dir": "models/good", "replicas": "2"},
        {"name": "good", "model_dir": "models/good", "max_concurrency": 201},
        {"name": "good", "model_dir": "models/good", "memory_mb": 10},
        {"name": "good", "model_dir": "models/good", "access": "public"},
        {"name": "good", "model_dir": "models/good", "idle_seconds_to_zero": 60},
        {"name": "good", "model_dir": "models/good", "unknown": 1},
    ]
    for body in bad:
        response = labdeck.service("POST", "/deployments", token=token, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"] in ("invalid_deployment", "invalid_json"), body
        assert response.json()["message"]
    assert labdeck.service("GET", "/deployments", token=token).json() == []
    assert model_servers(home(labdeck, name) / "models" / "good") == set()


def test_the_python_client_deploys_calls_and_deletes(labdeck, owner):
    name, token = owner
    client = LabdeckClient(labdeck.url + "/services/labdeck/", token)
    model_folder(labdeck, name, "models/from_py")
    endpoint = deploy("models/from_py", client=client, access="key")
    assert endpoint.name == "from-py" and endpoint.key
    assert endpoint.wait(timeout=60).state == "IN_SERVICE"
    assert endpoint.invoke({"values": [1, 2]})["sum"] == 3
    # the key alone calls it, as curl from outside the hub would
    keyed = labdeck.service(
        "POST",
        f"/endpoints/{name}/from-py/invocations",
        token=None,
        json={"values": [5]},
        headers={"Authorization": f"Bearer {endpoint.key}"},
    )
    assert keyed.json()["sum"] == 5
    frame = endpoint.metrics()
    assert int(frame["invocations"].sum()) == 2
    assert [d.name for d in deployments(client)] == ["from-py"]
    with pytest.raises(LabdeckError) as refused:
        deploy("models/from_py", client=client)
    assert refused.value.status == 409 and refused.value.code == "deployment_exists"
    endpoint.delete()
    assert deployments(client) == []


def test_endpoints_come_back_when_labdeck_starts_again(fresh):
    labdeck = fresh()
    keeper = f"keeper{secrets.token_hex(3)}"  # an account of its own (accounts outlive hubs)
    token = labdeck.create_user(keeper)
    labdeck.service("POST", "/jobs", token=token, json={"script": "x.py"})  # makes the home
    model_folder(labdeck, keeper, "models/back")
    created = create(labdeck, token, name="back", model_dir="models/back", access="key")
    wait_state(labdeck, token, "back")
    assert invoke(labdeck, keeper, "back", {"values": [1]}, token=token).status_code == 200
    assert labdeck.stop() == 0
    assert model_servers(home(labdeck, keeper) / "models" / "back") == set()

    again = fresh(state_dir=labdeck.state_dir)
    served = wait_state(again, token, "back")
    assert served["state"] == "IN_SERVICE" and served["id"] == created["id"]
    answer = again.service(
        "POST",
        f"/endpoints/{keeper}/back/invocations",
        token=None,
        json={"values": [7]},
        headers={"Authorization": f"Bearer {created['key']}"},  # the same key
    )
    assert answer.status_code == 200 and answer.json()["sum"] == 7
    entries = again.service("GET", f"/ledger?user={keeper}&kind=deployment").json()
    assert [e["end_reason"] for e in entries if e["ended"]] == ["hub_shutdown"]
    # the metrics from before the restart are still there
    points = again.service("GET", "/deployments/back/metrics", token=token).json()["points"]
    assert sum(p["invocations"] for p in points) == 2


def test_the_recommender_load_tests_candidates_and_recommends_one(labdeck, owner):
    name, token = owner
    model_folder(labdeck, name, "models/tuned")
    create(labdeck, token, name="tuned", model_dir="models/tuned")
    wait_state(labdeck, token, "tuned")
    path = "/deployments/tuned/recommendations"
    assert labdeck.service("GET", path, token=token).status_code == 404
    for bad in (
        {},
        {"payload": {}, "candidates": []},
        {"payload": {}, "candidates": [{"replicas": 99}]},
        {"payload": {}, "duration_seconds": 0},
        {"payload": {}, "latency_target_ms": -1},
        {"payload": {}, "extra": 1},
    ):
        refused = labdeck.service("POST", path, token=token, json=bad)
        assert refused.status_code == 400, (bad, refused.text)
        assert refused.json()["error"] == "invalid_recommendation"

    body = {
        "payload": {"values": [1, 2]},
        "duration_seconds": 2,
        "clients": 4,
        "candidates": [{"replicas": 1}, {"replicas": 2}],
        "latency_target_ms": 10_000,
    }
    started = labdeck.service("POST", path, token=token, json=body)
    assert started.status_code == 202 and started.json()["state"] == "RUNNING"
    again = labdeck.service("POST", path, token=token, json=body)
    assert again.status_code == 409 and again.json()["error"] == "recommending"
    # the endpoint serves meanwhile
    assert invoke(labdeck, name, "tuned", {"values": [3]}, token=token).json()["sum"] == 3

    def done():
        run = labdeck.service("GET", path, token=token).json()
        return run if run["state"] != "RUNNING" else None

    run = wait_for(done, 90, 0.2, "the recommendation")
    assert run["state"] == "COMPLETED", run
    assert [(r["replicas"], r["workers"]) for r in run["results"]] == [(1, 1), (2, 1)]
    for row in run["results"]:
        assert row["requests"] > 0 and row["errors"] == 0
        assert row["throughput_rps"] > 0 and 0 < row["p50_ms"] <= row["p99_ms"]
        assert row["memory_bytes"] > 10 * 2**20  # a model server's Python, at least
    # a generous target: the cheapest (one replica) meets it
    assert run["recommended"] == run["results"][0]
    # its trial replicas are gone; the endpoint's own one is still there
    assert len(model_servers(home(labdeck, name) / "models" / "tuned")) == 1
    labdeck.service("DELETE", "/deployments/tuned", token=token)


def test_the_quota_limits_deployments_and_their_replica_time(labdeck, owner):
    name, token = owner
    model_folder(labdeck, name, "models/q")
    labdeck.set_quota(name, {"deployments": {"concurrent": 1, "replica_seconds_daily": 3600}})
    create(labdeck, token, name="first", model_dir="models/q", replicas=2)
    refused = labdeck.service(
        "POST", "/deployments", token=token, json={"name": "second", "model_dir": "models/q"}
    )
    assert refused.status_code == 403 and refused.json()["error"] == "deployments_limit"
    wait_state(labdeck, token, "first")
    me = labdeck.service("GET", "/me", token=token).json()["resources"]["deployments"]
    assert me["in_use"]["concurrent"] == 1

    # two replicas spend replica time twice as fast; taking the time away stops it now
    labdeck.set_quota(name, {"deployments": {"replica_seconds_daily": 1}})
    stopped = wait_state(labdeck, token, "first", states=("STOPPED",), timeout=30)
    assert stopped["state_reason"].startswith("Endpoint replica time used up for today")
    assert invoke(labdeck, name, "first", {}, token=token).status_code == 503
    assert model_servers(home(labdeck, name) / "models" / "q") == set()
    again = labdeck.service(
        "POST", "/deployments", token=token, json={"name": "third", "model_dir": "models/q"}
    )
    assert again.status_code == 403 and again.json()["error"] == "quota_exceeded"
    labdeck.service("DELETE", "/deployments/first", token=token)


def test_other_users_get_404_on_every_deployment_endpoint(labdeck, owner, new_user):
    name, token = owner
    _, other_token = new_user("stranger")
    model_folder(labdeck, name, "models/mine")
    create(labdeck, token, name="mine", model_dir="models/mine")
    wait_state(labdeck, token, "mine")
    calls = [
        ("GET", "/deployments/mine", None),
        ("PUT", "/deployments/mine", {"replicas": 2}),
        ("DELETE", "/deployments/mine", None),
        ("POST", "/deployments/mine/key", None),
        ("GET", "/deployments/mine/metrics", None),
        ("GET", "/deployments/mine/recommendations", None),
        ("POST", "/deployments/mine/recommendations", {"payload": {}}),
        # ?user= is for admins: others still mean their own deployments
        ("GET", f"/deployments/mine?user={name}", None),
        ("DELETE", f"/deployments/mine?user={name}", None),
    ]
    for method, path, body in calls:
        response = labdeck.service(method, path, token=other_token, json=body)
        assert response.status_code == 404, (method, path, response.text)
    assert labdeck.service("GET", "/deployments", token=other_token).json() == []
    # nothing changed: still one replica, serving its owner
    served = get(labdeck, token, "mine")
    assert served["state"] == "IN_SERVICE" and served["spec"]["replicas"] == 1
    assert invoke(labdeck, name, "mine", {"values": [1]}, token=token).status_code == 200
    # an admin sees and manages it with ?user=
    assert labdeck.service_json("GET", f"/deployments/mine?user={name}")["user"] == name
    assert labdeck.service("DELETE", f"/deployments/mine?user={name}").status_code == 204
