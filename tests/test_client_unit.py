"""The notebook client and ClusterPicker against a small fake of the service.

A real HTTP server on loopback imitates the few endpoints the client calls
(`me`, `clusters`, `clusters/<id>`); the end-to-end tests against the real
service live elsewhere.
"""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from labdeck.net import free_port
from labdeck.widgets import ClusterPicker, LabdeckClient, LabdeckError
from labdeck.widgets.spark import (
    connected_message,
    progress_values,
    running_options,
    suggest_name,
)

TOKEN = "secret-token"
PREFIX = "/services/labdeck/api/v1/"
SPARK_QUOTA = {"clusters": 2, "workers": 4, "cores": 4, "memory_bytes": 8 * 2**30}


def make_cluster(cid, name, state="RUNNING", **extra):
    return {
        "id": cid,
        "name": name,
        "user": "alice",
        "state": state,
        "state_reason": None,
        "progress": {"step": "Running", "done": 2, "total": 2},
        "spec": {
            "name": name,
            "workers": 1,
            "worker_cores": 1,
            "worker_memory": "1024m",
            "idle_timeout_seconds": 3600,
        },
        "idle_terminates_at": None,
        "livy_url": f"/services/labdeck/api/v1/clusters/{cid}/livy",
        "spark_ui_url": f"/services/labdeck/clusters/{cid}/ui/",
        **extra,
    }


def public(cluster):
    """A cluster as the API shows it (without the fake's own keys)."""
    return {k: v for k, v in cluster.items() if not k.startswith("_")}


