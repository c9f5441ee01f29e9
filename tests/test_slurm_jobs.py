"""Training jobs on a real Slurm (munged, slurmctld, slurmd from slurm_support.py): a hub
whose jobs backend is `slurm` submits each job with sbatch as its owner's account. Its
log and metrics are live in the API, its end comes from the runner or from Slurm, stop
is scancel, a job waits in Slurm's queue with Slurm's reason, and a service crash
re-adopts it."""

import asyncio
import os
import secrets
import signal
from pathlib import Path

import pytest
from conftest import FAST_CONFIG
from jobs_support import GATED, account, home, job, write_file
from labdeck.net import free_port
from labdeck.slurm import Slurm, SlurmError, SlurmSettings, SlurmUnavailable
from labdeck_process import Labdeck, remove_tree, traversable_dir, wait_for
from test_jobs import logs, metrics, processes_running, wait_state

MEMORY = "256M"


@pytest.fixture(scope="module")
def hub(slurm):
    """A labdeck of this module's own, its jobs on the test cluster, with profiles that
    fit its node: `small` (1 core), `wide` (every core: two cannot run at once) and
    `huge` (more cores than the node has)."""
    profiles = f"""
c.RuntimeProfiles.profiles = [
    {{"name": "small", "display_name": "Small", "cpu_limit": 1, "mem_limit": "{MEMORY}"}},
    {{"name": "wide", "display_name": "Wide", "cpu_limit": {slurm.cpus},
      "mem_limit": "{MEMORY}"}},
    {{"name": "huge", "display_name": "Huge", "cpu_limit": {slurm.cpus * 32}}},
]
"""
    parent = traversable_dir()
    instance = Labdeck(
        parent / "state", config=FAST_CONFIG + slurm.labdeck_config() + profiles
    ).start()
    yield instance
    assert instance.stop() == 0, instance.log()
    remove_tree(parent)


@pytest.fixture
def owner(hub):
    """A user of the module's hub (a unique name: OS accounts outlive hubs) whose account
    and home exist."""
    name = f"slurm{secrets.token_hex(3)}"
    token = hub.create_user(name)
    response = hub.service("POST", "/jobs", token=token, json={"script": "missing.py"})
    assert response.status_code == 400, response.text
    return name, token


def submit(hub, token, **body) -> dict:
    body.setdefault("profile", "small")
    return hub.service_json("POST", "/jobs", token, 201, json=body)


def slurm_job(slurm, job_id: str) -> dict[str, str]:
    """What Slurm says of a labdeck job (found by its name in Slurm)."""
    ((slurm_id, *_),) = slurm.squeue("-t", "all", f"--name=labdeck-{job_id}")
    return slurm.job(slurm_id)


def test_a_job_runs_on_slurm_as_its_owner_with_live_log_and_metrics(hub, slurm, owner):
    name, token = owner
    write_file(hub, name, "train/train.py", GATED)
    started = submit(
        hub,
        token,
        script="train/train.py",
        working_dir="train",
        max_runtime_seconds=600,
        metric_definitions=[{"name": "loss", "regex": r"loss=([0-9.]+)"}],
    )
    wait_state(hub, token, started["id"], ("RUNNING",))
    wait_for(lambda: "epoch 2" in logs(hub, token, started["id"])["text"], 30, 0.2, "output")
    points = metrics(hub, token, started["id"])["points"]
    assert [p["values"]["loss"] for p in points if p["source"] == "log"] == [1.0, 0.5, 0.3333]
    assert job(hub, token, started["id"])["state"] == "RUNNING"
    # Slurm runs it as the owner's account, with the profile's core, memory and runtime
    user = account(name).pw_name
    ((_, state, _, slurm_user),) = slurm.squeue("-t", "all", f"--name=labdeck-{started['id']}")
    assert (state, slurm_user) == ("RUNNING", user)
    details = slurm_job(slurm, started["id"])
    assert details["UserId"].startswith(f"{user}(") and details["CPUs/Task"] == "1"
    assert details["MinMemoryNode"] == MEMORY and details["TimeLimit"] == "00:11:00"
    assert details["WorkDir"] == str(home(hub, name) / "train")

    write_file(hub, name, "train/go", "")
    done = wait_state(hub, token, started["id"], timeout=60)
    assert done["state"] == "COMPLETED", done
    assert logs(hub, token, done["id"])["text"].rstrip().endswith("finished")
    final = slurm_job(slurm, done["id"])
    assert (final["JobState"], final["ExitCode"]) == ("COMPLETED", "0:0")
    folder = home(hub, name) / "labdeck" / "jobs" / done["id"]
    assert folder.stat().st_uid == account(name).pw_uid
    (entry,) = hub.service("GET", f"/ledger?user={name}&kind=job").json()
    assert entry["resource_id"] == done["id"] and entry["ended"] is not None


