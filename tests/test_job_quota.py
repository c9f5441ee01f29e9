"""Training jobs against the runtime profiles' quotas, with real processes and labs: a
job's time is spent from its profile's daily budget with the user's sessions, it is
refused or stopped when that runs out, and GPU jobs wait in the sessions' GPU queue."""

import secrets
from datetime import datetime

from jobs_support import GATED, job, submit, write_file
from labdeck_process import server_environment, wait_for

ENDED = ("COMPLETED", "FAILED", "STOPPED")
# prints what a job is given of the machine, then waits for the test
SHOW_DEVICES = """
import os, time
print("devices=" + os.environ["CUDA_VISIBLE_DEVICES"], os.environ["NVIDIA_VISIBLE_DEVICES"],
      os.environ["LABDECK_PROFILE"], os.environ["LABDECK_JOB_ID"], flush=True)
while not os.path.exists("go"):
    time.sleep(0.05)
"""


def wait_job(labdeck, token, job_id, check, what, timeout=30) -> dict:
    """The job, once check(job) holds."""

    def found():
        current = job(labdeck, token, job_id)
        return current if check(current) else None

    return wait_for(found, timeout, 0.1, what)


def log_text(labdeck, token, job_id) -> str:
    return labdeck.service("GET", f"/jobs/{job_id}/logs", token=token).json()["text"]


def me(labdeck, token) -> dict:
    return labdeck.service("GET", "/me", token=token).json()


def at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_a_jobs_time_is_spent_from_its_profile_and_it_stops_when_none_is_left(labdeck, owner):
    name, token = owner
    write_file(labdeck, name, "budget/train.py", SHOW_DEVICES)
    started = submit(labdeck, token, script="budget/train.py", working_dir="budget")
    running = wait_job(labdeck, token, started["id"], lambda j: j["state"] == "RUNNING", "run")
    # a CPU job sees no GPU, and its time is the profile's, in the user's usage
    wait_for(lambda: "devices=" in log_text(labdeck, token, started["id"]), 20, 0.1, "output")
    shown = log_text(labdeck, token, started["id"]).split()
    assert shown[:4] == ["devices=", "void", "cpu", started["id"]]
    # no GPU; 8 h a day by default: a deadline from the moment it shows RUNNING
    assert running["gpus"] == [] and running["deadline_reason"] == "daily_budget"
    used = wait_for(lambda: me(labdeck, token)["usage"]["cpu"]["used_seconds"] or None, 10)

    # an admin leaves 2 s of CPU time: the job is stopped when they are spent
    labdeck.set_quota(name, {"cpu": {"daily_seconds": used + 2}})
    stopped = wait_job(labdeck, token, started["id"], lambda j: j["state"] in ENDED, "a stop")
    assert stopped["state"] == "FAILED"
    budget = used + 2
    assert stopped["state_reason"].startswith(
        f"CPU time used up for today: {budget} s of {budget} s."
    )
    assert stopped["state_reason"].endswith("Stopped automatically.")
    (entry,) = labdeck.service("GET", f"/ledger?user={name}&kind=job").json()
    assert entry["end_reason"] == "daily_budget"
    assert at(entry["ended"]) - at(entry["deadline"]) < 3

    # nothing more runs on the profile today: a job or a lab is refused, and nothing starts
    refused = labdeck.service("POST", "/jobs", token=token, json={"script": "budget/train.py"})
    assert refused.status_code == 403 and refused.json()["error"] == "quota_exceeded"
    assert refused.json()["message"].startswith("CPU time used up for today:")
    spawn = labdeck.spawn(name)
    assert spawn.status_code == 403 and "CPU time used up" in spawn.json()["message"]
    assert [j["id"] for j in labdeck.service("GET", "/jobs", token=token).json()] == [started["id"]]
    # GPU time is another budget
    assert me(labdeck, token)["usage"]["gpu"]["used_seconds"] == 0


