"""Spark clusters through the service: limits, lifecycle, UI, isolation between users,
idle auto-termination, and what a restart of the service keeps."""

import ipaddress
import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from labdeck_process import alive, wait_for
from spark_support import (
    create_cluster,
    livy_session,
    processes_named,
    run_statement,
    wait_state,
)


@pytest.fixture(scope="module")
def owner(labdeck):
    name = "sparkowner"
    return name, labdeck.create_user(name)


@pytest.fixture(scope="module")
def running(labdeck, owner):
    """One small real cluster for the module (master + 1 worker)."""
    _, token = owner
    cluster = create_cluster(labdeck, token, "shared")
    cluster = wait_state(labdeck, token, cluster["id"])
    yield cluster
    labdeck.service("DELETE", f"/clusters/{cluster['id']}", token=token)


@pytest.mark.parametrize(
    "spec,words",
    [
        ({"workers": 1}, "'name' is required"),
        ({"name": "x", "workers": 0}, "'workers' must be a whole number of at least 1"),
        ({"name": "x", "workers": "two"}, "'workers' must be a whole number"),
        ({"name": "x", "worker_memory": "lots"}, "'worker_memory' must look like 512m or 2g"),
        ({"name": "x", "worker_memory": "100m"}, "at least 512m"),
        ({"name": "x", "idle_timeout_seconds": 10**9}, "'idle_timeout_seconds' must be at most"),
        ({"name": "x", "gpus": 1}, "Unknown field(s): gpus"),
        ({"name": "../../etc"}, "'name' is required"),
    ],
)
def test_malformed_requests_are_400_and_start_nothing(labdeck, new_user, spec, words):
    _, token = new_user("badspark")
    response = labdeck.service("POST", "/clusters", token=token, json=spec)
    assert response.status_code == 400
    assert words in response.json()["message"]
    assert labdeck.service("GET", "/clusters", token=token).json() == []


def test_limits_refuse_with_a_message_and_start_nothing(labdeck, new_user):
    name, token = new_user("limited")
    labdeck.set_quota(name, {"spark": {"cores": 2}})
    response = labdeck.service(
        "POST", "/clusters", token=token, json={"name": "big", "workers": 3, "worker_cores": 1}
    )
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "spark_limit"
    assert "needs 3 cores" in body["message"] and "your 2" in body["message"]
    assert labdeck.service("GET", "/clusters", token=token).json() == []


def test_a_running_cluster_reports_workers_cores_memory(labdeck, owner, running):
    _, token = owner
    cluster = labdeck.service("GET", f"/clusters/{running['id']}", token=token).json()
    assert cluster["state"] == "RUNNING"
    assert (cluster["workers_alive"], cluster["cores"], cluster["memory_mb"]) == (1, 1, 512)
    assert cluster["progress"]["done"] == cluster["progress"]["total"]
    assert cluster["idle_terminates_at"] is not None


def test_spark_listens_on_loopback_only_without_the_rest_port(running):
    listening = _listening_ports(processes_named(running["id"]))
    assert listening, "the cluster listens somewhere"
    assert {ip for ip, _ in listening} == {"127.0.0.1"}
    assert 6066 not in {port for _, port in listening}


def _listening_ports(pids: set[int]) -> set[tuple[str, int]]:
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table).read().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                address, port = fields[1].rsplit(":", 1)
                found.add((_ip(address), int(port, 16)))
    return found


def _ip(hex_address: str) -> str:
    """/proc/net/tcp{,6} address (32-bit words in host order) -> '127.0.0.1'."""
    raw = bytes.fromhex(hex_address)
    address = ipaddress.ip_address(b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4)))
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def test_the_spark_ui_is_for_the_owner_and_admins_only(labdeck, owner, running, new_user):
    _, token = owner
    path = f"/services/labdeck/clusters/{running['id']}/ui/"
    page = labdeck.request("GET", path, token=token)
    assert page.status_code == 200 and "Spark Master" in page.text
    # in a sandbox of its own: nothing on the page can act as its viewer on the hub
    policy = page.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox") and "allow-same-origin" not in policy
    assert f"/services/labdeck/clusters/{running['id']}/ui/static/" in page.text
    assert labdeck.request("GET", path).status_code == 200  # admin
    _, other = new_user("sparknosy")
    assert labdeck.request("GET", path, token=other).status_code == 404
    anonymous = labdeck.request("GET", path, token=None)
    assert anonymous.status_code == 302 and "oauth2/authorize" in anonymous.headers["Location"]


