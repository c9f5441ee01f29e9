"""The per-session Spark driver (`python -m labdeck.spark.driver`), through its HTTP API.

Real processes only: a driver on `local[1]` shared by the module, plus short-lived ones
for SIGTERM and a failed start (never more than two alive, each ~0.6 GB). Statements are
checked in the exact shapes Apache Livy returns, since the gateway hands them to
sparkmagic unchanged.
"""

import asyncio
import base64
import json
import os
import re
import signal
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from labdeck.processes import pids_with_marker
from labdeck.supervisor import end_pids
from labdeck_process import wait_for

READY_TIMEOUT = 120
STATEMENT_TIMEOUT = 60
SPARKMAGIC_SQL = (
    "import sys\n"
    'for yQeKOYBsFgLWWGWZJu3y in spark.sql(u"""SELECT 1 AS a """)'
    ".toJSON(use_unicode=(sys.version_info.major > 2)).take(2500): "
    "print(yQeKOYBsFgLWWGWZJu3y)"
)
# Six one-second tasks on one core: long enough to watch, short enough to wait for.
SLOW_JOB = "import time\nsc.parallelize(range(6), 6).map(lambda x: time.sleep(1) or x).count()"
STUCK_JOB = "import time\nsc.parallelize(range(2), 2).map(lambda x: time.sleep(120) or x).count()"


class Driver:
    """One driver process and an HTTP client for it; its processes carry a marker."""

    def __init__(
        self, tmp: Path, master: str = "local[1]", log_file: bool = True, kind: str = "pyspark"
    ) -> None:
        self.marker = f"spark-driver-test-{uuid.uuid4().hex[:8]}"
        self.ready_file = tmp / "ready.json"
        self.log_file = tmp / "driver.log"
        self.stderr = open(tmp / "stderr.log", "wb")  # closed in cleanup()
        args = [sys.executable, "-m", "labdeck.spark.driver", "--master", master]
        args += ["--app-name", self.marker, "--ready-file", str(self.ready_file)]
        args += ["--conf", "spark.ui.port=0"]  # tests may run next to other Spark UIs
        args += ["--kind", kind]
        if log_file:
            args += ["--log-file", str(self.log_file)]
        env = dict(os.environ, LABDECK_INSTANCE=self.marker)  # inherited by the JVM
        self.proc = subprocess.Popen(args, env=env, stdout=self.stderr, stderr=self.stderr)
        self.info: dict = {}

    def wait_ready(self) -> dict:
        """The ready file's content once it exists (or the driver exited)."""
        wait_for(
            lambda: self.ready_file.exists() or self.proc.poll() is not None,
            READY_TIMEOUT,
            message="the driver's ready file",
        )
        self.info = json.loads(self.ready_file.read_text()) if self.ready_file.exists() else {}
        return self.info

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.info['port']}"

    def request(self, method: str, path: str, token: str | None = "", **kwargs):
        token = self.info["token"] if token == "" else token
        headers = {"Authorization": f"token {token}"} if token is not None else {}
        return requests.request(method, self.base + path, headers=headers, timeout=30, **kwargs)

    def submit(self, code: str, kind: str | None = None) -> dict:
        body = {"code": code} if kind is None else {"code": code, "kind": kind}
        reply = self.request("POST", "/statements", json=body)
        assert reply.status_code == 201, reply.text
        return reply.json()

    def statement(self, statement_id: int) -> dict:
        reply = self.request("GET", f"/statements/{statement_id}")
        assert reply.status_code == 200, reply.text
        return reply.json()

    def wait_state(self, statement_id: int, *states: str, timeout: float = STATEMENT_TIMEOUT):
        return wait_for(
            lambda: (s := self.statement(statement_id))["state"] in states and s,
            timeout,
            message=f"statement {statement_id} to be {'/'.join(states)}",
        )

    def run(self, code: str, kind: str | None = None) -> dict:
        """Submit and wait until available; returns the statement's output."""
        statement = self.wait_state(self.submit(code, kind)["id"], "available")
        return statement["output"]

    def text(self, code: str, kind: str | None = None) -> str:
        output = self.run(code, kind)
        assert output["status"] == "ok", output
        return output["data"]["text/plain"]

    def cancel(self, statement_id: int) -> requests.Response:
        return self.request("POST", f"/statements/{statement_id}/cancel")

    def processes(self) -> list[int]:
        """The driver and everything it started (JVM, Python workers)."""
        return pids_with_marker(self.marker)

    def cleanup(self) -> None:
        """End whatever is left (by pid), close files."""
        asyncio.run(end_pids(self.processes(), grace=5))
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    instance = Driver(tmp_path_factory.mktemp("driver"))
    try:
        info = instance.wait_ready()
        assert "port" in info, (info, instance.log_file.read_text())
        yield instance
    finally:
        instance.cleanup()