def test_a_failing_job_fails_with_its_exit_code(hub, slurm, owner):
    name, token = owner
    write_file(hub, name, "fail.py", "import sys\nprint('about to fail')\nsys.exit(3)\n")
    done = wait_state(hub, token, submit(hub, token, script="fail.py")["id"], timeout=60)
    assert done["state"] == "FAILED" and "exit code 3" in done["state_reason"], done
    assert "about to fail" in logs(hub, token, done["id"])["text"]
    final = slurm_job(slurm, done["id"])
    assert (final["JobState"], final["ExitCode"]) == ("FAILED", "3:0")


def test_stop_cancels_the_slurm_job_and_leaves_no_process(hub, slurm, owner):
    name, token = owner
    script = write_file(hub, name, "stop.py", GATED)
    started = submit(hub, token, script="stop.py")
    wait_state(hub, token, started["id"], ("RUNNING",))
    wait_for(lambda: processes_running(script), 30, 0.1, "the script to run")
    response = hub.service("POST", f"/jobs/{started['id']}/stop", token=token)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "STOPPED"
    assert response.json()["state_reason"] == "Stopped by its owner."
    assert processes_running(script) == set()
    assert slurm_job(slurm, started["id"])["JobState"] == "CANCELLED"


def test_max_runtime_fails_the_job_and_cancels_it(hub, slurm, owner):
    name, token = owner
    script = write_file(hub, name, "long.py", "import time\ntime.sleep(300)\n")
    started = submit(hub, token, script="long.py", max_runtime_seconds=3)
    wait_for(lambda: processes_running(script), 30, 0.1, "the script to run")
    done = wait_state(hub, token, started["id"], timeout=30)
    assert done["state"] == "FAILED" and "Max runtime exceeded" in done["state_reason"], done
    assert processes_running(script) == set()
    final = slurm_job(slurm, started["id"])
    # Slurm's own limit (whole minutes, with a grace) is the second line of defence
    assert final["JobState"] == "CANCELLED" and final["TimeLimit"] == "00:02:00"


def test_a_job_waits_in_slurms_queue_with_its_reason(hub, slurm, owner):
    name, token = owner
    for folder in ("first", "second"):
        write_file(hub, name, f"{folder}/train.py", GATED)
    first = submit(hub, token, script="first/train.py", working_dir="first", profile="wide")
    wait_state(hub, token, first["id"], ("RUNNING",))
    second = submit(hub, token, script="second/train.py", working_dir="second", profile="wide")
    waiting = "Waiting in Slurm's queue: Resources"
    wait_for(
        lambda: job(hub, token, second["id"])["state_reason"] == waiting,
        30,
        0.2,
        "the second job to wait for resources",
    )
    assert job(hub, token, second["id"])["state"] == "PENDING"
    ((_, state, reason, _),) = slurm.squeue(f"--name=labdeck-{second['id']}")
    assert (state, reason) == ("PENDING", "Resources")
    # a service crash meanwhile: the waiting job keeps its place in Slurm's queue (it is
    # not submitted again), and the restarted service goes on waiting for it
    hub.crash_service()
    assert job(hub, token, first["id"])["state"] == "RUNNING"
    assert job(hub, token, second["id"])["state"] == "PENDING"
    assert len(slurm.squeue(f"--name=labdeck-{second['id']}")) == 1

    write_file(hub, name, "first/go", "")
    assert wait_state(hub, token, first["id"], timeout=60)["state"] == "COMPLETED"
    running = wait_state(hub, token, second["id"], ("RUNNING",), timeout=60)
    assert running["state_reason"] is None, running
    write_file(hub, name, "second/go", "")
    assert wait_state(hub, token, second["id"], timeout=60)["state"] == "COMPLETED"