def test_the_services_secrets_never_reach_spark_or_the_drivers(labdeck, owner, running):
    """Drivers and cluster JVMs start from a clean environment: no hub token to steal."""
    _, token = owner
    session_id = livy_session(labdeck, token, running["id"])
    code = (
        "import os\n"
        "print(sorted(k for k in os.environ if 'TOKEN' in k or 'SECRET' in k "
        "or k.startswith(('JUPYTERHUB', 'LABDECK_SERVICE'))))"
    )
    statement = run_statement(labdeck, token, running["id"], session_id, code)
    assert statement["output"]["data"]["text/plain"] == "[]"
    spark_processes = processes_named(running["id"]) | processes_named("labdeck.spark.driver")
    assert spark_processes
    for pid in spark_processes:
        try:
            environ = open(f"/proc/{pid}/environ", "rb").read()
        except OSError:
            continue
        assert b"JUPYTERHUB_API_TOKEN" not in environ and b"JPY_API_TOKEN" not in environ

    # the cluster's own Spark secret is in its processes' environments, on no command line
    database = sqlite3.connect(labdeck.state_dir / "service" / "labdeck.sqlite")
    (state,) = database.execute(
        "SELECT backend_state FROM resources WHERE id = ?", (running["id"],)
    ).fetchone()
    database.close()
    secret = json.loads(state)["secret"].encode()
    assert any(secret in open(f"/proc/{pid}/environ", "rb").read() for pid in spark_processes)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                assert secret not in (entry / "cmdline").read_bytes(), entry.name
            except OSError:
                continue


ROGUE_DRIVER = """
import sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.master(sys.argv[1]).appName("rogue")
spark = spark.config("spark.ui.enabled", "false").getOrCreate()
print("ran", spark.range(10).count(), flush=True)
"""