@pytest.fixture
def second_driver(tmp_path):
    """A driver of the test's own, cleaned up after it."""
    instances = []

    def start(**kwargs) -> Driver:
        instances.append(Driver(tmp_path, **kwargs))
        return instances[-1]

    yield start
    for instance in instances:
        instance.cleanup()


def test_ready_file_announces_the_session(driver):
    mode = stat.S_IMODE(driver.ready_file.stat().st_mode)
    assert mode == 0o600
    info = driver.info
    assert set(info) == {"port", "token", "pid", "app_id", "spark_ui_url"}
    assert info["pid"] == driver.proc.pid
    assert info["app_id"].startswith("local-")
    assert info["spark_ui_url"].startswith("http://")
    status = driver.request("GET", "/status").json()
    assert status["state"] == "idle"
    assert status["executing"] is None
    assert status["app_id"] == info["app_id"]


ENDPOINTS = [
    ("GET", "/status"),
    ("GET", "/statements"),
    ("GET", "/statements/0"),
    ("POST", "/statements"),
    ("POST", "/statements/0/cancel"),
    ("POST", "/shutdown"),
]


@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["no-token", "wrong-token"])
@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_the_token(driver, method, path, token):
    reply = driver.request(method, path, token=token, json={"code": "1/0"})
    assert reply.status_code == 401
    assert reply.json()["error"] == "unauthorized"
    assert driver.proc.poll() is None  # an unauthenticated /shutdown did nothing


def test_python_cell_prints_then_shows_the_last_expression(driver):
    submitted = driver.submit('print("hello")\nimport sys\nprint("warn", file=sys.stderr)\n41 + 1')
    assert submitted["state"] == "waiting"
    assert submitted["output"] is None
    assert submitted["progress"] == 0.0
    statement = driver.wait_state(submitted["id"], "available")
    assert statement["output"] == {
        "status": "ok",
        "execution_count": submitted["id"],
        "data": {"text/plain": "hello\nwarn\n42"},
    }
    assert statement["progress"] == 1.0
    assert 0 < statement["started"] <= statement["completed"]
    # None is not shown; names persist between statements.
    assert driver.text("x = 5\nprint('a')\nNone") == "a"
    assert driver.text("x * 2") == "10"


def test_spark_job_runs(driver):
    assert driver.text("spark.range(10).count()") == "10"
    assert driver.text("sqlContext.sql('SELECT 7 AS n').collect()[0].n") == "7"


def test_sparkmagic_sql_command_prints_json_lines(driver):
    lines = driver.text(SPARKMAGIC_SQL).splitlines()
    assert [json.loads(line) for line in lines] == [{"a": 1}]


def test_sql_kind_returns_schema_and_rows(driver):
    output = driver.run("SELECT 1 AS a, 'x' AS b", kind="sql")
    table = output["data"]["application/json"]
    assert [f["name"] for f in table["schema"]["fields"]] == ["a", "b"]
    assert table["data"] == [[1, "x"]]
    failed = driver.run("SELEC nonsense", kind="sql")
    assert failed["status"] == "error"
    assert failed["ename"]


