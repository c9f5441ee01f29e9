"""GPU utilisation and memory in a training job's system metrics, through NVML.

There is no GPU here, so NVML is the one part faked: a fake object for the module, and a
fake `pynvml` package put first on the real runner's PYTHONPATH. Without it the real
nvidia-ml-py is used, which finds no NVML library on this machine.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from labdeck.jobs.gpu_metrics import GpuMetrics, visible_devices
from labdeck.jobs.runner import SPEC_ENV
from labdeck.service.handlers.jobs import _point, metrics_csv
from labdeck_process import wait_for

GIB = 2**30


class FakeNvml:
    """Two devices (NVML indices 0 and 1); records the calls it gets."""

    class NVMLError(Exception):
        pass

    def __init__(self, count=2, fail_init=False):
        self.count, self.fail_init = count, fail_init
        self.calls: list[str] = []
        self.broken: set[str] = set()  # readings that fail

    def nvmlInit(self):
        self.calls.append("init")
        if self.fail_init:
            raise self.NVMLError("Driver Not Loaded")

    def nvmlDeviceGetHandleByIndex(self, index):
        if not 0 <= index < self.count:
            raise self.NVMLError("Invalid Argument")
        return ("handle", index)

    def nvmlDeviceGetHandleByUUID(self, uuid):
        if uuid != "GPU-1111":
            raise self.NVMLError("Not Found")
        return ("handle", 1)

    def nvmlDeviceGetIndex(self, handle):
        return handle[1]

    def nvmlDeviceGetUtilizationRates(self, handle):
        if "utilization" in self.broken:
            raise self.NVMLError("GPU is lost")
        return SimpleNamespace(gpu=40 + handle[1], memory=5)

    def nvmlDeviceGetMemoryInfo(self, handle):
        return SimpleNamespace(total=16 * GIB, used=(handle[1] + 1) * GIB, free=0)

    def nvmlShutdown(self):
        self.calls.append("shutdown")


def test_visible_devices():
    assert visible_devices("0,1") == ["0", "1"]
    assert visible_devices(" 2 , 3,") == ["2", "3"]
    assert visible_devices("") == visible_devices(None) == []


def test_reads_each_device_with_nvml_initialised_once():
    nvml = FakeNvml()
    with GpuMetrics.open(["0", "1"], nvml) as gpus:
        assert gpus.indices == [0, 1]
        expected = {
            "gpu0_utilization_percent": 40,
            "gpu0_memory_bytes": GIB,
            "gpu1_utilization_percent": 41,
            "gpu1_memory_bytes": 2 * GIB,
        }
        assert gpus.read() == expected
        assert gpus.read() == expected
    assert nvml.calls == ["init", "shutdown"]
    assert gpus.read() == {}  # after it is shut down, nothing


def test_only_the_jobs_devices_are_read():
    nvml = FakeNvml()
    with GpuMetrics.open(["1"], nvml) as gpus:
        assert gpus.read() == {"gpu1_utilization_percent": 41, "gpu1_memory_bytes": 2 * GIB}


def test_a_device_given_by_uuid_is_named_by_its_nvml_index():
    with GpuMetrics.open(["GPU-1111"], FakeNvml()) as gpus:
        assert set(gpus.read()) == {"gpu1_utilization_percent", "gpu1_memory_bytes"}


def test_without_devices_nvml_is_not_started():
    nvml = FakeNvml()
    with GpuMetrics.open([], nvml) as gpus:
        assert gpus.read() == {}
    assert nvml.calls == []


def test_nvml_failing_to_start_reads_nothing():
    nvml = FakeNvml(fail_init=True)
    with GpuMetrics.open(["0", "1"], nvml) as gpus:
        assert gpus.read() == {}
    assert nvml.calls == ["init"]  # nothing to shut down


def test_unknown_devices_are_skipped_and_none_found_shuts_nvml_down():
    nvml = FakeNvml(count=1)
    with GpuMetrics.open(["0", "7"], nvml) as gpus:
        assert gpus.indices == [0]
    other = FakeNvml(count=1)
    with GpuMetrics.open(["5", "GPU-none"], other) as gpus:
        assert gpus.read() == {}
        assert other.calls == ["init", "shutdown"]


def test_a_reading_that_fails_is_left_out():
    nvml = FakeNvml()
    nvml.broken.add("utilization")
    with GpuMetrics.open(["0"], nvml) as gpus:
        assert gpus.read() == {"gpu0_memory_bytes": GIB}


def test_without_the_bindings_nothing_is_read(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # `import pynvml` fails
    with GpuMetrics.open(["0"]) as gpus:
        assert gpus.read() == {}


def test_the_real_bindings_on_a_machine_without_nvml_read_nothing():
    with GpuMetrics.open(["0"]) as gpus:
        assert gpus.indices == [] and gpus.read() == {}


def test_the_metrics_endpoint_passes_gpu_values_through():
    line = json.dumps(
        {
            "t": 1.5,
            "source": "system",
            "step": None,
            "values": {"cpu_percent": 3.0, "rss_bytes": 10, "gpu1_memory_bytes": GIB},
        }
    ).encode()
    point = _point(line)
    assert point["values"]["gpu1_memory_bytes"] == GIB
    assert f"1.5,system,,gpu1_memory_bytes,{GIB}" in metrics_csv([point]).splitlines()


# --- the real runner, NVML faked through its PYTHONPATH --------------------------------

FAKE_PYNVML = '''
"""A stand-in for nvidia-ml-py: two GPUs; NVML fails to start when FAKE_NVML_FAIL is set."""
import os
from types import SimpleNamespace


class NVMLError(Exception):
    pass


def _note(call):
    fd = os.open(os.environ["FAKE_NVML_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, (call + "\\n").encode())
    os.close(fd)


def nvmlInit():
    _note("init")
    if os.environ.get("FAKE_NVML_FAIL"):
        raise NVMLError("Driver Not Loaded")


def nvmlDeviceGetHandleByIndex(index):
    if not 0 <= index < 2:
        raise NVMLError("Invalid Argument")
    return index


def nvmlDeviceGetUtilizationRates(handle):
    return SimpleNamespace(gpu=40 + handle, memory=5)


def nvmlDeviceGetMemoryInfo(handle):
    return SimpleNamespace(total=16 << 30, used=(handle + 1) << 30, free=0)


def nvmlShutdown():
    _note("shutdown")
'''

# waits for the test to let it end
SCRIPT = """
import os, time
print("training", flush=True)
while not os.path.exists("go"):
    time.sleep(0.05)