def runner_of(job_id: str) -> int | None:
    """The pid of a job's runner (its environment names the job)."""
    marker = f"LABDECK_JOB_ID={job_id}".encode()
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and b"labdeck.jobs.runner" in (entry / "cmdline").read_bytes()
                and marker in (entry / "environ").read_bytes().split(b"\0")
            ):
                return int(entry.name)
        except OSError:
            continue
    return None


def test_a_runner_killed_before_its_record_ends_with_slurms_word(hub, slurm, owner):
    name, token = owner
    script = write_file(hub, name, "killed.py", GATED)
    started = submit(hub, token, script="killed.py")
    wait_for(lambda: processes_running(script), 30, 0.1, "the script to run")
    os.kill(wait_for(lambda: runner_of(started["id"]), 10, 0.1, "the runner"), signal.SIGKILL)
    done = wait_state(hub, token, started["id"], timeout=30)
    assert done["state"] == "FAILED", done
    assert done["state_reason"] == "Killed by signal SIGKILL in Slurm.", done
    assert not (home(hub, name) / "labdeck" / "jobs" / done["id"] / "exit.json").exists()
    # the job dies with its runner, and Slurm ends the rest of the batch script's step
    wait_for(lambda: not processes_running(script), 15, 0.1, "the script to end")
    assert slurm_job(slurm, done["id"])["JobState"] == "FAILED"


def test_a_job_slurm_cannot_place_fails_with_slurms_word(hub, owner):
    name, token = owner
    write_file(hub, name, "huge.py", "print('never')\n")
    done = wait_state(hub, token, submit(hub, token, script="huge.py", profile="huge")["id"])
    assert done["state"] == "FAILED", done
    assert done["state_reason"].startswith("Slurm did not take the job. Slurm said: "), done
    assert "More processors requested than permitted" in done["state_reason"], done


def test_a_service_crash_re_adopts_a_running_slurm_job(hub, slurm, owner):
    name, token = owner
    write_file(hub, name, "restart/train.py", GATED)
    started = submit(hub, token, script="restart/train.py", working_dir="restart")
    wait_state(hub, token, started["id"], ("RUNNING",))
    wait_for(lambda: "epoch 2" in logs(hub, token, started["id"])["text"], 30, 0.2, "output")
    hub.crash_service()
    assert job(hub, token, started["id"])["state"] == "RUNNING"
    write_file(hub, name, "restart/go", "")
    done = wait_state(hub, token, started["id"], timeout=60)
    assert done["state"] == "COMPLETED", done
    text = logs(hub, token, done["id"])["text"]
    assert text.startswith("starting") and text.rstrip().endswith("finished")
    # the same Slurm job all along: nothing was submitted again
    assert len(slurm.squeue("-t", "all", f"--name=labdeck-{started['id']}")) == 1


def test_slurm_commands_say_clearly_when_slurm_does_not_answer(slurm, tmp_path):
    async def check():
        settings = SlurmSettings(slurm_conf=str(slurm.conf), command_timeout_seconds=20)
        live = Slurm(settings)
        assert "is UP" in await live.ping()
        assert {node["name"] for node in await live.nodes()} == {slurm.node}
        assert await live.queued("999999") is None and await live.details("999999") is None

        missing = Slurm(SlurmSettings(bin_dir=str(tmp_path)))
        with pytest.raises(SlurmUnavailable, match="cannot run here"):
            await missing.ping()

        # a cluster whose controller is not there
        conf = tmp_path / "slurm.conf"
        conf.write_text(
            "\n".join(
                f"SlurmctldPort={free_port()}" if line.startswith("SlurmctldPort") else line
                for line in slurm.conf.read_text().splitlines()
            )
        )
        down = Slurm(SlurmSettings(slurm_conf=str(conf), command_timeout_seconds=2))
        with pytest.raises(SlurmUnavailable, match=r"does not answer \(scontrol ping: .* DOWN"):
            await down.ping()
        # sbatch keeps trying for a while: the timeout says it
        with pytest.raises(SlurmUnavailable, match=r"does not answer \(sbatch: no reply"):
            await down.submit("#!/bin/sh\ntrue\n")
        # a request Slurm refuses is a SlurmError saying why
        with pytest.raises(SlurmError, match="More processors requested than permitted"):
            await live.submit("#!/bin/sh\ntrue\n", [f"--cpus-per-task={slurm.cpus * 32}"])

    asyncio.run(check())