def test_failing_cell_gives_error_with_user_traceback(driver):
    output = driver.run("y = 1\nundefined_name")
    assert output["status"] == "error"
    assert output["ename"] == "NameError"
    assert output["evalue"] == "name 'undefined_name' is not defined"
    traceback = output["traceback"]
    assert traceback[0].startswith("Traceback")
    assert "line 2" in "".join(traceback)
    assert "undefined_name" in "".join(traceback)
    assert "labdeck" not in "".join(traceback)  # no driver internals


def test_magic_lines_keep_the_cell_line_numbers(driver):
    output = driver.run("a = [1]\n%json a\nb = undefined_too")
    assert output["ename"] == "NameError"
    assert "line 3" in "".join(output["traceback"])


@pytest.mark.parametrize(
    ("code", "ename"),
    [
        ("import sys\nsys.exit(3)", "SystemExit"),
        ("raise SystemExit", "SystemExit"),
        ("raise KeyboardInterrupt", "KeyboardInterrupt"),
        ("x = (", "SyntaxError"),
    ],
)
def test_exits_and_interrupts_are_errors_not_deaths(driver, code, ename):
    output = driver.run(code)
    assert output["status"] == "error"
    assert output["ename"] == ename
    assert driver.text("1 + 1") == "2"


def test_json_and_table_magics(driver):
    driver.text("rows = [{'a': 1, 'b': 'x'}, {'a': 2, 'b': None}]")
    output = driver.run("print('ignored?')\n%json rows")
    assert output["data"]["application/json"] == [{"a": 1, "b": "x"}, {"a": 2, "b": None}]
    table = driver.run("%table rows")["data"]["application/vnd.livy.table.v1+json"]
    assert table == {
        "headers": [{"name": "a", "type": "INT_TYPE"}, {"name": "b", "type": "STRING_TYPE"}],
        "data": [[1, "x"], [2, None]],
    }
    spark_rows = driver.run("%table spark.range(2).collect()")["data"]
    assert spark_rows["application/vnd.livy.table.v1+json"]["data"] == [[0], [1]]
    unknown = driver.run("%nosuchmagic rows")
    assert unknown["status"] == "error"


def test_matplot_magic_renders_png(driver):
    code = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\n%matplot plt"
    data = driver.run(code)["data"]
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    assert "Figure" in data["text/plain"]


def test_matplot_without_matplotlib_says_so(driver):
    driver.text(
        "import sys\n_saved_mpl = sys.modules.get('matplotlib')\n"
        "sys.modules['matplotlib'] = None  # what an absent package looks like to import"
    )
    try:
        output = driver.run("%matplot 1")
    finally:
        driver.text(
            "if _saved_mpl is None: del sys.modules['matplotlib']\n"
            "else: sys.modules['matplotlib'] = _saved_mpl"
        )
    assert output["status"] == "error"
    assert "matplotlib is not installed" in output["evalue"]


def test_progress_moves_between_0_and_1(driver):
    statement_id = driver.submit(SLOW_JOB)["id"]
    midway = wait_for(
        lambda: (
            0 < (s := driver.statement(statement_id))["progress"] < 1
            and s["state"] == "running"
            and s
        ),
        STATEMENT_TIMEOUT,
        interval=0.2,
        message="progress between 0 and 1",
    )
    assert midway["output"] is None
    done = driver.wait_state(statement_id, "available")
    assert done["progress"] == 1.0
    assert done["output"]["data"]["text/plain"] == "6"


def _running_job_groups(driver) -> set[str]:
    """Job groups Spark itself (its UI's REST API) reports as running."""
    url = f"{driver.info['spark_ui_url']}/api/v1/applications/{driver.info['app_id']}/jobs"
    jobs = requests.get(url, params={"status": "running"}, timeout=10).json()
    return {job.get("jobGroup") for job in jobs}


