"""The model server a deployment's replicas run: real processes on loopback, called over
HTTP as the service's gateway calls them, and through tritonclient's HTTP client."""

import http.client
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
import tritonclient.http as triton
from labdeck.deployments import formats
from labdeck.deployments.formats import detect_format
from labdeck.deployments.server import SPEC_ENV, TOKEN_ENV
from labdeck.net import listening_ports
from labdeck_process import wait_for
from sklearn.linear_model import LogisticRegression
from tritonclient.utils import InferenceServerException

TOKEN = "replica-secret-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def auth() -> dict:
    # a dict of its own per call: tritonclient adds its headers to the one it is given
    return dict(AUTH)


class Replica:
    """One `python -m labdeck.deployments.server` process, as the backend starts it."""

    def __init__(self, model_dir: Path, name: str = "model", token: str = TOKEN):
        self.ready_file = model_dir.parent / f"{model_dir.name}.ready"
        self.log_path = model_dir.parent / f"{model_dir.name}.log"
        spec = {"model_dir": str(model_dir), "name": name, "ready_file": str(self.ready_file)}
        env = {**os.environ, SPEC_ENV: json.dumps(spec), TOKEN_ENV: token}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "labdeck.deployments.server"],
                cwd="/",
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait(self) -> dict:
        """The ready file's JSON, once it is there (or the process is gone)."""
        wait_for(
            lambda: self.ready_file.exists() or self.process.poll() is not None,
            timeout=60,
            message="the model server's ready file",
        )
        wait_for(self.ready_file.exists, timeout=5, message="the ready file after exit")
        return json.loads(self.ready_file.read_text())

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture
def serve(tmp_path):
    """serve(files) -> (replica, connection): a model folder with these files, served."""
    started = []

    def start(files: dict, name: str = "model") -> tuple[Replica, http.client.HTTPConnection]:
        folder = tmp_path / f"model{len(started)}"
        folder.mkdir()
        for relative, content in files.items():
            if isinstance(content, str):
                (folder / relative).write_text(textwrap.dedent(content))
            else:
                content(folder / relative)
        replica = Replica(folder, name)
        started.append(replica)
        ready = replica.wait()
        assert "port" in ready, (ready, replica.log)
        return replica, http.client.HTTPConnection("127.0.0.1", ready["port"], timeout=30)

    yield start
    for replica in started:
        replica.stop()


def call(conn, method, path, body=None, headers=AUTH):
    if isinstance(body, dict | list):
        body, headers = json.dumps(body), {"Content-Type": "application/json", **headers}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response, response.read()


DOUBLER = {
    "helper.py": "FACTOR_FILE = 'factor.txt'\n",
    "factor.txt": "2",
    "inference.py": """
        import os, time
        import numpy as np
        from helper import FACTOR_FILE  # the folder's own module

        def model_fn(model_dir):
            time.sleep(0.3)  # a model that takes a while to load
            with open(os.path.join(model_dir, FACTOR_FILE)) as f:
                return {"factor": float(f.read()), "env": sorted(os.environ)}

        def predict_fn(data, model):
            if data == "fail":
                raise ValueError("cannot double that")
            if data == "env":
                return model["env"]
            return np.asarray(data) * model["factor"]
    """,
}


# --- formats --------------------------------------------------------------------------


def test_detect_format(tmp_path):
    def folder(*files, dirs=()):
        path = tmp_path / f"f{len(list(tmp_path.iterdir()))}"
        path.mkdir()
        for name in files:
            (path / name).write_text("")
        for name in dirs:
            (path / name).mkdir()
        return path

    assert detect_format(folder("inference.py")) == "inference"
    assert detect_format(folder("model.joblib")) == "sklearn"
    # inference.py wins: it may load the joblib file itself
    assert detect_format(folder("inference.py", "model.joblib")) == "inference"
    assert detect_format(folder("model.pkl", "train.py")) is None
    assert detect_format(folder(dirs=("inference.py", "model.joblib"))) is None
    assert detect_format(tmp_path / "missing") is None


@pytest.mark.parametrize("codec", ["orjson", "json"])
def test_json_codec_takes_numpy(monkeypatch, codec):
    if codec == "json":
        monkeypatch.setattr(formats, "orjson", None)
    value = {
        "array": np.arange(4, dtype=np.int32).reshape(2, 2),
        "strided": np.arange(6.0)[::2],
        "scalars": [np.float32(1.5), np.int64(7), np.bool_(True)],
        "labels": np.array(["a", "b"]),
        1: ("tuple", b"bytes"),
    }
    assert json.loads(formats.dumps(value)) == {
        "array": [[0, 1], [2, 3]],
        "strided": [0.0, 2.0, 4.0],
        "scalars": [1.5, 7, True],
        "labels": ["a", "b"],
        "1": ["tuple", "bytes"],
    }
    assert formats.loads(b'{"a": [1, 2.5]}') == {"a": [1, 2.5]}
    with pytest.raises(TypeError):
        formats.dumps(object())


