"""Livy batches on a real cluster, driven by an independent Livy client from PyPI
(`livy`): spark-submit of a file of the owner's home, run as their account as a
training job (in the jobs list and the ledger), its states and log as Livy's, kill,
paging, who may see it, bad requests, the cluster's secret kept off command lines and
logs, a service crash, and the end of the cluster.

One small cluster (1 worker, 1 core) serves the module; the last test terminates it."""

import json
import sqlite3
from pathlib import Path

import pytest
import requests
from jobs_support import account, home, write_file
from labdeck_process import SERVICE_API, wait_for
from livy import LivyBatch
from livy.client import LivyClient
from livy.models import SESSION_STATE_FINISHED, SessionState
from spark_support import create_cluster, processes_named, wait_state

SUM = """
import os, sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
total = spark.range(1, 101).selectExpr("sum(id)").first()[0]
with open(sys.argv[1], "w") as f:
    f.write(f"{os.getuid()} {total}")
spark.stop()
"""
# runs a Spark job, then waits for the test to create the file named by its argument
GATED = """
import os, sys, time
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
print("counted", spark.range(10).count(), flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.1)
spark.stop()
"""
FAILING = 'print("about to fail", flush=True)\nraise ValueError("the batch went wrong")\n'
HELLO = 'for n in range(5):\n    print("hello from a batch", n)\n'


@pytest.fixture(scope="module")
def owner(labdeck):
    name = "batchowner"
    token = labdeck.create_user(name)
    # a first request makes the account and its home
    response = labdeck.service("POST", "/jobs", token=token, json={"script": "missing.py"})
    assert response.status_code == 400, response.text
    return name, token


@pytest.fixture(scope="module")
def running(labdeck, owner):
    _, token = owner
    cluster = wait_state(labdeck, token, create_cluster(labdeck, token, "batches")["id"])
    yield cluster
    labdeck.service("DELETE", f"/clusters/{cluster['id']}", token=token)


def livy_url(labdeck, cluster) -> str:
    return f"{labdeck.url}{SERVICE_API}/clusters/{cluster['id']}/livy"


def client_session(token) -> requests.Session:
    """What a Livy client sends: its requests with the user's hub token."""
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    return session


def base(cluster) -> str:
    return f"/clusters/{cluster['id']}/livy/batches"


def batch_json(labdeck, token, cluster, batch_id) -> dict:
    return labdeck.service_json("GET", f"{base(cluster)}/{batch_id}", token)


def wait_batch(labdeck, token, cluster, batch_id, states, timeout=120) -> dict:
    def reached():
        batch = batch_json(labdeck, token, cluster, batch_id)
        if batch["state"] in ("dead", "killed", "success") and batch["state"] not in states:
            raise AssertionError(f"batch {batch_id} ended {batch['state']}: {batch['log']}")
        return batch if batch["state"] in states else None

    return wait_for(reached, timeout, 0.3, f"batch {batch_id} to be {states}")


def finished(batch: LivyBatch, timeout=120) -> SessionState:
    """The client's own view of the batch, polled until it has finished."""
    return wait_for(
        lambda: (state := batch.state) in SESSION_STATE_FINISHED and state,
        timeout,
        0.3,
        f"batch {batch.batch_id} to finish",
    )


def cluster_secret(labdeck, cluster) -> bytes:
    database = sqlite3.connect(labdeck.state_dir / "service" / "labdeck.sqlite")
    (state,) = database.execute(
        "SELECT backend_state FROM resources WHERE id = ?", (cluster["id"],)
    ).fetchone()
    database.close()
    return json.loads(state)["secret"].encode()


def command_lines_with(text: bytes) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def jobs_of(labdeck, token) -> dict[str, dict]:
    return {j["id"]: j for j in labdeck.service_json("GET", "/jobs", token)}


