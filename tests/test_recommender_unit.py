"""The recommender's choice and its request checks: pure logic, at chosen figures."""

import pytest
from labdeck.service.recommender import RecommendationError, recommend, recommendation_request


def row(replicas, p99, rps, errors=0, workers=1):
    return {
        "replicas": replicas,
        "workers": workers,
        "requests": 100,
        "errors": errors,
        "throughput_rps": rps,
        "p50_ms": p99 / 2,
        "p99_ms": p99,
    }


def test_the_cheapest_configuration_meeting_the_target_wins():
    one, two, four = row(1, 30, 900), row(2, 12, 1500), row(4, 8, 2600)
    assert recommend([one, two, four], target=15) == two
    assert recommend([one, two, four], target=50) == one
    assert recommend([one, two, four], target=5) is None
    # a configuration with errors is never recommended, however fast
    assert recommend([row(1, 3, 900, errors=2), two], target=15) == two
    # workers cost as much as replicas
    assert recommend([row(1, 10, 900, workers=4), row(2, 12, 1500)], target=15)["replicas"] == 2


def test_without_a_target_the_most_throughput_per_server_wins():
    assert recommend([row(1, 30, 900), row(2, 12, 1500)], target=None)["replicas"] == 1
    assert recommend([], target=None) is None


@pytest.mark.parametrize(
    "body",
    [
        {"duration_seconds": 5},
        {"payload": 1, "candidates": "1"},
        {"payload": 1, "candidates": [{"replicas": 1, "gpus": 1}]},
        {"payload": 1, "candidates": [{"replicas": 3, "workers": 2}]},
        {"payload": 1, "candidates": [{"replicas": 1}] * 5, "duration_seconds": 60},
        {"payload": 1, "clients": 0},
        {"payload": 1, "latency_target_ms": True},
    ],
)
def test_requests_that_cannot_run_are_refused(body):
    with pytest.raises(RecommendationError):
        recommendation_request(body, max_replicas=4)


def test_defaults_fill_what_a_request_leaves_out():
    assert recommendation_request({"payload": [1]}, max_replicas=4) == {
        "payload": [1],
        "duration_seconds": 10,
        "candidates": [{"replicas": 1, "workers": 1}, {"replicas": 2, "workers": 1}],
        "clients": 8,
        "latency_target_ms": None,
    }
