"""Spark around the hub: the loopback ports of a user's cluster, its applications and
its Livy drivers answer labdeck only; their secrets are on no command line; their files
are the owner's; and labdeck sends its credentials only to listeners that are the
cluster's own.

A server on 127.0.0.1 cannot tell who connects: the test process stands for any other
local account here (it has no key; being root buys nothing over HTTP).
"""

import json
import os
import pwd
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from labdeck.hub.system_users import system_user_name
from labdeck.jws import b64url_decode, bearer, new_key, sign, signature
from labdeck.net import listening_ports, listens_on, port_is_free
from labdeck.spark.ui_auth import ui_headers, ui_key
from labdeck_process import ACCOUNT_PREFIX, descendants, wait_for
from spark_support import create_cluster, livy_session, processes_named, wait_state

# Ports Spark takes when told nothing (master RPC and UI, worker UI, application UI).
SPARK_DEFAULT_PORTS = (7077, 8080, 8081, 4040)


# -- the signer, against RFC 7515 and Spark's rules -----------------------------------------


def test_the_signature_is_rfc_7515s_hs256():
    """RFC 7515, appendix A.1: the example key, signing input and signature."""
    key = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
    signing_input = (
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    )
    assert signature(key, signing_input) == "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


def test_a_token_carries_hs256_and_its_expiry():
    key = new_key()
    assert len(b64url_decode(key)) == 32  # Spark's filter wants 256 bits at least
    header, payload, signed = bearer(key, 60, now=lambda: 1000.0).removeprefix("Bearer ").split(".")
    assert json.loads(b64url_decode(header)) == {"alg": "HS256", "typ": "JWT"}
    assert json.loads(b64url_decode(payload)) == {"exp": 1060}
    assert signed == signature(key, f"{header}.{payload}")
    assert sign(key, {"exp": 1060}) == f"{header}.{payload}.{signed}"
    assert "=" not in key + header + payload + signed  # base64url without padding


def test_each_cluster_has_a_ui_key_of_its_own():
    assert ui_key("one") == ui_key("one") != ui_key("two")
    assert len(b64url_decode(ui_key("one"))) == 32
    assert ui_headers(None) == {}


# -- who listens on a port ----------------------------------------------------------------

LISTENER = """
import socket, sys
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen()
print(sock.getsockname()[1], flush=True)
sys.stdin.read()
"""