def test_a_python_batch_succeeds_as_its_owner_and_is_their_job(labdeck, owner, running):
    name, token = owner
    write_file(labdeck, name, "batches/sum.py", SUM)
    batch = LivyBatch.create(
        livy_url(labdeck, running),
        "batches/sum.py",
        requests_session=client_session(token),
        args=["sum.out"],  # in the home, the account's own folder
        name="sum",
    )
    assert finished(batch) == SessionState.SUCCESS, "\n".join(batch.log())
    # the script ran as the owner's account, and Spark computed its sum
    out = home(labdeck, name) / "sum.out"
    uid = account(name).pw_uid
    assert out.read_text() == f"{uid} 5050" and out.stat().st_uid == uid

    info = batch_json(labdeck, token, running, batch.batch_id)
    assert (info["id"], info["name"], info["owner"], info["proxyUser"]) == (
        batch.batch_id,
        "sum",
        name,
        name,
    )
    assert info["appId"].startswith("app-")
    livy = f"{SERVICE_API}/clusters/{running['id']}/livy"
    assert info["appInfo"]["driverLogUrl"] == f"{livy}/batches/{batch.batch_id}/log"
    ui = f"/services/labdeck/clusters/{running['id']}/ui/proxy/{info['appId']}/"
    assert info["appInfo"]["sparkUiUrl"] == ui
    assert any("Connected to Spark cluster" in line for line in info["log"])

    # it is one of the owner's training jobs, marked as a Spark batch, in the ledger
    job = jobs_of(labdeck, token)[info["jobId"]]
    assert job["state"] == "COMPLETED" and job["type"] == "spark-batch"
    assert job["spark_batch"] == {
        "cluster_id": running["id"],
        "batch_id": batch.batch_id,
        "file": "batches/sum.py",
    }
    entries = labdeck.service_json("GET", f"/ledger?user={name}&kind=job")
    (entry,) = [e for e in entries if e["resource_id"] == job["id"]]
    assert entry["ended"] is not None and entry["profile"] == job["spec"]["profile"]


def test_a_failing_batch_is_dead_with_the_python_error_in_its_log(labdeck, owner, running):
    name, token = owner
    script = write_file(labdeck, name, "batches/fail.py", FAILING)
    batch = LivyBatch.create(
        livy_url(labdeck, running),
        f"local:{script}",  # a local: URL into the home
        requests_session=client_session(token),
    )
    assert finished(batch) == SessionState.DEAD
    log = batch.log()  # Livy's default: the last lines
    assert any("ValueError: the batch went wrong" in line for line in log), log
    assert "about to fail" in "\n".join(log)
    info = batch_json(labdeck, token, running, batch.batch_id)
    job = jobs_of(labdeck, token)[info["jobId"]]
    assert job["state"] == "FAILED" and "exit code 1" in job["state_reason"]
    assert info["log"][-1] == job["state_reason"]


def test_a_deleted_batch_is_killed_and_its_secret_stays_off_command_lines(labdeck, owner, running):
    name, token = owner
    script = write_file(labdeck, name, "batches/gated.py", GATED)
    client = LivyClient(livy_url(labdeck, running), requests_session=client_session(token))
    created = client.create_batch("batches/gated.py", args=["batches/gated.never"])
    info = wait_batch(labdeck, token, running, created.batch_id, ("running",))
    app_id = info["appId"]
    output = home(labdeck, name) / "labdeck" / "jobs" / info["jobId"] / "output.log"
    wait_for(lambda: b"counted 10" in output.read_bytes(), 60, 0.2, "its Spark job to run")
    # its driver (spark-submit, Python) and its executor on the worker
    assert processes_named(str(script)) and processes_named(app_id)
    # its application's own UI, through the master's proxy and labdeck's
    ui = labdeck.request("GET", info["appInfo"]["sparkUiUrl"], token=token)
    assert ui.status_code == 302, ui.text
    jobs_page = labdeck.request("GET", ui.headers["Location"], token=token)
    assert jobs_page.status_code == 200 and "Spark Jobs" in jobs_page.text

    # the cluster's secret: in a 0600 file of the owner's account, on no command line,
    # not in the log
    secret = cluster_secret(labdeck, running)
    properties = (
        labdeck.state_dir / "spark" / running["id"] / "batches" / f"{created.batch_id}.conf"
    )
    stat = properties.stat()
    assert (stat.st_uid, stat.st_mode & 0o777) == (account(name).pw_uid, 0o600)
    assert secret in properties.read_bytes()
    assert command_lines_with(secret) == []
    assert secret not in output.read_bytes()
    runner = labdeck.state_dir / "jobs" / info["jobId"] / "runner.log"
    assert secret not in runner.read_bytes() and secret.decode() not in labdeck.log()

    client.delete_batch(created.batch_id)
    assert client.get_batch(created.batch_id).state == SessionState.KILLED
    job = jobs_of(labdeck, token)[info["jobId"]]
    assert job["state"] == "STOPPED" and "Killed through Livy" in job["state_reason"]
    assert processes_named(str(script)) == set()
    wait_for(lambda: not processes_named(app_id), 30, 0.2, "its executors to end")
    assert not properties.exists()  # it ended: its settings went with it


