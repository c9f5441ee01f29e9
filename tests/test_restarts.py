"""Nothing is lost: usage, deadlines and GPUs survive restarts of the hub and the service."""

import os
import signal
import time
from datetime import datetime

from conftest import FAST_CONFIG
from labdeck_process import server_environment, wait_for


def ledger(labdeck, name):
    return labdeck.service("GET", f"/sessions?user={name}").json()


def service_pid(labdeck) -> int | None:
    for pid in labdeck.processes():
        try:
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if b"labdeck.service" in cmdline:
            return pid
    return None  # between a crash and the hub's restart


def test_a_hub_restart_in_the_middle_of_a_session_keeps_its_usage(fresh):
    first = fresh(config=FAST_CONFIG)
    token = first.create_user("eve")
    first.start_server("eve")
    started = datetime.fromisoformat(ledger(first, "eve")[0]["started"])
    wait_for(lambda: time.time() - started.timestamp() >= 3, 10, message="3 s of use")
    stopped_at = time.time()
    assert first.stop() == 0

    second = fresh(port=first.port, config=FAST_CONFIG)
    entry = ledger(second, "eve")[0]
    assert entry["end_reason"] == "hub_shutdown"
    ran = datetime.fromisoformat(entry["ended"]).timestamp() - started.timestamp()
    # recorded as the hub stopped the lab, before the service (a few seconds at most)
    assert 3 <= ran <= stopped_at - started.timestamp() + 10
    usage = second.service("GET", "/me", token=token).json()["usage"]["cpu"]
    assert usage["used_seconds"] >= 3


def test_a_service_restart_keeps_deadlines_and_gpus(fresh):
    labdeck = fresh(config=FAST_CONFIG, extra_args=["--gpus", "7"])
    token = labdeck.create_user("fay")
    labdeck.create_user("gus")
    labdeck.start_server("fay", profile="gpu")
    assert server_environment(labdeck, "fay")["CUDA_VISIBLE_DEVICES"] == "7"

    old = service_pid(labdeck)
    assert old
    os.kill(old, signal.SIGKILL)  # the hub restarts its managed service
    wait_for(
        lambda: (
            service_pid(labdeck) != old
            and labdeck.service("GET", "/me", token=token).status_code == 200
        ),
        60,
        0.2,
        "the service to come back",
    )
    me = labdeck.service("GET", "/me", token=token).json()
    assert me["session"]["gpus"] == ["7"]  # still fay's, still open
    # the GPU is still taken: gus waits
    assert labdeck.spawn("gus", "gpu").status_code == 202

    # and the deadline still fires
    elapsed = int(time.time() - datetime.fromisoformat(me["session"]["started"]).timestamp())
    labdeck.set_quota("fay", {"gpu": {"session_seconds": elapsed + 2}})
    labdeck.wait_stopped("fay", timeout=30)
    assert ledger(labdeck, "fay")[0]["end_reason"] == "session_limit"
    labdeck.wait_ready("gus")  # the freed GPU went to the queue
    assert server_environment(labdeck, "gus")["CUDA_VISIBLE_DEVICES"] == "7"
