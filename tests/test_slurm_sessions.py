"""Lab sessions on a real Slurm (slurm_support.py): `labdeck up --backend slurm` spawns
each lab as a Slurm job of the user's own account through batchspawner, with labdeck's
quota, ledger and deadline around it; a lab that waits in Slurm's queue says why and
where on the spawn page; `labdeck doctor --backend slurm` checks munge and the
controller."""

import json
import secrets
import shutil
from pathlib import Path

import pytest
import requests
from conftest import FAST_CONFIG
from jobs_support import account
from labdeck_process import (
    Labdeck,
    descendants,
    remove_tree,
    run_labdeck,
    traversable_dir,
    wait_for,
)

MEMORY = "512M"
BRIEF_SECONDS = 12


@pytest.fixture(scope="module")
def hub(slurm):
    """A labdeck on the test cluster, with runtimes that fit its node: `small` (1 core)
    and `wide` (every core: it cannot start beside another lab)."""
    profiles = f"""
c.RuntimeProfiles.profiles = [
    {{"name": "small", "display_name": "Small", "cpu_limit": 1, "mem_limit": "{MEMORY}"}},
    {{"name": "wide", "display_name": "Wide", "cpu_limit": {slurm.cpus},
      "mem_limit": "{MEMORY}"}},
    {{"name": "brief", "display_name": "Brief", "cpu_limit": 1, "mem_limit": "{MEMORY}"}},
]
c.QuotaPolicy.default_quota = {{"small": {{"session_seconds": 3600}},
                               "wide": {{"session_seconds": 3600}},
                               "brief": {{"session_seconds": {BRIEF_SECONDS}}}}}
c.LabdeckSlurmSpawner.queue_poll_seconds = 0.5
c.LabdeckSlurmSpawner.startup_poll_interval = 0.2
"""
    parent = traversable_dir()
    instance = Labdeck(
        parent / "state",
        extra_args=["--backend", "slurm"],
        config=FAST_CONFIG + slurm.labdeck_config() + profiles,
    ).start()
    yield instance
    assert instance.stop() == 0, instance.log()
    remove_tree(parent)


def user(hub) -> tuple[str, str]:
    """A new user of the module's hub (unique: OS accounts outlive hubs)."""
    name = f"slab{secrets.token_hex(3)}"
    return name, hub.create_user(name)


def lab_job(slurm, name: str) -> list[str] | None:
    """(id, state, reason, user) of the user's lab job in Slurm, if there is one."""
    rows = [row for row in slurm.squeue("-t", "all") if row[3] == account(name).pw_name]
    return rows[-1] if rows else None


def ledger(hub, name: str) -> list[dict]:
    return hub.service("GET", f"/ledger?user={name}&kind=session").json()


def test_a_lab_runs_as_a_slurm_job_of_its_owner_within_the_quota(hub, slurm):
    name, token = user(hub)
    hub.start_server(name, profile="small")
    job_id, state, _, owner = lab_job(slurm, name)
    assert (state, owner) == ("RUNNING", account(name).pw_name)
    details = slurm.job(job_id)
    # the profile's request, and the session limit (+ margin) as Slurm's time limit
    assert details["NumCPUs"] == "1"
    assert details["MinMemoryNode"] == MEMORY
    assert details["TimeLimit"] == "01:05:00"
    # the lab answers through the hub, as its owner
    answer = hub.request("GET", f"/user/{name}/api/status", token=token)
    assert answer.status_code == 200, answer.text
    open_entries = [e for e in ledger(hub, name) if e["ended"] is None]
    assert [e["profile"] for e in open_entries] == ["small"]

    hub.stop_server(name)
    wait_for(lambda: lab_job(slurm, name)[1] != "RUNNING", 30, 0.2, "Slurm to end the job")
    assert lab_job(slurm, name)[1] in ("CANCELLED", "COMPLETED")
    (entry,) = ledger(hub, name)
    assert entry["ended"] is not None and entry["end_reason"] == "user"


def test_labdecks_deadline_stops_a_lab_on_slurm(hub, slurm):
    """The service stops the session at its limit through the hub's API: scancel."""
    name, _ = user(hub)
    hub.start_server(name, profile="brief")
    job_id = lab_job(slurm, name)[0]
    hub.wait_stopped(name, BRIEF_SECONDS + 30)
    (entry,) = ledger(hub, name)
    assert entry["end_reason"] == "session_limit", entry
    wait_for(lambda: slurm.job(job_id)["JobState"] != "RUNNING", 30, 0.2, "the job to end")
    assert slurm.job(job_id)["JobState"] in ("CANCELLED", "COMPLETED")


def test_a_lab_waiting_in_slurms_queue_says_why_and_where(hub, slurm):
    first, _ = user(hub)
    second, _ = user(hub)
    hub.start_server(first, profile="small")
    assert hub.spawn(second, profile="wide").status_code == 202
    waiting = wait_for(
        lambda: (job := lab_job(slurm, second)) and job[1] == "PENDING" and job,
        30,
        0.2,
        "the second lab to wait in Slurm's queue",
    )
    assert waiting[2] == "Resources"
    messages = progress_messages(hub, second, "waiting for resources")
    assert f"Slurm job {waiting[0]} is waiting for resources, position 1 in partition main." in (
        messages
    )
    # the first lab's cores come back: the second starts
    hub.stop_server(first)
    hub.wait_ready(second, 60)
    assert lab_job(slurm, second)[1] == "RUNNING"
    hub.stop_server(second)


def hub_api_url(hub) -> str:
    """The hub's own address (its event streams are read there: the proxy in front
    buffers whole responses, and a pending spawn's stream does not end)."""
    for pid in descendants(hub.proc.pid):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        port = next(
            (e[len(b"LABDECK_HUB_PORT=") :] for e in environ if e.startswith(b"LABDECK_HUB_PORT=")),
            None,
        )
        if port:
            return f"http://127.0.0.1:{int(port)}"
    raise AssertionError("no hub process found")


def progress_messages(hub, name: str, until: str) -> list[str]:
    """The spawn page's progress messages (the hub's event stream), up to one saying
    `until`."""
    seen = []
    with requests.get(
        f"{hub_api_url(hub)}/hub/api/users/{name}/server/progress",
        headers={"Authorization": f"token {hub.admin_token}"},
        stream=True,
        timeout=60,
    ) as stream:
        for line in stream.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                seen.append(json.loads(line[5:])["message"])
                if until in seen[-1]:
                    break
    return seen


def test_doctor_checks_munge_and_the_controller(slurm, tmp_path):
    answered = run_labdeck("doctor", "--backend", "slurm", "--port", "0", env=slurm.env)
    lines = {line.split()[1]: line for line in answered.stdout.splitlines() if line.strip()}
    assert lines["munge"].split()[0] == "ok", answered.stdout
    assert lines["slurm"].split()[0] == "ok", answered.stdout
    # a slurm.conf naming a controller that is not there
    elsewhere = tmp_path / "slurm.conf"
    shutil.copy(slurm.conf, elsewhere)
    text = elsewhere.read_text()
    port = next(line for line in text.splitlines() if line.startswith("SlurmctldPort="))
    elsewhere.write_text(text.replace(port, "SlurmctldPort=1"))
    down = run_labdeck(
        "doctor",
        "--backend",
        "slurm",
        "--port",
        "0",
        env={**slurm.env, "SLURM_CONF": str(elsewhere)},
    )
    assert down.returncode == 1
    assert any(
        line.split()[:2] == ["MISSING", "slurm"] for line in down.stdout.splitlines() if line
    ), down.stdout