class FakeService:
    """State of the fake: clusters, and how new ones start (one step per GET)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.clusters = {}
        self.requests = []
        self.created = []
        # states a new cluster goes through, one per GET clusters/<id>
        self.start_script = [
            ("STARTING", "Starting the master", 0, 2),
            ("STARTING", "Waiting for workers to register", 1, 2),
            ("RUNNING", "Running", 2, 2),
        ]
        self.fail_reason = None

    def handle(self, method, path, body):
        """(status, json body or None)."""
        self.requests.append((method, path))
        if path == "me":
            return 200, {"name": "alice", "quota": {"spark": SPARK_QUOTA}}
        if path == "broken":
            return 500, "plain text"
        if path == "clusters" and method == "GET":
            return 200, [public(c) for c in reversed(self.clusters.values())]
        if path == "clusters" and method == "POST":
            return self.create(body)
        match = re.fullmatch(r"clusters/([^/]+)", path)
        if match:
            cluster = self.clusters.get(match.group(1))
            if cluster is None:
                return 404, {"error": "not_found", "message": f"There is no cluster {match[1]}."}
            if method == "GET":
                self.advance(cluster)
                return 200, public(cluster)
            if method == "DELETE":
                cluster.update(
                    state="TERMINATED", state_reason="Terminated by its owner.", _script=[]
                )
                return 204, None
        return 404, {"error": "not_found", "message": f"No route {method} {path}."}

    def create(self, body):
        if not body.get("name"):
            return 400, {"error": "invalid_cluster", "message": "'name' is required."}
        if body["workers"] > SPARK_QUOTA["workers"]:
            return 403, {
                "error": "spark_limit",
                "message": f"Not started: this cluster needs {body['workers']} workers and "
                "you have 0 of your 4 in use. Terminate a cluster or ask for less.",
            }
        self.created.append(body)
        cid = f"c-{len(self.created):08x}"
        cluster = make_cluster(cid, body["name"], state="STARTING")
        cluster["progress"] = {"step": "Queued", "done": 0, "total": 2}
        cluster["_script"] = list(self.start_script)
        self.clusters[cid] = cluster
        return 201, public(cluster)

    def advance(self, cluster):
        script = cluster.get("_script")
        if not script:
            return
        state, step, done, total = script.pop(0)
        if self.fail_reason and state == "RUNNING":
            state, cluster["state_reason"] = "FAILED", self.fail_reason
        cluster.update(state=state, progress={"step": step, "done": done, "total": total})


@pytest.fixture
def service():
    fake = FakeService()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.headers.get("Authorization") != f"token {TOKEN}":
                status, body = 403, {"error": "forbidden", "message": "Bad token."}
            elif not self.path.startswith(PREFIX):
                status, body = 404, {"error": "not_found", "message": "Not here."}
            else:
                with fake.lock:
                    status, body = fake.handle(
                        self.command, self.path[len(PREFIX) :], json.loads(raw or b"null")
                    )
            if isinstance(body, str):
                payload, content_type = body.encode(), "text/plain"
            else:
                payload, content_type = json.dumps(body).encode(), "application/json"
            self.send_response(status)
            if status != 204:
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if status != 204:
                self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, *args):
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{port}/services/labdeck/"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def client(service):
    return LabdeckClient(service.url, TOKEN)


@pytest.fixture
def sparkmagic_dir(tmp_path, monkeypatch):
    directory = tmp_path / "sparkmagic"
    monkeypatch.setenv("SPARKMAGIC_CONF_DIR", str(directory))
    return directory


# -- the client -------------------------------------------------------------------------


def test_defaults_come_from_the_environment(monkeypatch, service):
    monkeypatch.setenv("LABDECK_SERVICE_URL", service.url.rstrip("/"))
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", TOKEN)
    client = LabdeckClient()
    assert client.service_url == service.url
    assert client.me()["quota"]["spark"] == SPARK_QUOTA


def test_not_configured(monkeypatch):
    monkeypatch.delenv("LABDECK_SERVICE_URL", raising=False)
    with pytest.raises(LabdeckError) as info:
        LabdeckClient().clusters()
    assert info.value.code == "not_configured"
    assert "LABDECK_SERVICE_URL" in str(info.value)


def test_api_errors_carry_the_servers_message(client, service):
    with pytest.raises(LabdeckError) as info:
        client.create_cluster("big", workers=5)
    error = info.value
    assert (error.status, error.code) == (403, "spark_limit")
    assert str(error).startswith("Not started: this cluster needs 5 workers")

    with pytest.raises(LabdeckError) as info:
        client.create_cluster("")
    assert (info.value.status, info.value.code, str(info.value)) == (
        400,
        "invalid_cluster",
        "'name' is required.",
    )

    with pytest.raises(LabdeckError) as info:
        client.cluster("c-missing")
    assert (info.value.status, str(info.value)) == (404, "There is no cluster c-missing.")

    with pytest.raises(LabdeckError) as info:
        client.request("GET", "broken")
    assert (info.value.status, info.value.code) == (500, "http_500")
    assert str(info.value) == "The labdeck service answered 500 Internal Server Error."


def test_bad_token_is_refused(service):
    with pytest.raises(LabdeckError) as info:
        LabdeckClient(service.url, "wrong").me()
    assert (info.value.status, info.value.code, str(info.value)) == (403, "forbidden", "Bad token.")


def test_unreachable_service():
    client = LabdeckClient(f"http://127.0.0.1:{free_port()}/services/labdeck/", TOKEN, timeout=5)
    with pytest.raises(LabdeckError) as info:
        client.me()
    assert (info.value.status, info.value.code) == (0, "network_error")
    assert "Cannot reach the labdeck service" in str(info.value)


def test_create_sends_the_spec(client, service):
    cluster = client.create_cluster(
        "etl", workers=2, worker_cores=2, worker_memory="2g", idle_timeout_seconds=600
    )
    assert cluster["state"] == "STARTING"
    assert service.created == [
        {
            "name": "etl",
            "workers": 2,
            "worker_cores": 2,
            "worker_memory": "2g",
            "idle_timeout_seconds": 600,
        }
    ]
    assert [c["id"] for c in client.clusters()] == [cluster["id"]]


def test_wait_follows_starting_to_running(client, service):
    cluster = client.create_cluster("etl")
    seen = []
    running = client.wait_for_cluster(
        cluster["id"], timeout=10, interval=0.01, on_progress=lambda c: seen.append(c)
    )
    assert running["state"] == "RUNNING"
    assert [(c["state"], c["progress"]["step"], c["progress"]["done"]) for c in seen] == [
        ("STARTING", "Starting the master", 0),
        ("STARTING", "Waiting for workers to register", 1),
        ("RUNNING", "Running", 2),
    ]


def test_wait_raises_the_failure_reason(client, service):
    service.fail_reason = "The workers did not register within 120 s."
    cluster = client.create_cluster("etl")
    with pytest.raises(LabdeckError) as info:
        client.wait_for_cluster(cluster["id"], timeout=10, interval=0.01)
    assert info.value.code == "cluster_failed"
    assert str(info.value) == "The workers did not register within 120 s."


def test_wait_times_out(client, service):
    service.start_script = [("STARTING", "Starting the master", 0, 2)] * 1000
    cluster = client.create_cluster("slow")
    with pytest.raises(LabdeckError) as info:
        client.wait_for_cluster(cluster["id"], timeout=0.2, interval=0.02)
    assert info.value.code == "timeout"
    assert "still starting after 0.2 s (Starting the master)" in str(info.value)


def test_terminate(client, service):
    cluster = client.create_cluster("etl")
    assert client.terminate_cluster(cluster["id"]) is None
    assert ("DELETE", f"clusters/{cluster['id']}") in service.requests
    with pytest.raises(LabdeckError) as info:
        client.wait_for_cluster(cluster["id"], timeout=1)
    assert (info.value.code, str(info.value)) == ("cluster_terminated", "Terminated by its owner.")


def test_connect_sparkmagic_writes_the_config(client, service, sparkmagic_dir):
    service.clusters["c-00000abc"] = make_cluster("c-00000abc", "etl")
    result = client.connect_sparkmagic("c-00000abc")
    livy = f"{service.url}api/v1/clusters/c-00000abc/livy"
    assert result == {
        "cluster": {"id": "c-00000abc", "name": "etl"},
        "config_path": str(sparkmagic_dir / "config.json"),
        "livy_url": livy,
        "kernel": "pysparkkernel",
    }
    config = json.loads((sparkmagic_dir / "config.json").read_text())
    assert config["labdeck_cluster"] == {"id": "c-00000abc", "name": "etl"}
    assert config["kernel_python_credentials"]["url"] == livy
    assert config["custom_headers"] == {"Authorization": f"token {TOKEN}"}
    assert (sparkmagic_dir / "config.json").stat().st_mode & 0o777 == 0o600


def test_connect_refuses_a_cluster_that_does_not_run(client, service, sparkmagic_dir):
    service.clusters["c-1"] = make_cluster("c-1", "etl", state="TERMINATED")
    with pytest.raises(LabdeckError) as info:
        client.connect_sparkmagic("c-1")
    assert (info.value.status, str(info.value)) == (
        409,
        "Cluster etl is terminated: connect when it runs.",
    )
    assert not (sparkmagic_dir / "config.json").exists()


# -- the widget's decisions ---------------------------------------------------------------


def test_widget_helpers():
    clusters = [
        make_cluster("c-2", "b", state="STARTING"),
        make_cluster("c-1", "spark-1"),
        make_cluster("c-0", "spark-2", state="TERMINATED"),
    ]
    assert running_options(clusters) == [("spark-1 (c-1) · 1 worker, 1 core each", "c-1")]
    assert suggest_name(clusters) == "spark-2"
    assert progress_values({"progress": {"step": "Waiting", "done": 1, "total": 3}}) == (
        1,
        3,
        "Waiting (1 of 3)",
    )
    assert progress_values({"progress": None}) == (0, 1, "Starting (0 of 1)")
    message = connected_message(
        {"cluster": {"id": "c-1", "name": "<etl>"}, "kernel": "pysparkkernel"}
    )
    assert "<b>&lt;etl&gt;</b>" in message and "pysparkkernel" in message


# -- the widget --------------------------------------------------------------------------


def test_picker_connects_the_chosen_cluster(client, service, sparkmagic_dir):
    service.clusters["c-1"] = make_cluster("c-1", "first")
    service.clusters["c-2"] = make_cluster("c-2", "second")
    service.clusters["c-3"] = make_cluster("c-3", "starting", state="STARTING")
    picker = ClusterPicker(client=client, background=False)
    assert [value for _, value in picker.dropdown.options] == ["c-2", "c-1"]
    assert picker.status.value == "2 running clusters."

    picker.dropdown.value = "c-1"
    picker.connect_button.click()
    config = json.loads((sparkmagic_dir / "config.json").read_text())
    assert config["labdeck_cluster"] == {"id": "c-1", "name": "first"}
    assert config["kernel_python_credentials"]["url"].endswith("/clusters/c-1/livy")
    assert "Connected to <b>first</b>" in picker.status.value
    assert "pysparkkernel" in picker.status.value


def test_picker_without_clusters(client, service, sparkmagic_dir):
    picker = ClusterPicker(client=client, background=False)
    assert picker.dropdown.options == ()
    assert picker.connect_button.disabled
    assert picker.connect() is None
    assert "Choose a running cluster first" in picker.status.value
    assert not (sparkmagic_dir / "config.json").exists()


def test_picker_creates_and_follows_the_start(client, service, sparkmagic_dir):
    picker = ClusterPicker(client=client, background=False, poll_interval=0.01)
    steps = []
    picker.step.observe(lambda change: steps.append(change["new"]), "value")
    picker.name.value = "etl"
    picker.workers.value = 2
    picker.memory.value = "2g"
    picker.create_button.click()

    assert service.created[0] == {
        "name": "etl",
        "workers": 2,
        "worker_cores": 1,
        "worker_memory": "2g",
        "idle_timeout_seconds": 3600,
    }
    assert steps[:3] == [
        "Queued (0 of 2)",
        "Starting the master (0 of 2)",
        "Waiting for workers to register (1 of 2)",
    ]
    cid = next(iter(service.clusters))
    assert picker.dropdown.value == cid
    assert picker.progress.layout.display == "none"
    assert not picker.create_button.disabled
    assert "etl is running" in picker.status.value
    assert picker.name.value == "spark-1"

    picker.connect_button.click()
    config = json.loads((sparkmagic_dir / "config.json").read_text())
    assert config["labdeck_cluster"] == {"id": cid, "name": "etl"}


def test_picker_create_in_background(client, service):
    picker = ClusterPicker(client=client, poll_interval=0.01)
    picker.create_button.click()
    assert picker.create_button.disabled
    picker.join(10)
    assert not picker.create_button.disabled
    assert picker.dropdown.value == next(iter(service.clusters))


def test_picker_shows_refusals_and_failures(client, service):
    picker = ClusterPicker(client=client, background=False, poll_interval=0.01)
    picker.workers.value = 5
    picker.create_button.click()
    assert "Not started: this cluster needs 5 workers" in picker.status.value
    assert not picker.create_button.disabled

    service.fail_reason = "The master did not start: port in use."
    picker.workers.value = 1
    picker.create_button.click()
    assert "The master did not start: port in use." in picker.status.value
    assert picker.progress.layout.display == "none"
    assert not picker.create_button.disabled