# --- inference.py ---------------------------------------------------------------------


def test_inference_format_json_in_and_out(serve):
    replica, conn = serve(DOUBLER)
    ready = json.loads(replica.ready_file.read_text())
    assert stat.S_IMODE(replica.ready_file.stat().st_mode) == 0o600
    assert ready["pid"] == replica.process.pid
    assert ready["setup_seconds"] >= 0.3  # model_fn's load time is measured

    response, body = call(conn, "GET", "/ping")
    assert response.status == 200

    response, body = call(conn, "POST", "/invocations", [[1, 2], [3, 4.5]])
    assert response.status == 200, body
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(body) == [[2, 4], [6, 9]]  # a numpy array, as a list
    assert 0 < float(response.getheader("X-Model-Latency-Ms")) < 1000

    # the replica's token is not in the model's environment
    response, body = call(conn, "POST", "/invocations", '"env"')  # no Content-Type: JSON
    assert response.status == 200 and TOKEN_ENV not in json.loads(body)

    # without an input_fn: JSON only
    response, body = call(conn, "POST", "/invocations", "1,2", {"Content-Type": "text/csv", **AUTH})
    assert response.status == 415 and json.loads(body)["error"] == "bad_input"
    response, body = call(
        conn, "POST", "/invocations", "[1,", {"Content-Type": "application/json", **AUTH}
    )
    assert response.status == 400 and "not valid JSON" in json.loads(body)["message"]


def test_a_model_error_is_a_500_and_the_server_goes_on(serve):
    replica, conn = serve(DOUBLER)
    response, body = call(conn, "POST", "/invocations", '"fail"')
    assert response.status == 500
    assert json.loads(body) == {"error": "model_error", "message": "ValueError: cannot double that"}
    assert "cannot double that" in replica.log  # the traceback is in the replica's log
    response, body = call(conn, "POST", "/invocations", [1])
    assert response.status == 200 and json.loads(body) == [2]


def test_inference_format_with_input_and_output_fn(serve):
    _, conn = serve(
        {
            "inference.py": """
            def model_fn(model_dir):
                return sum

            def input_fn(body, content_type):
                assert content_type.startswith("text/csv"), content_type
                return [float(x) for x in body.decode().split(",")]

            def predict_fn(data, model):
                return model(data)

            def output_fn(prediction, accept):
                if accept == "text/plain":
                    return f"total {prediction:g}"
                return {"total": prediction}, "application/vnd.total+json"
            """
        }
    )
    csv = {"Content-Type": "text/csv; charset=utf-8", **AUTH}
    response, body = call(conn, "POST", "/invocations", "1,2,3.5", {**csv, "Accept": "text/plain"})
    assert response.status == 200, body
    assert (body, response.getheader("Content-Type")) == (b"total 6.5", "text/plain")

    response, body = call(conn, "POST", "/invocations", "1,2", csv)
    assert response.status == 200, body
    assert response.getheader("Content-Type") == "application/vnd.total+json"
    assert json.loads(body) == {"total": 3}

    # input_fn failing on what the caller sent is the caller's error
    response, body = call(conn, "POST", "/invocations", "1,two", csv)
    assert response.status == 400, body
    error = json.loads(body)
    assert error["error"] == "bad_input" and error["message"].startswith("ValueError: ")


# --- scikit-learn ---------------------------------------------------------------------


def train(path: Path) -> None:
    rows = np.array([[0, 0], [0, 1], [1, 0], [5, 5], [5, 6], [6, 5]], dtype=float)
    joblib.dump(LogisticRegression().fit(rows, ["small"] * 3 + ["large"] * 3), path)