def test_a_session_and_a_job_spend_the_budget_together(labdeck, owner):
    name, token = owner
    labdeck.set_quota(name, {"cpu": {"daily_seconds": 3600, "session_seconds": None}})
    labdeck.start_server(name)
    alone = at(me(labdeck, token)["session"]["deadline"])
    assert me(labdeck, token)["session"]["deadline_reason"] == "daily_budget"

    write_file(labdeck, name, "together/train.py", GATED)
    started = submit(labdeck, token, script="together/train.py", working_dir="together")
    wait_job(labdeck, token, started["id"], lambda j: j["deadline"], "the job's deadline")

    # two things run on the profile: the hour left lasts half as long, for both
    def moved():
        session = me(labdeck, token)["session"]
        return session if alone - at(session["deadline"]) > 1000 else None

    session = wait_for(moved, 10, 0.1, "the session's deadline to move")
    running = job(labdeck, token, started["id"])
    assert abs(at(running["deadline"]) - at(session["deadline"])) < 2
    assert 1500 < at(running["deadline"]) - at(running["started"]) < 1900
    assert running["deadline_reason"] == "daily_budget"

    # the job ends: the session has the rest to itself again
    write_file(labdeck, name, "together/go", "")
    wait_job(labdeck, token, started["id"], lambda j: j["state"] == "COMPLETED", "the end")
    wait_for(
        lambda: at(me(labdeck, token)["session"]["deadline"]) - at(session["deadline"]) > 1000,
        10,
        0.1,
        "the session's deadline to move back",
    )
    labdeck.stop_server(name)


def test_gpu_jobs_wait_in_the_sessions_queue_and_hold_their_devices(fresh):
    labdeck = fresh(extra_args=["--gpus", "0"])  # one GPU
    # names of their own: OS accounts outlive hubs, and other tests' hubs make theirs
    student, other = (f"{who}{secrets.token_hex(3)}" for who in ("student", "other"))
    student_token, other_token = labdeck.create_user(student), labdeck.create_user(other)
    labdeck.start_server(student, profile="gpu")
    assert server_environment(labdeck, student)["CUDA_VISIBLE_DEVICES"] == "0"

    # the GPU is the session's: the job waits in line, and says so
    response = labdeck.service("POST", "/jobs", token=student_token, json={"script": "x.py"})
    assert response.status_code == 400  # (a first request makes the account and home)
    write_file(labdeck, student, "gpu/train.py", SHOW_DEVICES)
    started = submit(
        labdeck, student_token, script="gpu/train.py", working_dir="gpu", profile="gpu"
    )
    pending = wait_job(
        labdeck, student_token, started["id"], lambda j: j["state_reason"], "its reason"
    )
    assert pending["state"] == "PENDING"
    assert pending["state_reason"] == "Waiting for a GPU: number 1 in the queue of 1 GPU(s)."

    # a service restart keeps its place
    labdeck.crash_service()
    assert job(labdeck, student_token, started["id"])["state"] == "PENDING"

    # the session ends: the job gets its GPU, and only that one
    labdeck.stop_server(student)
    running = wait_job(
        labdeck, student_token, started["id"], lambda j: j["state"] == "RUNNING", "the GPU"
    )
    assert running["gpus"] == ["0"] and running["state_reason"] is None
    wait_for(lambda: "devices=" in log_text(labdeck, student_token, started["id"]), 20, 0.1)
    shown = log_text(labdeck, student_token, started["id"]).split()
    assert shown[:3] == ["devices=0", "0", "gpu"]

    # now a session waits for the job's GPU
    assert labdeck.spawn(other, "gpu").status_code == 202
    wait_for(lambda: me(labdeck, other_token)["queue"] == {"position": 1}, 30, 0.2, "a queue")
    write_file(labdeck, student, "gpu/go", "")
    wait_job(labdeck, student_token, started["id"], lambda j: j["state"] == "COMPLETED", "the end")
    labdeck.wait_ready(other)
    assert server_environment(labdeck, other)["CUDA_VISIBLE_DEVICES"] == "0"
    (entry,) = labdeck.service("GET", f"/ledger?user={student}&kind=job").json()
    assert entry["gpus"] == ["0"] and entry["profile"] == "gpu"
    labdeck.stop_server(other)
