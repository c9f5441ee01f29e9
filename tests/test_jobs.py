"""Training jobs with real processes: run as the owner's account in a cgroup, their end
is their exit, logs and metrics (regex and `labdeck.metrics.log`) while they run, stop,
maximum run time, who may see them, bad requests, and a service restart."""

import json
import os
import threading
import time
from pathlib import Path

import nbformat
from jobs_support import GATED, account, home, job, submit, write_file
from labdeck_process import wait_for

ENDED = ("COMPLETED", "FAILED", "STOPPED")


def wait_state(labdeck, token, job_id, states=ENDED, timeout=30) -> dict:
    wait_for(
        lambda: job(labdeck, token, job_id)["state"] in states, timeout, 0.1, f"{job_id} {states}"
    )
    return job(labdeck, token, job_id)


def logs(labdeck, token, job_id, offset=0) -> dict:
    response = labdeck.service("GET", f"/jobs/{job_id}/logs?offset={offset}", token=token)
    assert response.status_code == 200, response.text
    return response.json()


def metrics(labdeck, token, job_id, since=0) -> dict:
    response = labdeck.service("GET", f"/jobs/{job_id}/metrics?since={since}", token=token)
    assert response.status_code == 200, response.text
    return response.json()


def processes_running(path: Path) -> set[int]:
    """Processes whose command line names path (the job's script)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if str(path).encode() in cmdline:
                found.add(int(entry))
    return found


def test_a_script_completes_as_the_owner_with_its_output(labdeck, owner):
    name, token = owner
    script = write_file(labdeck, name, "train/ok.py", 'import os\nprint("hello", os.getuid())\n')
    started = submit(labdeck, token, script="train/ok.py", args=[])
    assert started["state"] == "PENDING" and started["id"].startswith("j-")
    done = wait_state(labdeck, token, started["id"])
    assert done["state"] == "COMPLETED", done
    uid = account(name).pw_uid
    assert f"hello {uid}" in logs(labdeck, token, done["id"])["text"]
    folder = home(labdeck, name) / "labdeck" / "jobs" / done["id"]
    assert (folder.stat().st_uid, folder.stat().st_mode & 0o777) == (uid, 0o700)
    for file in ("output.log", "metrics.jsonl", "exit.json"):
        info = (folder / file).stat()
        assert (info.st_uid, info.st_mode & 0o777) == (uid, 0o600), file
    assert processes_running(script) == set()
    # its run time is in the ledger, as a job, closed
    (entry,) = labdeck.service("GET", f"/ledger?user={name}&kind=job").json()
    assert entry["resource_id"] == done["id"] and entry["ended"] is not None


def test_a_failing_script_fails_with_its_exit_code(labdeck, owner):
    name, token = owner
    write_file(labdeck, name, "fail.py", "import sys\nprint('about to fail')\nsys.exit(3)\n")
    done = wait_state(labdeck, token, submit(labdeck, token, script="fail.py")["id"])
    assert done["state"] == "FAILED" and "exit code 3" in done["state_reason"], done
    assert "about to fail" in logs(labdeck, token, done["id"])["text"]


def test_a_command_runs_too(labdeck, owner):
    _, token = owner
    started = submit(labdeck, token, command=["/bin/sh", "-c", "echo from a command; exit 0"])
    done = wait_state(labdeck, token, started["id"])
    assert done["state"] == "COMPLETED"
    assert "from a command" in logs(labdeck, token, done["id"])["text"]


def notebook(*sources: str) -> str:
    """A notebook of code cells, the first tagged `parameters`."""
    cells = [nbformat.v4.new_code_cell(source) for source in sources]
    cells[0].metadata["tags"] = ["parameters"]
    book = nbformat.v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nbformat.writes(book)


def test_a_notebook_runs_with_parameters_and_its_executed_copy_is_kept(labdeck, owner):
    name, token = owner
    write_file(labdeck, name, "nb/train.ipynb", notebook("lr = 0.1", "print(f'loss={lr}')"))
    started = submit(
        labdeck,
        token,
        script="nb/train.ipynb",
        parameters={"lr": 0.25},
        metric_definitions=[{"name": "loss", "regex": r"loss=([0-9.]+)"}],
    )
    done = wait_state(labdeck, token, started["id"], timeout=60)
    assert done["state"] == "COMPLETED", (done, logs(labdeck, token, done["id"])["text"])
    points = metrics(labdeck, token, done["id"])["points"]
    assert [p["values"] for p in points if p["source"] == "log"] == [{"loss": 0.25}]
    executed = home(labdeck, name) / "labdeck" / "jobs" / done["id"] / "executed.ipynb"
    assert executed.stat().st_uid == account(name).pw_uid
    outputs = [o for c in nbformat.read(executed, 4).cells for o in c.get("outputs", [])]
    assert any("loss=0.25" in o.get("text", "") for o in outputs)


def test_a_notebook_that_raises_fails_naming_the_cell(labdeck, owner):
    name, token = owner
    write_file(labdeck, name, "bad.ipynb", notebook("n = 1", "x = 2", "n / 0", "print('never')"))
    done = wait_state(labdeck, token, submit(labdeck, token, script="bad.ipynb")["id"], timeout=60)
    assert done["state"] == "FAILED", done
    assert "cell 3: ZeroDivisionError" in done["state_reason"], done


def test_max_runtime_fails_the_job_and_stops_it(labdeck, owner):
    name, token = owner
    script = write_file(labdeck, name, "long.py", "import time\ntime.sleep(120)\n")
    started = submit(labdeck, token, script="long.py", max_runtime_seconds=2)
    wait_for(lambda: processes_running(script), 15, 0.1, "the script to run")
    done = wait_state(labdeck, token, started["id"], timeout=20)
    assert done["state"] == "FAILED" and "Max runtime exceeded" in done["state_reason"], done
    assert processes_running(script) == set()


def test_stop_ends_the_job_stopped(labdeck, owner):
    name, token = owner
    script = write_file(labdeck, name, "stop.py", GATED)
    started = submit(labdeck, token, script="stop.py")
    wait_state(labdeck, token, started["id"], ("RUNNING",))
    wait_for(lambda: processes_running(script), 15, 0.1, "the script to run")
    response = labdeck.service("POST", f"/jobs/{started['id']}/stop", token=token)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "STOPPED"
    assert response.json()["state_reason"] == "Stopped by its owner."
    assert processes_running(script) == set()
    again = labdeck.service("POST", f"/jobs/{started['id']}/stop", token=token)
    assert again.status_code == 409 and again.json()["error"] == "job_ended"


def test_metrics_by_regex_and_by_the_library_while_it_runs(labdeck, owner):
    name, token = owner
    write_file(labdeck, name, "metrics/train.py", GATED)
    started = submit(
        labdeck,
        token,
        script="metrics/train.py",
        working_dir="metrics",
        metric_definitions=[{"name": "loss", "regex": r"loss=([0-9.]+)"}],
    )

    def points(source):
        return [
            p for p in metrics(labdeck, token, started["id"])["points"] if p["source"] == source
        ]

    wait_for(lambda: len(points("log")) == 3 and len(points("script")) == 3, 20, 0.1, "metrics")
    wait_for(lambda: points("system"), 10, 0.1, "system metrics")
    assert job(labdeck, token, started["id"])["state"] == "RUNNING"
    assert [p["values"]["loss"] for p in points("log")] == [1.0, 0.5, 0.3333]
    assert [(p["step"], p["values"]["accuracy"]) for p in points("script")] == [
        (0, 0.0),
        (1, 0.1),
        (2, 0.2),
    ]
    system = points("system")[-1]["values"]
    assert system["rss_bytes"] > 1_000_000 and system["cpu_percent"] >= 0
    # increments: nothing already seen comes again
    first = metrics(labdeck, token, started["id"])
    later = metrics(labdeck, token, started["id"], first["next_since"])
    assert later["next_since"] >= first["next_since"]
    assert all(p["t"] > first["points"][-1]["t"] for p in later["points"])
    csv = labdeck.service("GET", f"/jobs/{started['id']}/metrics?format=csv", token=token)
    assert csv.headers["Content-Type"].startswith("text/csv")
    rows = csv.text.splitlines()
    assert rows[0] == "t,source,step,name,value"
    assert [r.split(",")[1:] for r in rows if ",log," in r] == [
        ["log", "", "loss", "1.0"],
        ["log", "", "loss", "0.5"],
        ["log", "", "loss", "0.3333"],
    ]
    bad = labdeck.service("GET", f"/jobs/{started['id']}/metrics?format=xml", token=token)
    assert bad.status_code == 400
    write_file(labdeck, name, "metrics/go", "")  # in its working dir
    assert wait_state(labdeck, token, started["id"])["state"] == "COMPLETED"


def test_logs_from_an_offset_and_followed(labdeck, owner):
    name, token = owner
    write_file(labdeck, name, "logs.py", "for i in range(5):\n    print(f'line {i} é')\n")
    done = wait_state(labdeck, token, submit(labdeck, token, script="logs.py")["id"])
    whole = logs(labdeck, token, done["id"])
    assert whole["text"] == "".join(f"line {i} é\n" for i in range(5))
    assert whole["next_offset"] == whole["size"] == len(whole["text"].encode())
    cut = len("line 0 é\n".encode())
    assert logs(labdeck, token, done["id"], cut)["text"] == whole["text"][len("line 0 é\n") :]
    assert logs(labdeck, token, done["id"], whole["size"])["text"] == ""
    bad = labdeck.service("GET", f"/jobs/{done['id']}/logs?offset=-1", token=token)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_offset"

    fields, last_id = follow(labdeck, token, done["id"], offset=cut)
    data = [json.loads(value) for field, value in fields if field == "data"]
    assert "".join(data[:-1]) == whole["text"][len("line 0 é\n") :] and data[-1] == "COMPLETED"
    assert last_id == str(whole["size"]) and ("event", "end") in fields
    resumed, _ = follow(labdeck, token, done["id"], last_id)
    assert [value for field, value in resumed if field == "data"] == ['"COMPLETED"']


def follow(labdeck, token, job_id, last_id=None, offset=0) -> tuple[list, str | None]:
    """One follow response: (its fields as (name, value) pairs, the last id seen)."""
    headers = {"Last-Event-ID": last_id} if last_id is not None else {}
    response = labdeck.service(
        "GET",
        f"/jobs/{job_id}/logs/follow?offset={offset}",
        token=token,
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream")
    fields = [tuple(ln.split(": ", 1)) for ln in response.text.splitlines() if ": " in ln]
    ids = [value for field, value in fields if field == "id"]
    return fields, ids[-1] if ids else last_id


def output_of(fields: list) -> str:
    """The output its events carry (the end event's data is the job's state)."""
    text = ""
    for field, value in fields:
        if (field, value) == ("event", "end"):
            break
        if field == "data":
            text += json.loads(value)
    return text


def test_links_planted_in_the_job_folder_are_not_followed(labdeck, owner, tmp_path):
    name, token = owner
    secret = tmp_path / "root-only"
    secret.write_text("not for users\n")
    secret.chmod(0o600)
    done = wait_state(labdeck, token, submit(labdeck, token, command=["echo", "mine"])["id"])
    folder = home(labdeck, name) / "labdeck" / "jobs" / done["id"]
    (folder / "output.log").unlink()
    os.symlink(secret, folder / "output.log")
    assert logs(labdeck, token, done["id"])["text"] == ""
    # nor is a link put where the job's folder was, when its files are removed
    os.rename(folder, folder.with_name("moved"))
    os.symlink(tmp_path, folder)
    response = labdeck.service("DELETE", f"/jobs/{done['id']}?files=true", token=token)
    assert response.status_code == 204
    assert secret.read_text() == "not for users\n"


def test_a_running_job_is_followed_live_and_resumed(labdeck, owner):
    name, token = owner
    write_file(labdeck, name, "live/train.py", GATED)
    started = submit(labdeck, token, script="live/train.py", working_dir="live")
    wait_for(lambda: "epoch 2" in logs(labdeck, token, started["id"])["text"], 20, 0.1, "output")
    fields, last_id = follow(labdeck, token, started["id"])
    assert ("retry", "250") in fields
    text = output_of(fields)
    assert text.startswith("starting") and "epoch 2" in text and ("event", "end") not in fields
    # the next response waits for new output: it comes once the script goes on
    threading.Timer(1.0, write_file, (labdeck, name, "live/go", "")).start()
    waited = time.monotonic()
    while ("event", "end") not in fields:
        fields, last_id = follow(labdeck, token, started["id"], last_id)
        text += output_of(fields)
    assert time.monotonic() - waited >= 1.0
    assert text == logs(labdeck, token, started["id"])["text"]
    assert text.rstrip().endswith("finished") and fields[-1] == ("data", '"COMPLETED"')


def test_other_users_get_404_on_every_endpoint(labdeck, owner, new_user):
    name, token = owner
    write_file(labdeck, name, "mine.py", GATED)
    mine = submit(labdeck, token, script="mine.py")
    _, other = new_user("nosy")
    for method, path in [
        ("GET", ""),
        ("POST", "/stop"),
        ("DELETE", ""),
        ("GET", "/logs"),
        ("GET", "/logs/follow"),
        ("GET", "/metrics"),
    ]:
        response = labdeck.service(method, f"/jobs/{mine['id']}{path}", token=other)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"] == "not_found"
    assert labdeck.service("GET", "/jobs", token=other).json() == []
    # admins see it, and choose whose with ?user=
    listed = labdeck.service("GET", f"/jobs?user={name}").json()
    assert [j["id"] for j in listed] == [mine["id"]]
    assert job(labdeck, token, mine["id"])["state"] in ("PENDING", "RUNNING")
    stopped = labdeck.service("POST", f"/jobs/{mine['id']}/stop")
    assert stopped.json()["state_reason"] == "Stopped by an admin."


def test_bad_requests_are_400_and_start_nothing(labdeck, owner, tmp_path):
    name, token = owner
    write_file(labdeck, name, "good.py", "print('ok')\n")
    write_file(labdeck, name, "notes.txt", "")
    outside = tmp_path / "outside.py"
    outside.write_text("print('outside')\n")
    os.symlink(outside, home(labdeck, name) / "link.py")
    bad = [
        {},
        {"script": "missing.py"},
        {"script": "../../etc/passwd.py"},
        {"script": str(outside)},
        {"script": "link.py"},
        {"script": "notes.txt"},
        {"script": "good.py", "command": ["true"]},
        {"script": 3},
        {"command": []},
        {"command": "echo hi"},
        {"command": ["echo", 1]},
        {"script": "good.py", "profile": "nope"},
        {"script": "good.py", "profile": 5},
        {"script": "good.py", "max_runtime_seconds": -1},
        {"script": "good.py", "max_runtime_seconds": 10**12},
        {"script": "good.py", "max_runtime_seconds": "60"},
        {"script": "good.py", "max_runtime_seconds": True},
        {"script": "good.py", "metric_definitions": [{"name": "loss", "regex": "loss=([0-9"}]},
        {"script": "good.py", "metric_definitions": [{"name": "loss"}]},
        {"script": "good.py", "metric_definitions": "loss"},
        {"script": "good.py", "metric_definitions": [{"name": "1x", "regex": "x"}]},
        {"script": "good.py", "args": "a b"},
        {"script": "good.py", "env": {"LABDECK_JOB": "{}"}},
        {"script": "good.py", "env": {"CUDA_VISIBLE_DEVICES": "0,1"}},
        {"script": "good.py", "env": {"A": 1}},
        {"script": "good.py", "working_dir": "/tmp"},
        {"script": "good.py", "working_dir": "good.py"},
        {"script": "good.py", "name": ["x"]},
        {"script": "good.py", "parameters": {"lr": 1}},
        {"script": "good.py", "unknown": 1},
    ]
    for body in bad:
        response = labdeck.service("POST", "/jobs", token=token, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"] in ("invalid_job", "invalid_json"), body
        assert response.json()["message"]
    for raw in (b"[1]", b"{not json"):
        response = labdeck.service("POST", "/jobs", token=token, data=raw)
        assert response.status_code == 400, raw
    assert labdeck.service("GET", "/jobs", token=token).json() == []
    assert not (home(labdeck, name) / "labdeck").exists()


def test_concurrent_jobs_are_limited_by_the_quota(labdeck, owner):
    name, token = owner
    labdeck.set_quota(name, {"jobs": {"concurrent": 1}})
    write_file(labdeck, name, "one.py", GATED)
    first = submit(labdeck, token, script="one.py")
    refused = labdeck.service("POST", "/jobs", token=token, json={"script": "one.py"})
    assert refused.status_code == 403 and refused.json()["error"] == "jobs_limit"
    me = labdeck.service("GET", "/me", token=token).json()
    assert me["resources"]["jobs"]["in_use"] == {"concurrent": 1}
    labdeck.service("POST", f"/jobs/{first['id']}/stop", token=token)
    wait_state(labdeck, token, submit(labdeck, token, command=["true"])["id"])


def test_delete_only_ended_jobs_keeping_files_unless_asked(labdeck, owner):
    name, token = owner
    write_file(labdeck, name, "del.py", GATED)
    running = submit(labdeck, token, script="del.py")
    wait_for(lambda: "starting" in logs(labdeck, token, running["id"])["text"], 20, 0.1, "output")
    refused = labdeck.service("DELETE", f"/jobs/{running['id']}", token=token)
    assert refused.status_code == 409 and refused.json()["error"] == "job_running"
    labdeck.service("POST", f"/jobs/{running['id']}/stop", token=token)
    folders = home(labdeck, name) / "labdeck" / "jobs"
    assert labdeck.service("DELETE", f"/jobs/{running['id']}", token=token).status_code == 204
    assert labdeck.service("GET", f"/jobs/{running['id']}", token=token).status_code == 404
    assert (folders / running["id"] / "output.log").exists()
    done = wait_state(labdeck, token, submit(labdeck, token, command=["true"])["id"])
    response = labdeck.service("DELETE", f"/jobs/{done['id']}?files=true", token=token)
    assert response.status_code == 204
    assert not (folders / done["id"]).exists()


def test_a_service_restart_re_adopts_a_running_job(labdeck, owner):
    name, token = owner
    write_file(labdeck, name, "restart/train.py", GATED)
    started = submit(
        labdeck,
        token,
        script="restart/train.py",
        working_dir="restart",
        metric_definitions=[{"name": "loss", "regex": r"loss=([0-9.]+)"}],
    )
    wait_for(lambda: "loss" in logs(labdeck, token, started["id"])["text"], 20, 0.1, "output")
    labdeck.crash_service()
    assert job(labdeck, token, started["id"])["state"] == "RUNNING"
    write_file(labdeck, name, "restart/go", "")
    done = wait_state(labdeck, token, started["id"])
    assert done["state"] == "COMPLETED", done
    text = logs(labdeck, token, done["id"])["text"]
    assert text.startswith("starting") and text.rstrip().endswith("finished")
    assert (
        len([p for p in metrics(labdeck, token, done["id"])["points"] if p["source"] == "log"]) == 3
    )
    # counted once, from its start to its end
    entries = labdeck.service("GET", f"/ledger?user={name}&kind=job").json()
    (entry,) = [e for e in entries if e["resource_id"] == done["id"]]
    assert entry["started"] == done["started"] and entry["ended"] is not None
