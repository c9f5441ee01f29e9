"""Metrics a training job's script reports: `labdeck.metrics.log(step=3, loss=0.5)`.

No dependencies, and a no-op outside a labdeck job: the job's runner names the file the
points go to in the environment.
"""

import json
import math
import os
import time

METRICS_FILE_ENV = "LABDECK_METRICS_FILE"


def log(step: int | None = None, **values: float) -> None:
    """Record values (numbers) at step; they show in the job's metrics as they come."""
    path = os.environ.get(METRICS_FILE_ENV)
    if not path:
        return
    clean = {}
    for name, value in values.items():
        number = float(value)  # a TypeError or ValueError here tells the script at once
        if math.isfinite(number):
            clean[name] = number
    if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
        raise TypeError(f"step must be a whole number, not {step!r}")
    point = {"t": time.time(), "source": "script", "step": step, "values": clean}
    # one write of a whole line to a file opened for appending: lines never interleave
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, (json.dumps(point) + "\n").encode())
    finally:
        os.close(fd)
