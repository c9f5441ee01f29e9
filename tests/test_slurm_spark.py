"""Spark clusters on a real Slurm (munged, slurmctld, slurmd from slurm_support.py): a
hub whose cluster backend is `slurm` runs each cluster's master and workers inside one
Slurm allocation of its owner's account. It waits in Slurm's queue with Slurm's reason,
runs SQL through the Livy gateway, shows its UI through labdeck's proxy, survives a
service crash, and terminating it (or its idle timeout) ends the allocation."""

import json
import os
import secrets
import signal
import sqlite3
from pathlib import Path

import pytest
from conftest import FAST_CONFIG
from jobs_support import account
from labdeck.spark.standalone import MASTER_CLASS, WORKER_CLASS
from labdeck_process import Labdeck, alive, remove_tree, traversable_dir, wait_for
from spark_support import create_cluster, livy_session, processes_named, run_statement
from spark_support import wait_state as wait_cluster
from test_spark_clusters import _listening_ports

ONE_WORKER = {"workers": 1, "worker_cores": 1, "worker_memory": "1g"}
TIME_LIMIT = "02:00:00"


@pytest.fixture(scope="module")
def hub(slurm):
    """A labdeck of this module's own whose Spark clusters run on the test cluster."""
    config = (
        FAST_CONFIG
        + slurm.labdeck_config()
        + 'c.SparkClusters.backend_class = "slurm"\n'
        + "c.SlurmSparkBackend.time_limit_seconds = 7200\n"
    )
    parent = traversable_dir()
    instance = Labdeck(parent / "state", config=config).start()
    yield instance
    assert instance.stop() == 0, instance.log()
    remove_tree(parent)


@pytest.fixture(scope="module")
def owner(hub):
    """A user of the module's hub (a unique name: OS accounts outlive hubs)."""
    name = f"slurmspark{secrets.token_hex(3)}"
    return name, hub.create_user(name)


@pytest.fixture(scope="module")
def running(hub, owner):
    """The module's cluster: one worker with one core and 1 GiB."""
    _, token = owner
    cluster = create_cluster(hub, token, "allocated", **ONE_WORKER)
    yield wait_cluster(hub, token, cluster["id"], timeout=180)
    hub.service("DELETE", f"/clusters/{cluster['id']}", token=token)


def cluster(hub, token, cluster_id) -> dict:
    return hub.service_json("GET", f"/clusters/{cluster_id}", token)


def slurm_jobs(slurm, cluster_id) -> list[list[str]]:
    """squeue's rows (id, state, reason, user) of the cluster's Slurm jobs, in any state."""
    return slurm.squeue("-t", "all", f"--name=labdeck-{cluster_id}")


def jvms(cluster_id) -> dict[str, int]:
    """The cluster's master and worker JVMs: {"master": pid, "worker": pid}."""
    found = {}
    for pid in processes_named(cluster_id):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if not argv[0].endswith(b"java"):
            continue
        for name, main_class in (("master", MASTER_CLASS), ("worker", WORKER_CLASS)):
            if main_class.encode() in argv:
                found[name] = pid
    return found


def environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def backend_state(hub, cluster_id) -> dict:
    database = sqlite3.connect(hub.state_dir / "service" / "labdeck.sqlite")
    try:
        (state,) = database.execute(
            "SELECT backend_state FROM resources WHERE id = ?", (cluster_id,)
        ).fetchone()
    finally:
        database.close()
    return json.loads(state)


def ledger(hub, user) -> list[dict]:
    return hub.service("GET", f"/ledger?user={user}&kind=cluster").json()