def test_the_master_refuses_drivers_without_the_clusters_secret(labdeck, owner, running):
    """Another local account that finds the master's port cannot run code on the cluster."""
    database = sqlite3.connect(labdeck.state_dir / "service" / "labdeck.sqlite")
    (state,) = database.execute(
        "SELECT backend_state FROM resources WHERE id = ?", (running["id"],)
    ).fetchone()
    database.close()
    port = json.loads(state)["master_port"]  # the port it bound (any account can list it)
    log = next(Path(labdeck.state_dir, "spark", running["id"], "logs").glob("master*.log"))
    refusals = log.read_text().count("Expected SaslMessage")
    rogue = subprocess.Popen(
        [sys.executable, "-c", ROGUE_DRIVER, f"spark://127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: log.read_text().count("Expected SaslMessage") > refusals,
            60,
            0.2,
            "the master to refuse the driver without the secret",
        )
        cluster = labdeck.service("GET", f"/clusters/{running['id']}", token=owner[1]).json()
        assert "rogue" not in [app["name"] for app in cluster["applications"]]
    finally:
        rogue.kill()
        assert b"ran" not in rogue.communicate()[0]


def test_other_users_are_refused_on_clusters_and_livy(labdeck, owner, running, new_user):
    _, other = new_user("sparkstranger")
    cid = running["id"]
    assert labdeck.service("GET", "/clusters", token=other).json() == []
    for method, path in [
        ("GET", f"/clusters/{cid}"),
        ("DELETE", f"/clusters/{cid}"),
        ("GET", f"/clusters/{cid}/livy/sessions"),
        ("POST", f"/clusters/{cid}/livy/sessions"),
        ("GET", f"/clusters/{cid}/livy/sessions/1/statements"),
        ("GET", f"/clusters/{cid}/livy/version"),
    ]:
        response = labdeck.service(method, path, token=other, json={"kind": "pyspark"})
        assert response.status_code == 404, (method, path)
    cluster = labdeck.service("GET", f"/clusters/{cid}", token=owner[1]).json()
    assert cluster["state"] == "RUNNING"


def test_the_gateway_says_which_livy_it_follows(labdeck, owner, running):
    _, token = owner
    version = labdeck.service_json("GET", f"/clusters/{running['id']}/livy/version", token)
    assert version["version"] == "0.8.0-incubating"
    assert {"commitId", "user", "date", "url", "branch"} <= set(version)


def test_session_lists_are_paged_as_livy_pages_them(labdeck, owner, running):
    _, token = owner
    base = f"/clusters/{running['id']}/livy/sessions"
    made = [labdeck.service_json("POST", base, token, 201, json={"kind": "pyspark"})["id"]]
    made.append(labdeck.service_json("POST", base, token, 201, json={"kind": "pyspark"})["id"])
    every = labdeck.service_json("GET", base, token)
    assert every["from"] == 0 and every["total"] == len(every["sessions"]) >= 2
    ids = [s["id"] for s in every["sessions"]]
    page = labdeck.service_json("GET", f"{base}?from=1&size=1", token)
    assert (page["from"], page["total"]) == (1, every["total"])
    assert [s["id"] for s in page["sessions"]] == ids[1:2]
    assert labdeck.service_json("GET", f"{base}?size=0", token)["sessions"] == []
    for bad in ("from=-1", "size=x", "from=1.5"):
        response = labdeck.service("GET", f"{base}?{bad}", token=token)
        assert response.status_code == 400, bad
    for session_id in made:
        assert labdeck.service("DELETE", f"{base}/{session_id}", token=token).status_code == 200


def test_unsupported_session_kinds_are_400_as_livy_says_it(labdeck, owner, running):
    _, token = owner
    for kind in ("sparkr", "shell", "scala"):
        response = labdeck.service(
            "POST", f"/clusters/{running['id']}/livy/sessions", token=token, json={"kind": kind}
        )
        assert response.status_code == 400
        error = response.json()
        assert "pyspark, sql, spark" in error["message"] and error["msg"] == error["message"]
        assert error["error"] == "unsupported_kind"


def test_a_sql_session_runs_sql_and_a_statement_may_name_its_kind(labdeck, owner, running):
    _, token = owner
    cid = running["id"]
    # the module's cluster has one core: other tests' sessions would keep its executor
    for other in labdeck.service_json("GET", f"/clusters/{cid}/livy/sessions", token)["sessions"]:
        labdeck.service("DELETE", f"/clusters/{cid}/livy/sessions/{other['id']}", token=token)
    session_id = livy_session(labdeck, token, cid, kind="sql")
    session = labdeck.service_json("GET", f"/clusters/{cid}/livy/sessions/{session_id}", token)
    assert session["kind"] == "sql"
    # every field of Livy's session object; its URLs are labdeck's, and answer
    fields = {"id", "name", "appId", "owner", "proxyUser", "kind", "state", "appInfo", "log"}
    assert fields <= set(session)
    log_url = session["appInfo"]["driverLogUrl"]
    assert log_url.endswith(f"/livy/sessions/{session_id}/log")
    assert labdeck.request("GET", log_url, token=token).json()["id"] == session_id
    answer = run_statement(labdeck, token, cid, session_id, "SELECT 20 + 22 AS answer")
    assert answer["output"]["data"]["application/json"]["data"] == [[42]]
    # Livy 0.5+ shared sessions: a pyspark statement in a sql session
    base = f"/clusters/{cid}/livy/sessions/{session_id}/statements"
    done = run_statement(labdeck, token, cid, session_id, "print(6 * 7)", kind="pyspark")
    assert done["output"]["data"]["text/plain"].strip() == "42"
    refused = labdeck.service("POST", base, token=token, json={"code": "1", "kind": "sparkr"})
    assert refused.status_code == 400 and "pyspark, sql" in refused.json()["msg"]
    labdeck.service("DELETE", f"/clusters/{cid}/livy/sessions/{session_id}", token=token)


def ledger(labdeck, user, kind=None):
    query = f"/ledger?user={user}" + (f"&kind={kind}" if kind else "")
    return labdeck.service("GET", query).json()


def test_cluster_core_time_goes_into_the_ledger_and_report(labdeck, owner, running):
    name, token = owner
    entries = ledger(labdeck, name, "cluster")
    assert [(e["profile"], e["resource_id"]) for e in entries] == [("spark", running["id"])]
    assert entries[0]["ended"] is None and entries[0]["cores"] == 1
    # a cluster is no lab session: `me` and `sessions` say the user has none
    assert labdeck.service("GET", "/me", token=token).json()["session"] is None
    assert labdeck.service("GET", f"/sessions?user={name}").json() == []

    def spark_row():
        rows = labdeck.service("GET", "/admin/usage").json()["rows"]
        row = next(r for r in rows if r["user"] == name and r["profile"] == "spark")
        return row if row["seconds"] > 0 else None

    row = wait_for(spark_row, 10, 0.5, "a second of cluster time")
    assert row["core_seconds"] == row["seconds"]  # a one-core cluster


def assert_core_seconds_match(labdeck, user, cluster):
    """The report counts the cluster's running time so far, within 2 s, times its cores."""
    started = datetime.fromisoformat(cluster["started"]).timestamp()
    before = time.time() - started
    report = labdeck.service("GET", "/admin/usage").json()["rows"]
    after = time.time() - started
    row = next(r for r in report if r["user"] == user and r["profile"] == "spark")
    cores = cluster["spec"]["workers"] * cluster["spec"]["worker_cores"]
    assert before - 2 <= row["core_seconds"] / cores <= after + 2, (row, before, after)


def test_a_lab_session_and_a_cluster_never_close_each_others_entries(labdeck, new_user):
    name, token = new_user("both")
    cluster = wait_state(labdeck, token, create_cluster(labdeck, token, "beside")["id"])
    labdeck.start_server(name)
    me = labdeck.service("GET", "/me", token=token).json()
    assert me["session"]["profile"] == "cpu"
    assert me["resources"]["spark"]["in_use"]["clusters"] == 1
    # an admin's quota change moves the lab's deadline and leaves the cluster alone
    changed = labdeck.set_quota(name, {"cpu": {"session_seconds": 3600}})
    assert changed["cpu"]["session_seconds"] == 3600
    me = labdeck.service("GET", "/me", token=token).json()
    lab_started = datetime.fromisoformat(me["session"]["started"])
    assert datetime.fromisoformat(me["session"]["deadline"]) == lab_started + timedelta(hours=1)
    labdeck.stop_server(name)
    (lab,) = ledger(labdeck, name, "session")
    assert lab["end_reason"] == "user"
    (entry,) = ledger(labdeck, name, "cluster")
    assert entry["ended"] is None
    # a refused spawn closes nothing either
    labdeck.set_quota(name, {"cpu": {"session_seconds": 0}})
    assert labdeck.spawn(name).status_code >= 400
    assert ledger(labdeck, name, "cluster")[0]["ended"] is None
    assert_core_seconds_match(labdeck, name, cluster)
    labdeck.service("DELETE", f"/clusters/{cluster['id']}", token=token)
    (entry,) = ledger(labdeck, name, "cluster")
    assert entry["end_reason"] == "terminated"


def test_abandoned_sessions_are_cleaned_up_by_heartbeat(labdeck, owner, running):
    _, token = owner
    base = f"/clusters/{running['id']}/livy/sessions"
    session_id = livy_session(labdeck, token, running["id"], heartbeatTimeoutInSecond=4)
    # nobody asks about the session any more: its driver goes away on its own
    app = f"-livy-{session_id}".encode()
    wait_for(lambda: not _driver_running(app), 60, 0.5, "the abandoned driver to stop")
    session = wait_for(
        lambda: (
            (s := labdeck.service("GET", f"{base}/{session_id}", token=token).json())
            and s["state"] in ("killed", "dead")
            and s
        ),
        30,
        0.2,
        "the session to be recorded as ended",
    )
    assert "No heartbeat" in session["log"][-1]


def _driver_running(app_name: bytes) -> bool:
    for pid in processes_named("labdeck.spark.driver"):
        try:
            if app_name in open(f"/proc/{pid}/cmdline", "rb").read():
                return True
        except OSError:
            continue
    return False


def test_terminate_leaves_no_process(labdeck, new_user):
    _, token = new_user("terminator")
    cluster = wait_state(labdeck, token, create_cluster(labdeck, token, "short")["id"])
    session_id = livy_session(labdeck, token, cluster["id"])
    pids = processes_named(cluster["id"])
    assert len(pids) >= 2
    response = labdeck.service("DELETE", f"/clusters/{cluster['id']}", token=token)
    assert response.status_code == 204
    assert [pid for pid in pids if alive(pid)] == []
    after = labdeck.service("GET", f"/clusters/{cluster['id']}", token=token).json()
    assert after["state"] == "TERMINATED" and after["state_reason"] == "Terminated by its owner."
    session = labdeck.service(
        "GET", f"/clusters/{cluster['id']}/livy/sessions/{session_id}", token=token
    ).json()
    assert session["state"] in ("killed", "dead")


def test_terminating_a_starting_cluster_leaves_no_process(labdeck, new_user):
    name, token = new_user("impatient")
    cluster = create_cluster(labdeck, token, "hasty", workers=2)
    wait_for(lambda: processes_named(cluster["id"]), 30, 0.05, "the first Spark process to start")
    response = labdeck.service("DELETE", f"/clusters/{cluster['id']}", token=token)
    assert response.status_code == 204
    assert processes_named(cluster["id"]) == set()
    after = labdeck.service("GET", f"/clusters/{cluster['id']}", token=token).json()
    assert after["state"] == "TERMINATED"
    assert all(e["ended"] is not None for e in ledger(labdeck, name))


def test_an_idle_cluster_terminates_itself(labdeck, new_user):
    _, token = new_user("idler")
    cluster = create_cluster(labdeck, token, "idle", idle_timeout_seconds=3)
    wait_state(labdeck, token, cluster["id"])
    ended = wait_state(labdeck, token, cluster["id"], ("TERMINATED",), timeout=60)
    assert ended["state_reason"].startswith("Idle for 3 s")
    assert processes_named(cluster["id"]) == set()


def test_a_service_restart_re_adopts_running_clusters(labdeck, owner, running):
    name, token = owner
    session_id = livy_session(labdeck, token, running["id"])
    started = time.monotonic()
    labdeck.crash_service()
    assert time.monotonic() - started < 60
    cluster = labdeck.service("GET", f"/clusters/{running['id']}", token=token).json()
    assert cluster["state"] == "RUNNING" and cluster["workers_alive"] == 1
    # its ledger entry stayed open: all its time is counted
    (entry,) = ledger(labdeck, name, "cluster")
    assert entry["ended"] is None and entry["started"] == cluster["started"]
    assert_core_seconds_match(labdeck, name, cluster)
    statement = run_statement(labdeck, token, running["id"], session_id, "21 * 2")
    assert statement["output"]["data"]["text/plain"] == "42"

    # the application's own UI, through the master's proxy and labdeck's
    session = labdeck.service(
        "GET", f"/clusters/{running['id']}/livy/sessions/{session_id}", token=token
    ).json()
    ui = labdeck.request("GET", session["appInfo"]["sparkUiUrl"], token=token)
    assert ui.status_code == 302
    jobs = labdeck.request("GET", ui.headers["Location"], token=token)
    assert jobs.status_code == 200 and "Spark Jobs" in jobs.text
