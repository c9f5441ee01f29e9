"""A load test of model server replicas, for the recommender: `clients` callers each
send the payload over a keep-alive connection, one request after another, for
`duration_seconds`, spread over the replicas in turn.

Run by the service in a process of its own (so its event loop is not the load), with
its settings as JSON on stdin (the replica token among them: never on a command line);
prints its figures as JSON.
"""

import http.client
import json
import sys
import threading
import time
from itertools import cycle

TIMEOUT_SECONDS = 30.0


def _caller(
    ports: list[int],
    token: str,
    body: bytes,
    until: float,
    latencies: list[float],
    errors: list[int],
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connections = {
        port: http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_SECONDS)
        for port in ports
    }
    for port in cycle(ports):
        if time.monotonic() >= until:
            break
        connection = connections[port]
        began = time.perf_counter()
        try:
            connection.request("POST", "/invocations", body, headers)
            response = connection.getresponse()
            response.read()
            ok = response.status < 400
        except (OSError, http.client.HTTPException):
            connection.close()  # reconnects on the next request
            ok = False
        latencies.append((time.perf_counter() - began) * 1000)
        if not ok:
            errors.append(1)
    for connection in connections.values():
        connection.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)] if ordered else 0.0


def run(settings: dict) -> dict:
    body = json.dumps(settings["payload"]).encode()
    until = time.monotonic() + settings["duration_seconds"]
    latencies: list[float] = []
    errors: list[int] = []
    ports = settings["ports"]
    callers = [
        threading.Thread(
            target=_caller,
            # each caller starts on a different replica
            args=(ports[i % len(ports) :] + ports[: i % len(ports)], settings["token"], body),
            kwargs={"until": until, "latencies": latencies, "errors": errors},
        )
        for i in range(settings["clients"])
    ]
    began = time.monotonic()
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    elapsed = max(time.monotonic() - began, 1e-9)
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "throughput_rps": round((len(latencies) - len(errors)) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 3),
        "p99_ms": round(percentile(latencies, 0.99), 3),
    }


if __name__ == "__main__":
    print(json.dumps(run(json.load(sys.stdin))))