def test_cancel_running_spark_job(driver):
    statement_id = driver.submit(STUCK_JOB)["id"]
    group = f"labdeck-stmt-{statement_id}"
    wait_for(lambda: group in _running_job_groups(driver), 30, message="the job to run")
    status = driver.request("GET", "/status").json()
    assert (status["state"], status["executing"]) == ("busy", statement_id)

    reply = driver.cancel(statement_id)
    assert (reply.status_code, reply.json()) == (200, {"msg": "canceled"})
    cancelled = driver.wait_state(statement_id, "cancelled", timeout=10)
    assert cancelled["output"] is None
    wait_for(lambda: group not in _running_job_groups(driver), 10, message="the job to stop")
    assert driver.text("spark.range(10).count()") == "10"  # the session still works


def test_cancel_sleeping_and_waiting_statements(driver):
    sleeping = driver.submit("import time\ntime.sleep(60)\nprint('not reached')")["id"]
    waiting = driver.submit("print('never runs')")["id"]
    driver.wait_state(sleeping, "running")

    assert driver.cancel(waiting).status_code == 200
    dropped = driver.statement(waiting)
    assert (dropped["state"], dropped["started"], dropped["output"]) == ("cancelled", 0, None)

    assert driver.cancel(sleeping).status_code == 200
    assert driver.wait_state(sleeping, "cancelled", timeout=5)["output"] is None
    assert driver.text("'alive'") == "'alive'"
    status = driver.request("GET", "/status").json()
    assert (status["state"], status["executing"]) == ("idle", None)


def test_cancelling_a_finished_statement_keeps_it(driver):
    statement_id = driver.submit("3 * 3")["id"]
    driver.wait_state(statement_id, "available")
    reply = driver.cancel(statement_id)
    assert (reply.status_code, reply.json()) == (200, {"msg": "canceled"})
    assert driver.statement(statement_id)["state"] == "available"
    assert driver.cancel(10**6).status_code == 404


def test_statement_list_and_errors_are_json(driver):
    listed = driver.request("GET", "/statements").json()
    assert listed["total_statements"] == len(listed["statements"]) > 0
    assert [s["id"] for s in listed["statements"]] == list(range(listed["total_statements"]))
    page = driver.request("GET", "/statements", params={"from": 1, "size": 2}).json()
    assert [s["id"] for s in page["statements"]] == [1, 2]

    cases = [
        ("GET", "/statements/999999", {}, 404),
        ("POST", "/statements", {"data": b"{not json"}, 400),
        ("POST", "/statements", {"json": {"kode": "1"}}, 400),
        ("POST", "/statements", {"json": {"code": "1", "kind": "sparkr"}}, 400),
        ("POST", "/statements", {"json": ["code"]}, 400),
        ("GET", "/statements", {"params": {"from": "x"}}, 400),
        ("GET", "/nowhere", {}, 404),
        ("DELETE", "/statements", {}, 405),
    ]
    for method, path, kwargs, code in cases:
        reply = driver.request(method, path, **kwargs)
        assert reply.status_code == code, (method, path, reply.text)
        body = reply.json()
        assert set(body) == {"error", "message"}
        assert "Traceback" not in reply.text


def test_user_output_stays_out_of_the_driver_log(driver):
    marker = uuid.uuid4().hex
    assert driver.text(f"print('{marker}')") == marker
    assert marker not in driver.log_file.read_text()
    assert "session" in driver.log_file.read_text()  # the driver does log there


# Scala (Livy's `spark` kind) in the same session -------------------------------------


