"""Livy clients other than sparkmagic's PySpark kernel, against a real cluster: the
independent `livy` client library from PyPI (pyspark, sql and Scala sessions), Scala
sessions through the REST API, and sparkmagic's Spark (Scala) kernel."""

import os

import pytest
import requests
from jobs_support import account, home
from jupyter_client.manager import KernelManager
from labdeck_process import SERVICE_API
from livy import LivySession, SessionKind
from livy.models import SparkRuntimeError
from spark_support import create_cluster, livy_session, run_statement, wait_state
from test_sparkmagic import run

KERNEL_TIMEOUT = 180


@pytest.fixture(scope="module")
def owner(labdeck):
    name = "livyclient"
    return name, labdeck.create_user(name)


@pytest.fixture(scope="module")
def cluster(labdeck, owner):
    """The module's cluster (one worker, one core: one session computes at a time, so
    every test ends the sessions it made)."""
    _, token = owner
    made = wait_state(labdeck, token, create_cluster(labdeck, token, "clients")["id"])
    yield made
    labdeck.service("DELETE", f"/clusters/{made['id']}", token=token)


@pytest.fixture
def http(owner):
    """A requests session carrying the owner's hub token, as a script would hold it."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"token {owner[1]}"
        yield session


def livy_url(labdeck, cluster) -> str:
    return f"{labdeck.url}{SERVICE_API}/clusters/{cluster['id']}/livy"


def test_the_livy_library_runs_pyspark_and_downloads_a_dataframe(labdeck, cluster, http):
    url = livy_url(labdeck, cluster)
    with LivySession.create(url, requests_session=http, kind=SessionKind.PYSPARK) as session:
        session.wait()
        session.run("squares = spark.range(1, 5).selectExpr('id', 'id * id AS square')")
        frame = session.download("squares")
        assert frame.to_dict("records") == [{"id": i, "square": i * i} for i in range(1, 5)]
        with pytest.raises(SparkRuntimeError) as failed:
            session.run("1 / 0")
        assert failed.value.ename == "ZeroDivisionError"
    # leaving the block deleted the session, as the library promises
    listed = labdeck.service("GET", f"/clusters/{cluster['id']}/livy/sessions").json()
    assert {s["state"] for s in listed["sessions"]} == {"killed"}


def test_the_livy_library_downloads_sql_from_a_sql_session(labdeck, cluster, http):
    url = livy_url(labdeck, cluster)
    with LivySession.create(url, requests_session=http, kind=SessionKind.SQL) as session:
        session.wait()
        frame = session.download_sql("SELECT id, id * 10 AS tens FROM range(3)")
        assert frame.to_dict("records") == [{"id": i, "tens": i * 10} for i in range(3)]


def test_the_livy_library_runs_scala_and_downloads_a_dataframe(labdeck, cluster, http):
    url = livy_url(labdeck, cluster)
    with LivySession.create(url, requests_session=http, kind=SessionKind.SPARK) as session:
        session.wait()
        output = session.run("val total = sc.parallelize(1 to 100).sum()")
        assert output.text == "val total: Double = 5050.0"
        session.run('val people = Seq(("ada", 36), ("alan", 41)).toDF("name", "age")')
        frame = session.download("people")
        assert frame.to_dict("records") == [
            {"name": "ada", "age": 36},
            {"name": "alan", "age": 41},
        ]


def test_a_scala_session_runs_on_the_cluster_as_its_owner(labdeck, owner, cluster):
    name, token = owner
    cid = cluster["id"]
    session_id = livy_session(labdeck, token, cid, kind="spark")
    session = labdeck.service_json("GET", f"/clusters/{cid}/livy/sessions/{session_id}", token)
    assert (session["kind"], session["owner"], session["state"]) == ("spark", name, "idle")
    try:
        # statements default to the session's kind: Scala
        answer = run_statement(
            labdeck,
            token,
            cid,
            session_id,
            "case class Reading(value: Int)\n"
            "sc.parallelize(1 to 10, 2).map(Reading(_)).map(_.value * 6).reduce(_ + _)",
        )
        assert answer["output"]["data"]["text/plain"].endswith("Int = 330"), answer
        # the driver's JVM and the executors run as the owner's account
        users = run_statement(
            labdeck,
            token,
            cid,
            session_id,
            'println(System.getProperty("user.name"))\n'
            'sc.parallelize(1 to 2, 2).map(_ => System.getProperty("user.name")).distinct.collect',
        )
        text = users["output"]["data"]["text/plain"]
        expected = account(name).pw_name
        assert text.splitlines()[0] == expected
        assert f"Array({expected})" in text
        # other users' homes and labdeck's state are out of reach
        hidden = run_statement(
            labdeck,
            token,
            cid,
            session_id,
            f'Seq("{labdeck.state_dir}", "{labdeck.state_dir / "homes"}")'
            ".map(new java.io.File(_).list() == null)",
        )
        assert hidden["output"]["data"]["text/plain"].endswith("List(true, true)"), hidden
        # a Python statement in the same session sees what Scala made
        run_statement(
            labdeck, token, cid, session_id, 'spark.range(4).createOrReplaceTempView("four")'
        )
        counted = run_statement(
            labdeck, token, cid, session_id, "spark.table('four').count()", kind="pyspark"
        )
        assert counted["output"]["data"]["text/plain"] == "4"
    finally:
        labdeck.service("DELETE", f"/clusters/{cid}/livy/sessions/{session_id}", token=token)


def test_sparkmagic_scala_kernel_runs_cells_sql_and_dash_o(labdeck, owner, cluster):
    name, token = owner
    labdeck.start_server(name)
    try:
        connected = labdeck.request(
            "POST",
            f"/user/{name}/labdeck/spark/connect",
            token=token,
            json={"cluster_id": cluster["id"]},
        )
        assert connected.status_code == 200, connected.text
        manager = KernelManager(kernel_name="sparkkernel")
        manager.start_kernel(env=dict(os.environ, HOME=str(home(labdeck, name))))
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=KERNEL_TIMEOUT)
            cell = run(client, "sc.parallelize(1 to 10).map(_ * 6).sum()")
            assert "330.0" in cell["text"], cell
            run(client, "%%sql -o answer\nSELECT 6 * 7 AS answer, 'scala' AS kernel")
            local = run(client, "%%local\nprint(answer.to_dict('records'))")
            assert "[{'answer': 42, 'kernel': 'scala'}]" in local["text"], local
            run(
                client,
                '%%spark -o halves\nval halves = spark.range(4).selectExpr("id / 2 AS half")',
            )
            local = run(client, "%%local\nprint(list(halves['half']))")
            assert "[0.0, 0.5, 1.0, 1.5]" in local["text"], local
            failed = run(client, "1 / 0")
            assert "ArithmeticException" in failed["stderr"], failed
            sessions = labdeck.service(
                "GET", f"/clusters/{cluster['id']}/livy/sessions", token=token
            ).json()["sessions"]
            live = [s for s in sessions if s["state"] in ("idle", "busy")]
            assert [s["kind"] for s in live] == ["spark"]
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=False)
    finally:
        labdeck.stop_server(name)
