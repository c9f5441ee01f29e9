"""Helpers for tests that run real Spark clusters through the labdeck service."""

from pathlib import Path

from labdeck_process import wait_for

SMALL = {"workers": 1, "worker_cores": 1, "worker_memory": "512m"}


def create_cluster(labdeck, token, name="test", **spec):
    response = labdeck.service(
        "POST", "/clusters", token=token, json={"name": name, **SMALL, **spec}
    )
    assert response.status_code == 201, response.text
    return response.json()


def wait_state(labdeck, token, cluster_id, states=("RUNNING",), timeout=120):
    def reached():
        cluster = labdeck.service("GET", f"/clusters/{cluster_id}", token=token).json()
        if cluster["state"] in ("FAILED",) and "FAILED" not in states:
            raise AssertionError(f"cluster failed: {cluster['state_reason']}")
        return cluster if cluster["state"] in states else None

    return wait_for(reached, timeout, 0.3, f"cluster {cluster_id} to be {states}")


def processes_named(text: str) -> set[int]:
    """Live processes whose command line contains text (a cluster id, a driver)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


def livy_session(labdeck, token, cluster_id, timeout=180, **body):
    base = f"/clusters/{cluster_id}/livy/sessions"
    response = labdeck.service("POST", base, token=token, json={"kind": "pyspark", **body})
    assert response.status_code == 201, response.text
    session_id = response.json()["id"]

    def idle():
        state = labdeck.service("GET", f"{base}/{session_id}", token=token).json()["state"]
        assert state in ("starting", "idle", "busy"), state
        return state == "idle"

    wait_for(idle, timeout, 0.5, "the Livy session to be idle")
    return session_id


def run_statement(labdeck, token, cluster_id, session_id, code, timeout=120, kind=None):
    """Run a statement (of the session's kind, or `kind`); returns it once it ended."""
    base = f"/clusters/{cluster_id}/livy/sessions/{session_id}/statements"
    body = {"code": code, **({"kind": kind} if kind else {})}
    response = labdeck.service("POST", base, token=token, json=body)
    assert response.status_code == 201, response.text
    statement_id = response.json()["id"]

    def done():
        statement = labdeck.service("GET", f"{base}/{statement_id}", token=token).json()
        return statement if statement["state"] in ("available", "cancelled", "error") else None

    return wait_for(done, timeout, 0.2, "the statement to finish")