def test_batches_and_their_logs_are_paged_as_livy_pages_them(labdeck, owner, running):
    name, token = owner
    write_file(labdeck, name, "batches/hello.py", HELLO)
    url = livy_url(labdeck, running)
    made = [
        LivyBatch.create(url, "batches/hello.py", requests_session=client_session(token))
        for _ in range(2)
    ]
    for batch in made:
        assert finished(batch) == SessionState.SUCCESS

    every = labdeck.service_json("GET", base(running), token)
    assert every["from"] == 0 and every["total"] == len(every["sessions"]) >= 2
    assert every["batches"] == every["sessions"]  # Livy's key, and the one its docs name
    ids = [b["id"] for b in every["sessions"]]
    assert ids == sorted(ids) and {b.batch_id for b in made} <= set(ids)
    listed = LivyClient(url, requests_session=client_session(token)).list_batches()
    assert [b.batch_id for b in listed] == ids
    page = labdeck.service_json("GET", f"{base(running)}?from=1&size=1", token)
    assert (page["from"], page["total"]) == (1, every["total"])
    assert [b["id"] for b in page["sessions"]] == ids[1:2]
    assert labdeck.service_json("GET", f"{base(running)}?size=0", token)["sessions"] == []

    log_path = f"{base(running)}/{made[0].batch_id}/log"
    whole = labdeck.service_json("GET", f"{log_path}?from=0&size=100000", token)
    assert any("hello from a batch" in line for line in whole["log"])
    assert whole["total"] == len(whole["log"]) >= 5
    two = labdeck.service_json("GET", f"{log_path}?from=1&size=2", token)
    assert (two["id"], two["from"], two["log"]) == (made[0].batch_id, 1, whole["log"][1:3])
    last = labdeck.service_json("GET", f"{log_path}?size=2", token)  # Livy: the last lines
    assert (last["from"], last["log"]) == (whole["total"] - 2, whole["log"][-2:])
    for bad in ("from=-1", "size=x", "from=1.5"):
        for path in (base(running), log_path):
            response = labdeck.service("GET", f"{path}?{bad}", token=token)
            assert response.status_code == 400 and response.json()["msg"], (path, bad)
    state = labdeck.service_json("GET", f"{base(running)}/{made[0].batch_id}/state", token)
    assert state == {"id": made[0].batch_id, "state": "success"}

    # deleting an ended batch removes it, with its job's record
    job_id = batch_json(labdeck, token, running, made[1].batch_id)["jobId"]
    deleted = labdeck.service_json("DELETE", f"{base(running)}/{made[1].batch_id}", token)
    assert deleted == {"msg": "deleted"}
    assert (
        labdeck.service("GET", f"{base(running)}/{made[1].batch_id}", token=token).status_code
        == 404
    )
    assert job_id not in jobs_of(labdeck, token)


def test_other_users_see_no_batches_and_only_the_owner_submits(labdeck, owner, running, new_user):
    name, token = owner
    _, other = new_user("batchstranger")
    (some, *_) = labdeck.service_json("GET", base(running), token)["sessions"]
    for method, path in [
        ("GET", base(running)),
        ("POST", base(running)),
        ("GET", f"{base(running)}/{some['id']}"),
        ("GET", f"{base(running)}/{some['id']}/state"),
        ("GET", f"{base(running)}/{some['id']}/log"),
        ("DELETE", f"{base(running)}/{some['id']}"),
    ]:
        response = labdeck.service(method, path, token=other, json={"file": "x.py"})
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["msg"] == response.json()["message"]
    # admins see every batch, and submit none on another's cluster
    assert labdeck.service_json("GET", f"{base(running)}/{some['id']}")["owner"] == name
    refused = labdeck.service("POST", base(running), json={"file": "batches/hello.py"})
    assert refused.status_code == 403 and refused.json()["error"] == "owner_only"
    assert labdeck.service("GET", f"{base(running)}/{some['id']}", token=token).status_code == 200


