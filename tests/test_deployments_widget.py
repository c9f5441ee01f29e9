"""`EndpointTester` against the real service: a payload sent and its answer shown, bad
JSON caught before anything is sent, the model's and the service's refusals shown with
their message, the last minute's metrics."""

import json

import pytest
from jobs_support import write_file
from labdeck.deployments.client import deploy
from labdeck.widgets.client import LabdeckClient, LabdeckError
from labdeck.widgets.deployments import EndpointTester

# adds the request's numbers to its own
MODEL = """
def model_fn(model_dir):
    return {"offset": 10}

def predict_fn(data, model):
    return {"sum": sum(data["values"]) + model["offset"]}
"""
BROKEN = """
def model_fn(model_dir):
    raise ValueError("the weights file is missing")

def predict_fn(data, model):
    return data
"""


@pytest.fixture
def client(labdeck, owner):
    """The client a notebook of the owner's would make (its lab's URL and token)."""
    _, token = owner
    return LabdeckClient(labdeck.url + "/services/labdeck/", token)


def test_a_payload_is_sent_and_its_answer_and_metrics_shown(labdeck, owner, client):
    name, _ = owner
    write_file(labdeck, name, "models/adder/inference.py", MODEL)
    endpoint = deploy("models/adder", client=client).wait(timeout=60, interval=0.1)
    tester = EndpointTester(endpoint, payload={"values": [1, 2.5]})
    assert "IN_SERVICE" in tester.header.value and "1 replica " in tester.header.value
    assert json.loads(tester.payload.value) == {"values": [1, 2.5]}
    assert tester.figures["invocations"] == 0

    tester.send_button.click()
    assert tester.last["status"] == 200 and tester.last["body"] == {"sum": 13.5}
    assert tester.last["latency_ms"] > 0
    assert "200 OK" in tester.status.value and f"{tester.last['latency_ms']:.1f} ms" in (
        tester.status.value
    )
    assert tester.response.value == json.dumps({"sum": 13.5}, indent=2)
    assert tester.message.value == ""

    # not JSON: said so, and nothing is sent
    tester.payload.value = '{"values": [1,'
    tester.send_button.click()
    assert "not valid JSON" in tester.message.value
    assert tester.last["body"] == {"sum": 13.5}

    tester.payload.value = '{"values": [4]}'
    tester.send_button.click()
    assert tester.last["body"] == {"sum": 14} and tester.message.value == ""

    tester.refresh_button.click()
    assert tester.figures["invocations"] == 2  # the bad JSON never reached it
    assert tester.figures["errors_4xx"] == tester.figures["errors_5xx"] == 0
    assert tester.figures["model_latency_ms"] >= 0 and tester.figures["replicas"] == 1
    assert "Invocations" in tester.metrics.value
    assert bytes(tester.chart.value).startswith(b"\x89PNG")
    endpoint.delete()


def test_refusals_are_shown_with_their_message(labdeck, owner, client):
    name, _ = owner
    write_file(labdeck, name, "models/picky/inference.py", MODEL)
    endpoint = deploy("models/picky", client=client).wait(timeout=60, interval=0.1)
    tester = EndpointTester(endpoint, payload={"values": "ab"})

    # the model's own error: its status, and its message
    tester.send_button.click()
    assert tester.last["status"] == 500 and tester.last["body"]["error"] == "model_error"
    assert "500" in tester.status.value
    assert "TypeError" in tester.message.value and "TypeError" in tester.response.value

    # gone: the service's refusal, and Refresh says there is no such deployment
    endpoint.delete()
    tester.payload.value = '{"values": [1]}'
    tester.send_button.click()
    assert tester.last["status"] == 404
    assert f"There is no endpoint {name}/picky." in tester.message.value
    assert "There is no deployment" in tester.message.value  # its state, read again
    tester.refresh_button.click()
    assert "There is no deployment" in tester.message.value
    assert "There is no endpoint" not in tester.message.value


def test_a_failed_deployment_shows_its_reason_and_refuses_calls(labdeck, owner, client):
    name, _ = owner
    write_file(labdeck, name, "models/broken/inference.py", BROKEN)
    endpoint = deploy("models/broken", client=client)
    with pytest.raises(LabdeckError) as failed:
        endpoint.wait(timeout=60, interval=0.1)
    assert failed.value.code == "deployment_failed"
    tester = EndpointTester(endpoint, payload={"values": [1]})
    assert "FAILED" in tester.header.value and "the weights file is missing" in tester.header.value

    tester.send_button.click()
    assert tester.last["status"] == 503
    assert "is FAILED" in tester.message.value and "in service" in tester.message.value
    endpoint.delete()