print("done", flush=True)
"""


class Runner:
    """`python -m labdeck.jobs.runner` for a script in tmp_path, as the service starts it
    (its settings in $LABDECK_JOB)."""

    def __init__(self, tmp_path: Path, devices: str | None, fake: bool, fail_init=False):
        self.work = tmp_path / "work"
        self.work.mkdir()
        (self.work / "train.py").write_text(SCRIPT)
        self.folder = tmp_path / "job"
        self.nvml_log = tmp_path / "nvml.log"
        spec = {
            "folder": str(self.folder),
            "argv": [sys.executable, "train.py"],
            "notebook": None,
            "parameters": {},
            "cwd": str(self.work),
            "env": {},
            "metric_definitions": [],
        }
        env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES",)}
        env.update({SPEC_ENV: json.dumps(spec), "FAKE_NVML_LOG": str(self.nvml_log)})
        env.pop("PYTHONPATH", None)
        env.pop("FAKE_NVML_FAIL", None)
        if devices is not None:
            env["CUDA_VISIBLE_DEVICES"] = devices
        if fake:
            package = tmp_path / "fake" / "pynvml"
            package.mkdir(parents=True)
            (package / "__init__.py").write_text(textwrap.dedent(FAKE_PYNVML))
            env["PYTHONPATH"] = str(package.parent)
        if fail_init:
            env["FAKE_NVML_FAIL"] = "1"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "labdeck.jobs.runner"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def system_points(self) -> list[dict]:
        try:
            lines = (self.folder / "metrics.jsonl").read_text().splitlines()
        except FileNotFoundError:
            return []
        points = [json.loads(line) for line in lines if line.endswith("}")]
        return [p for p in points if p["source"] == "system"]

    def finish(self) -> tuple[int, bytes, bytes]:
        (self.work / "go").touch()
        out, err = self.process.communicate(timeout=30)
        return self.process.returncode, out, err

    def nvml_calls(self) -> list[str]:
        return self.nvml_log.read_text().split() if self.nvml_log.exists() else []

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def runners():
    started: list[Runner] = []
    yield started
    for runner in started:
        runner.kill()


def test_the_runner_samples_the_jobs_gpus(tmp_path, runners):
    runner = Runner(tmp_path, "0,1", fake=True)
    runners.append(runner)

    def with_gpus():
        return [p for p in runner.system_points() if "gpu1_memory_bytes" in p["values"]]

    point = wait_for(with_gpus, 15, 0.1, "system points with both GPUs")[0]["values"]
    assert point["gpu0_utilization_percent"] == 40 and point["gpu0_memory_bytes"] == GIB
    assert point["gpu1_utilization_percent"] == 41 and point["gpu1_memory_bytes"] == 2 * GIB
    assert point["rss_bytes"] > 0 and point["cpu_percent"] >= 0
    code, out, err = runner.finish()
    assert (code, out, err) == (0, b"", b"")
    # NVML started once, for the whole job, and shut down when it ended
    assert runner.nvml_calls() == ["init", "shutdown"]
    assert (runner.folder / "output.log").read_text() == "training\ndone\n"


@pytest.mark.parametrize(
    ("devices", "fake", "fail_init"),
    [("0,1", True, True), ("0", False, False), (None, True, False), ("", True, False)],
    ids=["nvml-fails-to-start", "no-nvml-library", "no-devices", "empty-devices"],
)
def test_without_nvml_or_gpus_cpu_and_memory_are_sampled_as_before(
    tmp_path, runners, devices, fake, fail_init
):
    runner = Runner(tmp_path, devices, fake=fake, fail_init=fail_init)
    runners.append(runner)
    wait_for(lambda: len(runner.system_points()) >= 2, 15, 0.1, "two system points")
    code, out, err = runner.finish()
    assert (code, out, err) == (0, b"", b"")  # nothing said, by the runner or into the job
    assert (runner.folder / "output.log").read_text() == "training\ndone\n"
    for point in runner.system_points():
        assert set(point["values"]) == {"cpu_percent", "rss_bytes"}, point
    # NVML is tried only for a job with GPUs
    assert runner.nvml_calls() == (["init"] if fail_init else [])