def test_a_cluster_is_one_slurm_allocation_of_its_owner(hub, slurm, owner, running):
    name, token = owner
    user = account(name)
    ((job_id, state, _, slurm_user),) = slurm_jobs(slurm, running["id"])
    assert (state, slurm_user) == ("RUNNING", user.pw_name)
    details = slurm.job(job_id)
    # one node; its CPUs are the cluster's cores; its memory the executors' 1 GiB and
    # room for the master's and the worker's JVMs
    assert (details["NumNodes"], details["NumCPUs"], details["MinMemoryNode"]) == ("1", "1", "3G")
    assert details["TimeLimit"] == TIME_LIMIT
    assert details["UserId"].startswith(f"{user.pw_name}(")

    detail = cluster(hub, token, running["id"])
    assert (detail["workers_alive"], detail["cores"], detail["memory_mb"]) == (1, 1, 1024)
    assert detail["state_reason"] is None

    # the master and the worker run as the owner's account, inside the Slurm job, on
    # loopback only
    found = jvms(running["id"])
    assert set(found) == {"master", "worker"}, found
    state = backend_state(hub, running["id"])
    assert state["slurm_job_id"] == job_id and state["master"]["pid"] == found["master"]
    for pid in found.values():
        assert Path(f"/proc/{pid}").stat().st_uid == user.pw_uid
        env = environment(pid)
        assert env["SLURM_JOB_ID"] == job_id and env["LABDECK_CLUSTER"] == running["id"]
        # the cluster's secret is in its JVMs' environment, on no command line
        assert env["_SPARK_AUTH_SECRET"] == state["secret"]
    listening = _listening_ports(set(found.values()))
    assert {ip for ip, _ in listening} == {"127.0.0.1"}
    assert state["master_port"] in {port for _, port in listening}
    secret = state["secret"].encode()
    for pid in processes_named(running["id"]):
        assert secret not in Path(f"/proc/{pid}/cmdline").read_bytes()
    # its settings (the UI key, the secret) are the account's own files
    folder = hub.state_dir / "spark" / running["id"]
    for settings in (folder / "spark-defaults.conf", folder / "allocation.json"):
        info = settings.stat()
        assert (info.st_uid, info.st_mode & 0o777) == (user.pw_uid, 0o600), settings

    (entry,) = ledger(hub, name)
    assert entry["resource_id"] == running["id"] and entry["cores"] == 1
    assert entry["ended"] is None


def test_sql_runs_through_the_gateway_and_the_ui_through_labdecks_proxy(hub, owner, running):
    _, token = owner
    cid = running["id"]
    session_id = livy_session(hub, token, cid)
    answer = run_statement(hub, token, cid, session_id, 'spark.sql("SELECT 6*7").collect()[0][0]')
    assert answer["output"]["data"]["text/plain"] == "42", answer
    base = f"/clusters/{cid}/livy/sessions/{session_id}/statements"
    made = hub.service_json(
        "POST", base, token, 201, json={"code": "SELECT 6*7 AS answer", "kind": "sql"}
    )
    done = wait_for(
        lambda: (
            (s := hub.service_json("GET", f"{base}/{made['id']}", token))["state"]
            in ("available", "error")
            and s
        ),
        60,
        0.2,
        "the SQL statement",
    )
    assert done["output"]["data"]["application/json"]["data"] == [[42]], done

    page = hub.request("GET", f"/services/labdeck/clusters/{cid}/ui/", token=token)
    assert page.status_code == 200 and "Spark Master" in page.text
    assert f"{owner[0]}-livy-{session_id}" in page.text  # the session's application
    session = hub.service_json("GET", f"/clusters/{cid}/livy/sessions/{session_id}", token)
    ui = hub.request("GET", session["appInfo"]["sparkUiUrl"], token=token)
    assert ui.status_code == 302
    jobs = hub.request("GET", ui.headers["Location"], token=token)
    assert jobs.status_code == 200 and "Spark Jobs" in jobs.text
    # the cluster has one core, which the session's executor holds until it ends
    response = hub.service("DELETE", f"/clusters/{cid}/livy/sessions/{session_id}", token=token)
    assert response.status_code == 200


def test_a_cluster_waits_in_slurms_queue_with_its_reason(hub, slurm, owner, running):
    _, token = owner
    # every core of the node: it waits while the module's cluster holds one
    wide = create_cluster(hub, token, "wide", workers=1, worker_cores=slurm.cpus)
    waiting = "Waiting in Slurm's queue: Resources"
    wait_for(
        lambda: cluster(hub, token, wide["id"])["state_reason"] == waiting,
        60,
        0.2,
        "the cluster to wait for resources",
    )
    assert cluster(hub, token, wide["id"])["state"] == "STARTING"
    ((job_id, state, reason, _),) = slurm_jobs(slurm, wide["id"])
    assert (state, reason) == ("PENDING", "Resources")

    response = hub.service("DELETE", f"/clusters/{wide['id']}", token=token)
    assert response.status_code == 204
    assert cluster(hub, token, wide["id"])["state"] == "TERMINATED"
    assert slurm.job(job_id)["JobState"] == "CANCELLED"
    assert processes_named(wide["id"]) == set()