@pytest.mark.parametrize(
    "body,status,words",
    [
        ({}, 400, "'file' is required"),
        ({"file": "batches/hello.txt"}, 400, "must be a .py or .jar file"),
        ({"file": "batches/missing.py"}, 400, "There is no file"),
        ({"file": "../outside.py"}, 400, "must be inside your home folder"),
        ({"file": "/etc/passwd.py"}, 400, "must be inside your home folder"),
        ({"file": "hdfs:///data/job.py"}, 400, "is not a file of your home folder"),
        ({"file": "batches/hello.py", "args": "--fast"}, 400, "'args' must be a list"),
        (
            {"file": "batches/hello.py", "conf": {"spark.sql.shuffle.partitions": [1]}},
            400,
            "string or a number",
        ),
        (
            {"file": "batches/hello.py", "conf": {"spark.master": "local"}},
            400,
            "cannot be set here",
        ),
        (
            {"file": "batches/hello.py", "conf": {"spark.sql.x": "1\nspark.authenticate=false"}},
            400,
            "control characters",
        ),
        ({"file": "batches/hello.py", "conf": "x"}, 400, "'conf' must map"),
        ({"file": "batches/hello.py", "archives": ["a.zip"]}, 400, "'archives' are not supported"),
        (
            {"file": "batches/hello.py", "executorCores": 8},
            400,
            "'executorCores' must be at most 1",
        ),
        (
            {"file": "batches/hello.py", "driverMemory": "lots"},
            400,
            "'driverMemory' must look like",
        ),
        (
            {"file": "batches/hello.py", "numExecutors": "two"},
            400,
            "'numExecutors' must be a whole",
        ),
        ({"file": "batches/hello.py", "className": "Main"}, 400, "main class of a .jar"),
        ({"file": "batches/hello.py", "kind": "pyspark"}, 400, "Unknown field(s): kind"),
        ({"file": "batches/hello.py", "proxyUser": "someone"}, 403, "'proxyUser' may only name"),
    ],
)
def test_bad_batch_requests_are_refused_and_start_nothing(
    labdeck, owner, running, body, status, words
):
    name, token = owner
    write_file(labdeck, name, "batches/hello.py", HELLO)
    write_file(labdeck, name, "batches/hello.txt", HELLO)
    before = labdeck.service_json("GET", base(running), token)["total"]
    jobs = jobs_of(labdeck, token)
    response = labdeck.service("POST", base(running), token=token, json=body)
    assert response.status_code == status, response.text
    error = response.json()
    assert words in error["message"] and error["msg"] == error["message"] and error["error"]
    assert labdeck.service_json("GET", base(running), token)["total"] == before
    assert jobs_of(labdeck, token).keys() == jobs.keys()


def test_a_batch_obeys_the_jobs_quota(labdeck, owner, running):
    name, token = owner
    write_file(labdeck, name, "batches/hello.py", HELLO)
    before = labdeck.service_json("GET", base(running), token)["total"]
    labdeck.set_quota(name, {"jobs": {"concurrent": 0}})
    try:
        response = labdeck.service(
            "POST", base(running), token=token, json={"file": "batches/hello.py"}
        )
    finally:
        labdeck.set_quota(name, {"jobs": {"concurrent": None}})
    assert response.status_code == 403 and response.json()["error"] == "jobs_limit"
    assert labdeck.service_json("GET", base(running), token)["total"] == before


def test_batches_survive_a_service_crash(labdeck, owner, running):
    name, token = owner
    write_file(labdeck, name, "batches/gated.py", GATED)
    gate = home(labdeck, name) / "batches" / "crash.go"
    client = LivyClient(livy_url(labdeck, running), requests_session=client_session(token))
    created = client.create_batch("batches/gated.py", args=["batches/crash.go"])
    info = wait_batch(labdeck, token, running, created.batch_id, ("running",))
    before = labdeck.service_json("GET", base(running), token)["sessions"]

    labdeck.crash_service()
    after = labdeck.service_json("GET", base(running), token)["sessions"]
    # the same batches, ids, states and applications (the running one still runs)
    assert [(b["id"], b["state"], b["appId"]) for b in after] == [
        (b["id"], b["state"], b["appId"]) for b in before
    ]
    gate.write_text("go")
    done = wait_batch(labdeck, token, running, created.batch_id, ("success",))
    assert done["appId"] == info["appId"] and done["jobId"] == info["jobId"]
    assert jobs_of(labdeck, token)[info["jobId"]]["state"] == "COMPLETED"


def test_terminating_the_cluster_stops_its_batches(labdeck, owner, running):
    """Last: it ends the module's cluster."""
    name, token = owner
    script = write_file(labdeck, name, "batches/gated.py", GATED)
    created = labdeck.service_json(
        "POST", base(running), token, 201, json={"file": "batches/gated.py", "args": ["never"]}
    )
    assert created["state"] == "starting" and created["log"] == []
    wait_batch(labdeck, token, running, created["id"], ("running",))
    response = labdeck.service("DELETE", f"/clusters/{running['id']}", token=token)
    assert response.status_code == 204
    info = batch_json(labdeck, token, running, created["id"])
    assert info["state"] == "killed"
    reason = jobs_of(labdeck, token)[info["jobId"]]["state_reason"]
    assert f"Its cluster {running['id']} ended (Terminated by its owner)" in reason
    assert info["log"][-1] == reason
    assert processes_named(str(script)) == set()
    refused = labdeck.service("POST", base(running), token=token, json={"file": "batches/hello.py"})
    assert refused.status_code == 409 and refused.json()["error"] == "cluster_not_running"