def test_sklearn_joblib_format(serve):
    replica, conn = serve({"model.joblib": train})
    estimator = joblib.load(replica.ready_file.parent / "model0" / "model.joblib")
    rows = [[0.5, 0.2], [5.5, 5.1], [0, 0]]
    expected = estimator.predict(np.asarray(rows)).tolist()
    assert expected == ["small", "large", "small"]

    for payload in ({"instances": rows}, rows):
        response, body = call(conn, "POST", "/invocations", payload)
        assert response.status == 200, body
        assert json.loads(body) == expected

    for payload, message in (
        ([[1, 2, 3]], "rows of 2 values"),
        ({"rows": rows}, "instances"),
        ([[1, 2], [3]], "not a table"),
    ):
        response, body = call(conn, "POST", "/invocations", payload)
        assert response.status == 400, body
        assert message in json.loads(body)["message"]

    # the Open Inference Protocol: metadata from the estimator, FP32 tensors in
    client = triton.InferenceServerClient(f"127.0.0.1:{conn.port}")
    metadata = client.get_model_metadata("model", headers=auth())
    assert metadata["platform"] == "sklearn"
    assert metadata["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 2]}]
    assert metadata["outputs"] == [{"name": "output-0", "datatype": "BYTES", "shape": [-1]}]
    tensor = triton.InferInput("input-0", [3, 2], "FP32")
    tensor.set_data_from_numpy(np.asarray(rows, dtype=np.float32))
    result = client.infer("model", [tensor], headers=auth())
    assert [x.decode() for x in result.as_numpy("output-0")] == expected
    client.close()


# --- Open Inference Protocol ----------------------------------------------------------

TENSORS = {
    "inference.py": """
    import numpy as np

    def model_fn(model_dir):
        return None

    def predict_fn(data, model):
        if isinstance(data, dict):  # several inputs: name -> array
            return {"sum": data["a"] + data["b"], "product": data["a"] * data["b"]}
        if data.dtype == object:
            return np.array([b"<" + x + b">" for x in data.ravel()], dtype=object)
        if (data < 0).any():
            raise ArithmeticError("negative input")
        return data * 2
    """
}


def test_open_inference_protocol_through_tritonclient(serve):
    _, conn = serve(TENSORS, name="doubler")
    client = triton.InferenceServerClient(f"127.0.0.1:{conn.port}")
    assert client.is_server_live(headers=auth()) and client.is_server_ready(headers=auth())
    assert client.is_model_ready("doubler", headers=auth())
    assert not client.is_model_ready("other", headers=auth())
    assert client.get_server_metadata(headers=auth())["extensions"] == ["binary_tensor_data"]
    metadata = client.get_model_metadata("doubler", headers=auth())
    assert (metadata["name"], metadata["platform"]) == ("doubler", "python")

    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    for binary in (True, False):  # raw bytes after the JSON, or JSON data
        tensor = triton.InferInput("x", [2, 3], "FP32")
        tensor.set_data_from_numpy(x, binary_data=binary)
        output = triton.InferRequestedOutput("doubled", binary_data=binary)
        result = client.infer(
            "doubler", [tensor], outputs=[output], request_id="r-7", headers=auth()
        )
        doubled = result.as_numpy("doubled")
        assert doubled.dtype == np.float32 and doubled.shape == (2, 3)
        np.testing.assert_array_equal(doubled, x * 2)
        response = result.get_response()
        assert response["id"] == "r-7" and response["model_name"] == "doubler"

    # several inputs: a dict of arrays in, a dict out (named outputs, all by default)
    a, b = triton.InferInput("a", [3], "INT64"), triton.InferInput("b", [3], "INT64")
    a.set_data_from_numpy(np.array([1, 2, 3]))
    b.set_data_from_numpy(np.array([10, 20, 30]), binary_data=False)
    result = client.infer("doubler", [a, b], headers=auth())
    np.testing.assert_array_equal(result.as_numpy("sum"), [11, 22, 33])
    np.testing.assert_array_equal(result.as_numpy("product"), [10, 40, 90])

    # BYTES, length-prefixed in binary
    words = triton.InferInput("w", [2], "BYTES")
    words.set_data_from_numpy(np.array([b"ab", b"c"], dtype=object))
    result = client.infer("doubler", [words], headers=auth())
    assert result.as_numpy("output-0").tolist() == [b"<ab>", b"<c>"]

    # a model error, an unknown model, a bad tensor
    negative = triton.InferInput("x", [1], "FP64")
    negative.set_data_from_numpy(np.array([-1.0]))
    with pytest.raises(InferenceServerException, match="ArithmeticError: negative input"):
        client.infer("doubler", [negative], headers=auth())
    with pytest.raises(InferenceServerException, match="unknown model 'other'"):
        client.infer("other", [negative], headers=auth())

    # a compressed request
    tensor.set_data_from_numpy(x)
    result = client.infer("doubler", [tensor], headers=auth(), request_compression_algorithm="gzip")
    np.testing.assert_array_equal(result.as_numpy("output-0"), x * 2)
    client.close()


def test_open_inference_protocol_errors(serve):
    _, conn = serve(TENSORS, name="doubler")

    def infer(body, path="/v2/models/doubler/infer", headers=AUTH):
        response, data = call(conn, "POST", path, body, headers)
        return response.status, json.loads(data)

    good = {"name": "x", "shape": [2], "datatype": "FP32", "data": [1, 2]}
    status, body = infer({"id": "a", "inputs": [good]})
    assert status == 200 and body["outputs"][0]["data"] == [2, 4] and body["id"] == "a"
    status, body = infer({"inputs": [{**good, "data": [[1], [2]], "shape": [2, 1]}]})
    assert status == 200 and body["outputs"][0]["shape"] == [2, 1]

    for request, message in (
        ({"inputs": []}, "non-empty list of inputs"),
        ({"inputs": [{**good, "datatype": "FP128"}]}, "datatype must be one of"),
        ({"inputs": [{**good, "shape": [3]}]}, "do not fill shape [3]"),
        ({"inputs": [{**good, "shape": [-2]}]}, "non-negative integers"),
        ({"inputs": [{**good, "data": ["one", "two"]}]}, "do not fit the datatype"),
        ({"inputs": [{**good, "datatype": "INT8", "data": [1, 300]}]}, "do not fit"),
        ({"inputs": [good, good]}, "given twice"),
        ({"inputs": [{k: v for k, v in good.items() if k != "data"}]}, "has no data"),
        ({"inputs": [good], "outputs": [{"name": "a"}, {"name": "b"}]}, "one output"),
    ):
        status, body = infer(request)
        assert status == 400 and message in body["error"], (request, body)

    status, body = infer({"inputs": [good]}, path="/v2/models/doubler/versions/3/infer")
    assert status == 404 and "no version '3'" in body["error"]
    status, body = infer({"inputs": [good]}, path="/v2/models/doubler/versions/1/infer")
    assert status == 200
    header = {**AUTH, "Inference-Header-Content-Length": "9999"}
    status, body = infer({"inputs": [good]}, headers=header)
    assert status == 400 and "beyond the body" in body["error"]
    response, data = call(conn, "GET", "/v2/models/doubler/infer")
    assert response.status == 405 and response.getheader("Allow") == "POST"
    response, data = call(conn, "GET", "/nowhere")
    assert response.status == 404 and "error" in json.loads(data)


# --- who may call, and where it listens -----------------------------------------------


def test_every_route_needs_the_token(serve):
    _, conn = serve(TENSORS, name="doubler")
    routes = [
        ("GET", "/ping"),
        ("POST", "/invocations"),
        ("GET", "/v2"),
        ("GET", "/v2/health/ready"),
        ("GET", "/v2/models/doubler"),
        ("POST", "/v2/models/doubler/infer"),
    ]
    refused = [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"token {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": TOKEN},
    ]
    for method, path in routes:
        for headers in refused:
            response, body = call(conn, method, path, "[1]", headers)
            assert response.status == 401, (method, path, headers)
            assert json.loads(body)["error"] == "unauthorized"
            assert response.getheader("WWW-Authenticate") == "Bearer"
    response, body = call(conn, "GET", "/v2/health/ready")
    assert response.status == 200