def test_a_cluster_slurm_cannot_place_fails_with_slurms_word(hub, slurm, owner, running):
    _, token = owner
    huge = create_cluster(hub, token, "huge", workers=1, worker_cores=slurm.cpus + 1)
    failed = wait_cluster(hub, token, huge["id"], ("FAILED",), timeout=60)
    assert failed["state_reason"].startswith("Slurm did not take the cluster. Slurm said: ")
    assert "More processors requested than permitted" in failed["state_reason"], failed
    assert slurm_jobs(slurm, huge["id"]) == []


def test_a_service_crash_re_adopts_the_cluster(hub, slurm, owner, running):
    _, token = owner
    cid = running["id"]
    session_id = livy_session(hub, token, cid)
    ((job_id, *_),) = slurm_jobs(slurm, cid)
    before = jvms(cid)
    hub.crash_service()
    after = cluster(hub, token, cid)
    assert after["state"] == "RUNNING" and after["workers_alive"] == 1, after
    # the same allocation and JVMs: nothing was submitted or started again
    assert [row[:2] for row in slurm_jobs(slurm, cid)] == [[job_id, "RUNNING"]]
    assert jvms(cid) == before
    statement = run_statement(hub, token, cid, session_id, "spark.range(6 * 7).count()")
    assert statement["output"]["data"]["text/plain"] == "42", statement
    page = hub.request("GET", f"/services/labdeck/clusters/{cid}/ui/", token=token)
    assert page.status_code == 200 and "Spark Master" in page.text


def test_terminate_ends_the_allocation_and_leaves_no_process(hub, slurm, owner, running):
    name, token = owner
    cid = running["id"]
    ((job_id, *_),) = slurm_jobs(slurm, cid)
    pids = processes_named(cid)
    assert len(pids) >= 3  # the launcher, the master, the worker (and their executors)
    response = hub.service("DELETE", f"/clusters/{cid}", token=token)
    assert response.status_code == 204
    assert [pid for pid in pids if alive(pid)] == []
    assert processes_named(cid) == set()
    assert slurm.job(job_id)["JobState"] == "CANCELLED"
    ended = cluster(hub, token, cid)
    assert ended["state"] == "TERMINATED" and ended["state_reason"] == "Terminated by its owner."
    (entry,) = ledger(hub, name)
    assert entry["ended"] is not None and entry["end_reason"] == "terminated"


def test_an_idle_cluster_ends_its_allocation(hub, slurm, owner):
    _, token = owner
    idle = create_cluster(hub, token, "idle", idle_timeout_seconds=3, **ONE_WORKER)
    wait_cluster(hub, token, idle["id"], timeout=180)
    ((job_id, *_),) = slurm_jobs(slurm, idle["id"])
    ended = wait_cluster(hub, token, idle["id"], ("TERMINATED",), timeout=60)
    assert ended["state_reason"].startswith("Idle for 3 s"), ended
    assert slurm.job(job_id)["JobState"] == "CANCELLED"
    assert processes_named(idle["id"]) == set()


def test_a_jvm_that_exits_ends_the_allocation(hub, slurm, owner):
    name, token = owner
    doomed = create_cluster(hub, token, "doomed", **ONE_WORKER)
    wait_cluster(hub, token, doomed["id"], timeout=180)
    ((job_id, *_),) = slurm_jobs(slurm, doomed["id"])
    os.kill(jvms(doomed["id"])["worker"], signal.SIGKILL)
    failed = wait_cluster(hub, token, doomed["id"], ("FAILED",), timeout=60)
    assert failed["state_reason"] == "The cluster's worker-0 killed by SIGKILL.", failed
    assert slurm.job(job_id)["JobState"] == "FAILED"
    assert processes_named(doomed["id"]) == set()
    entry = next(e for e in ledger(hub, name) if e["resource_id"] == doomed["id"])
    assert entry["ended"] is not None