def test_scala_statements_run_with_spark_and_sc_bound(driver):
    assert re.fullmatch(r"val res\d+: Int = 2", driver.text("1 + 1", "spark"))
    printed = driver.text('println("hello from Scala")\nval answer = 6 * 7', "spark")
    assert printed == "hello from Scala\nval answer: Int = 42"
    # a closure over a class the session defined runs in Spark's tasks
    counted = driver.text(
        "case class Reading(value: Int)\n"
        "sc.parallelize(1 to 4).map(Reading(_)).map(_.value * answer).collect().sum",
        "spark",
    )
    assert counted.endswith("Int = 420"), counted
    assert driver.text("spark.range(3).toDF.count()", "spark").endswith("Long = 3")


def test_scala_and_python_share_one_spark_session(driver):
    driver.text('spark.range(7).createOrReplaceTempView("shared_numbers")', "spark")
    assert driver.text("spark.table('shared_numbers').count()") == "7"
    driver.text("spark.range(5).createOrReplaceTempView('from_python')")
    assert driver.text('spark.table("from_python").count()', "spark").endswith("Long = 5")


@pytest.mark.parametrize(
    "code,ename,evalue",
    [
        ("1 / 0", "ArithmeticException", "java.lang.ArithmeticException: / by zero"),
        ('val n: Int = "text"', "Error", "type mismatch;"),
        (
            'throw new IllegalStateException("broken on purpose")',
            "IllegalStateException",
            "java.lang.IllegalStateException: broken on purpose",
        ),
        ("def unfinished(x: Int) =", "Error", "incomplete statement"),
    ],
)
def test_scala_errors_carry_ename_evalue_and_traceback(driver, code, ename, evalue):
    output = driver.run(code, "spark")
    assert (output["status"], output["ename"]) == ("error", ename), output
    assert output["evalue"] == evalue
    assert isinstance(output["traceback"], list)
    assert driver.text("2 + 2", "spark").endswith("Int = 4")  # the interpreter goes on


def test_a_scala_statement_can_be_cancelled(driver):
    sleeping = driver.submit('Thread.sleep(120000)\nprintln("not reached")', "spark")["id"]
    driver.wait_state(sleeping, "running")
    assert driver.cancel(sleeping).status_code == 200
    assert driver.wait_state(sleeping, "cancelled", timeout=10)["output"] is None
    stuck = driver.submit(
        "sc.parallelize(1 to 2, 2).map { x => Thread.sleep(120000); x }.count()", "spark"
    )["id"]
    group = f"labdeck-stmt-{stuck}"
    wait_for(lambda: group in _running_job_groups(driver), 30, message="the job to run")
    assert driver.cancel(stuck).status_code == 200
    driver.wait_state(stuck, "cancelled", timeout=10)
    wait_for(lambda: group not in _running_job_groups(driver), 10, message="the job to stop")
    assert driver.text("3 * 3", "spark").endswith("Int = 9")


def test_sigterm_stops_a_busy_driver(second_driver):
    other = second_driver(log_file=False)
    assert "port" in other.wait_ready()
    sleeping = other.submit("import time\ntime.sleep(60)")["id"]
    other.wait_state(sleeping, "running")
    started = other.processes()
    assert len(started) >= 2  # the driver and its JVM

    other.proc.send_signal(signal.SIGTERM)
    assert other.proc.wait(timeout=30) == 0
    wait_for(lambda: not other.processes(), 15, message="the JVM to exit")


def test_failed_start_writes_the_error(second_driver):
    broken = second_driver(master="nonsense://nowhere")
    info = broken.wait_ready()
    assert set(info) == {"error"}
    assert "gateway" in info["error"]  # what pyspark says
    assert "Master must" in info["error"]  # and why, from spark-submit's own error
    assert broken.proc.wait(timeout=30) != 0
    wait_for(lambda: not broken.processes(), 15, message="the JVM to exit")


def test_shutdown_exits_zero_and_leaves_no_jvm(driver):
    """Last: it ends the module's driver."""
    assert len(driver.processes()) >= 2
    reply = driver.request("POST", "/shutdown")
    assert reply.status_code == 200
    assert driver.proc.wait(timeout=30) == 0
    wait_for(lambda: not driver.processes(), 15, message="the JVM to exit")
