"""`labdeck.jobs.submit` and `JobMonitor` from Python, against the real service: wait, logs,
metrics, stop."""

import pytest
from jobs_support import GATED, home, write_file
from labdeck.jobs import Job, jobs, submit
from labdeck.widgets.client import LabdeckClient, LabdeckError
from labdeck.widgets.jobs import JobMonitor, series
from labdeck_process import wait_for

TRAIN = """
import labdeck.metrics
for step in range(3):
    print(f"epoch {step} loss={1 / (step + 1):.4f}", flush=True)
    labdeck.metrics.log(step=step, accuracy=step / 10)
"""
LOSS = [{"name": "loss", "regex": r"loss=([0-9.]+)"}]


@pytest.fixture
def client(labdeck, owner):
    """The client a notebook of the owner's would make (its lab's URL and token)."""
    _, token = owner
    return LabdeckClient(labdeck.url + "/services/labdeck/", token)


def test_a_script_runs_and_its_logs_and_metrics_come_back(labdeck, owner, client):
    name, _ = owner
    write_file(labdeck, name, "train.py", TRAIN)
    job = submit("train.py", metric_definitions=LOSS, client=client)
    assert isinstance(job, Job) and job.info["name"] == "train"

    assert job.wait(timeout=60, interval=0.1).state == "COMPLETED"
    assert "epoch 2 loss=0.3333" in job.logs()
    assert job.logs(offset=len(b"epoch 0")).startswith(" loss=1.0000")
    metrics = job.metrics()
    assert list(metrics.columns) == ["t", "source", "step", "name", "value"]
    loss = metrics[metrics["name"] == "loss"]["value"].tolist()
    assert loss == [1.0, 0.5, 0.3333]
    accuracy = metrics[(metrics["source"] == "script") & (metrics["name"] == "accuracy")]
    assert accuracy["step"].tolist() == [0, 1, 2]
    assert [j.id for j in jobs(client)] == [job.id]
    assert (home(labdeck, name) / "labdeck" / "jobs" / job.id / "output.log").exists()


def test_a_job_is_stopped_and_a_refusal_carries_the_reason(labdeck, owner, client):
    name, _ = owner
    write_file(labdeck, name, "gated.py", GATED)
    job = submit("gated.py", client=client)
    assert job.stop().state in ("STOPPING", "STOPPED")
    assert job.wait(timeout=30, interval=0.1).state == "STOPPED"

    with pytest.raises(LabdeckError) as refused:
        submit("../elsewhere.py", client=client)
    assert refused.value.status == 400 and "home" in str(refused.value)


def test_a_monitor_shows_the_state_the_log_and_the_curves_and_stops_the_job(labdeck, owner, client):
    name, _ = owner
    write_file(labdeck, name, "watched.py", GATED)
    job = submit("watched.py", metric_definitions=LOSS, client=client)
    monitor = JobMonitor(job, background=False)

    def caught_up() -> bool:
        monitor.refresh()
        return "epoch 2" in monitor.output.value and monitor.job.state == "RUNNING"

    wait_for(caught_up, 30, 0.1, "the monitor to show the running job's output")
    assert "RUNNING" in monitor.header.value and not monitor.stop_button.disabled
    assert series(monitor._points)["loss"] == ([0, 1, 2], [1.0, 0.5, 0.3333])
    assert bytes(monitor.chart.value).startswith(b"\x89PNG")

    monitor.stop_button.click()
    wait_for(lambda: monitor.refresh() or monitor.job.state == "STOPPED", 30, 0.1, "stopped")
    assert "STOPPED" in monitor.header.value and monitor.stop_button.disabled