def test_listening_ports_are_the_processs_own():
    child = subprocess.Popen(
        [sys.executable, "-c", LISTENER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(child.stdout.readline())
        assert ("127.0.0.1", port) in listening_ports(child.pid)
        assert listens_on(child.pid, port)
        assert not listens_on(os.getpid(), port)  # a client of the port is not its owner
        assert not listens_on(child.pid, port, "10.1.2.3")
    finally:
        child.stdin.close()
        child.wait(10)
    assert listening_ports(child.pid) == set() and not listens_on(child.pid, port)


# -- a real cluster, with an application on it ---------------------------------------------


@pytest.fixture(scope="module")
def squatted():
    """Spark's default ports, held by someone else before the cluster starts."""
    sockets = []
    for port in SPARK_DEFAULT_PORTS:
        if port_is_free("127.0.0.1", port):
            sock = socket.socket()
            sock.bind(("127.0.0.1", port))
            sock.listen()
            sock.setblocking(False)
            sockets.append(sock)
    yield sockets
    for sock in sockets:
        sock.close()


@pytest.fixture(scope="module")
def owner(labdeck):
    name = "sparkguard"
    return name, labdeck.create_user(name)


@pytest.fixture(scope="module")
def cluster(labdeck, owner, squatted):
    _, token = owner
    cluster = wait_state(labdeck, token, create_cluster(labdeck, token, "guarded")["id"])
    yield cluster
    labdeck.service("DELETE", f"/clusters/{cluster['id']}", token=token)


@pytest.fixture(scope="module")
def session(labdeck, owner, cluster):
    """A Livy session (an application with a UI) on the cluster: its ready file."""
    session_id = livy_session(labdeck, owner[1], cluster["id"])
    directory = cluster_dir(labdeck, cluster) / "sessions" / str(session_id)
    return {
        "id": session_id,
        "dir": directory,
        **json.loads((directory / "ready.json").read_text()),
    }


def cluster_dir(labdeck, cluster) -> Path:
    return labdeck.state_dir / "spark" / cluster["id"]


def backend_state(labdeck, cluster) -> dict:
    database = sqlite3.connect(labdeck.state_dir / "service" / "labdeck.sqlite")
    try:
        (state,) = database.execute(
            "SELECT backend_state FROM resources WHERE id = ?", (cluster["id"],)
        ).fetchone()
    finally:
        database.close()
    return json.loads(state)


def master_pid(labdeck, cluster) -> int:
    (record,) = [p for p in backend_state(labdeck, cluster)["processes"] if p["name"] == "master"]
    return record["pid"]


def ui_path(cluster, path="") -> str:
    return f"/services/labdeck/clusters/{cluster['id']}/ui/{path}"


def direct(url: str, headers: dict | None = None) -> requests.Response:
    return requests.get(url, headers=headers or {}, timeout=10, allow_redirects=False)


def test_master_worker_and_application_uis_refuse_requests_without_the_key(
    labdeck, owner, cluster, session
):
    token = owner[1]
    state = backend_state(labdeck, cluster)
    status = labdeck.request("GET", ui_path(cluster, "json/"), token=token)
    assert status.status_code == 200, status.text  # through the hub: signed by labdeck
    (worker,) = status.json()["workers"]
    (app,) = status.json()["activeapps"]
    assert app["id"] == session["app_id"]
    uis = {
        "master": f"http://127.0.0.1:{state['webui_port']}/",
        "worker": worker["webuiaddress"] + "/",
        "application": session["spark_ui_url"] + "/jobs/",
        # the master's reverse proxy is no way around the key either
        "worker via the master": f"http://127.0.0.1:{state['webui_port']}/proxy/{worker['id']}/",
        "application via the master": (
            f"http://127.0.0.1:{state['webui_port']}/proxy/{app['id']}/jobs/"
        ),
    }
    forged = {"Authorization": bearer(new_key())}
    expired = {"Authorization": bearer(ui_key(state["secret"]), -10)}
    for name, url in uis.items():
        for headers in (None, forged, expired):
            assert direct(url, headers).status_code == 403, (name, headers)
    # the key, and only the key, opens them: the refusals above are not a broken UI
    for name, url in uis.items():
        assert direct(url, ui_headers(state["secret"])).status_code == 200, name

    # through the hub's proxy, with the owner's login: every page answers
    assert "Spark Master" in labdeck.request("GET", ui_path(cluster), token=token).text
    page = labdeck.request("GET", ui_path(cluster, f"proxy/{worker['id']}/"), token=token)
    assert page.status_code == 200 and "Spark Worker" in page.text
    jobs = labdeck.request("GET", ui_path(cluster, f"proxy/{app['id']}/jobs/"), token=token)
    assert jobs.status_code == 200 and "Spark Jobs" in jobs.text


def test_a_drivers_api_refuses_requests_without_its_token(session):
    url = f"http://127.0.0.1:{session['port']}/status"
    for headers in ({}, {"Authorization": "token not-the-token"}, {"Authorization": "Bearer x"}):
        refused = direct(url, headers)
        assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    allowed = direct(url, {"Authorization": f"token {session['token']}"})
    assert allowed.status_code == 200 and allowed.json()["app_id"] == session["app_id"]


def test_no_secret_is_on_a_command_line_or_in_a_log(labdeck, cluster, session):
    state = backend_state(labdeck, cluster)
    secrets_ = {
        "spark secret": state["secret"].encode(),
        "ui key": ui_key(state["secret"]).encode(),
        "driver token": session["token"].encode(),
    }
    spark = {session["pid"], *descendants(session["pid"])}
    for pid in processes_named(cluster["id"]):
        spark |= {pid, *descendants(pid)}  # the worker's executors too
    jvms = [pid for pid in spark if b"java" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert len(jvms) >= 4  # master, worker, executor, the driver's JVM
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            for name, secret in secrets_.items():
                assert secret not in cmdline, (name, entry.name)
    logs = [p for p in cluster_dir(labdeck, cluster).rglob("*") if p.is_file()]
    logs = [p for p in logs if p.name.endswith((".log", ".out", "stdout", "stderr"))]
    assert len(logs) >= 4
    for path in logs:
        text = path.read_bytes()
        for name, secret in secrets_.items():
            assert secret not in text, (name, path)


def test_the_clusters_files_are_its_owners_and_private(labdeck, owner, cluster, session):
    account = pwd.getpwnam(system_user_name(ACCOUNT_PREFIX, owner[0]))
    root = cluster_dir(labdeck, cluster)
    # the owner passes through the service's folder; nobody else gets in
    info = root.stat()
    assert (info.st_gid, stat.S_IMODE(info.st_mode)) == (account.pw_gid, 0o710)
    for path in (root / "spark-defaults.conf", root / "logs" / "master.log"):
        info = path.stat()
        assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (account.pw_uid, 0o600), path
    work = root / "work"
    assert (work.stat().st_uid, stat.S_IMODE(work.stat().st_mode)) == (account.pw_uid, 0o700)
    written = list(work.rglob("*"))  # the application's folder, its executor's output
    assert any(p.name == "stdout" for p in written)
    for path in written:
        assert path.stat().st_uid == account.pw_uid, path
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    ready = session["dir"] / "ready.json"
    assert (ready.stat().st_uid, stat.S_IMODE(ready.stat().st_mode)) == (account.pw_uid, 0o600)


def test_every_port_labdeck_uses_is_the_clusters_own(labdeck, cluster, session, squatted):
    state = backend_state(labdeck, cluster)
    master = listening_ports(master_pid(labdeck, cluster))
    assert {("127.0.0.1", state["master_port"]), ("127.0.0.1", state["webui_port"])} <= master
    ui_port = int(session["spark_ui_url"].rsplit(":", 1)[1])
    owners = [pid for pid in descendants(session["pid"]) if listens_on(pid, ui_port)]
    assert len(owners) == 1  # the driver's own JVM
    # nothing came to the ports that were taken before the cluster started
    for sock in squatted:
        with pytest.raises(BlockingIOError):
            sock.accept()


def test_the_proxy_sends_nothing_to_a_listener_that_is_not_the_clusters(fresh):
    """The master dies and someone binds its UI port before labdeck notices (here: never,
    the check interval being an hour): labdeck's proxy and status checks, which sign
    every request, keep off that port."""
    labdeck = fresh(config="c.SparkClusters.check_interval_seconds = 3600\n")
    token = labdeck.create_user("victim")
    cluster = wait_state(labdeck, token, create_cluster(labdeck, token, "doomed")["id"])
    assert labdeck.request("GET", ui_path(cluster), token=token).status_code == 200
    state = backend_state(labdeck, cluster)
    os.kill(master_pid(labdeck, cluster), signal.SIGKILL)
    wait_for(
        lambda: port_is_free("127.0.0.1", state["webui_port"]), 30, 0.05, "the port to be free"
    )
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", state["webui_port"]))
    squatter.listen()
    squatter.setblocking(False)
    try:
        page = labdeck.request("GET", ui_path(cluster), token=token)
        assert page.status_code == 502
        detail = labdeck.service("GET", f"/clusters/{cluster['id']}", token=token)
        assert detail.status_code == 200 and detail.json()["workers_alive"] == 0
        # the requests above have returned: a connection to the port would be queued by now
        with pytest.raises(BlockingIOError):
            squatter.accept()
    finally:
        squatter.close()
        labdeck.service("DELETE", f"/clusters/{cluster['id']}", token=token)