def test_listens_on_loopback_only_and_stops_on_sigterm(serve):
    replica, conn = serve(DOUBLER)
    assert listening_ports(replica.process.pid) == {("127.0.0.1", conn.port)}
    # uvicorn shuts down gracefully, then ends by the signal it was sent
    assert replica.stop() == -signal.SIGTERM
    assert "Traceback" not in replica.log


# --- models that cannot be served -----------------------------------------------------

BROKEN = {
    "model_fn raises": (
        {"inference.py": "def model_fn(d):\n    raise RuntimeError('no weights in ' + d)\n"
         "def predict_fn(x, m):\n    return x\n"},
        ["model_fn(model_dir) failed: RuntimeError: no weights in ", 'inference.py", line 2'],
    ),
    "syntax error": (
        {"inference.py": "def model_fn(d)\n    return 1\n"},
        ["inference.py could not be imported: SyntaxError", "def model_fn(d)"],
    ),
    "import error": (
        {"inference.py": "import no_such_package_xyz\n"},
        ["ModuleNotFoundError: No module named 'no_such_package_xyz'"],
    ),
    "no predict_fn": (
        {"inference.py": "def model_fn(d):\n    return 1\n"},
        ["inference.py defines no predict_fn(data, model)"],
    ),
    "not a joblib file": (
        {"model.joblib": "not a pickle"},
        ["model.joblib could not be loaded: "],
    ),
    "neither format": ({"README.md": "a model"}, ["has neither inference.py nor model.joblib"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_model_says_why_and_exits_1(tmp_path, case):
    files, expected = BROKEN[case]
    folder = tmp_path / "model"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    replica = Replica(folder)
    ready = replica.wait()
    assert replica.process.wait(timeout=30) == 1
    assert set(ready) == {"error"}, ready
    for text in expected:
        assert text in ready["error"], ready["error"]
    assert stat.S_IMODE(replica.ready_file.stat().st_mode) == 0o600
    assert expected[0].split(":")[0] in replica.log  # and the traceback in its log
