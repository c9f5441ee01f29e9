"""What a deployment request may ask for, checked before anything starts.

`deployment_spec` turns a request body into the stored spec (the model folder resolved
in the owner's home, its format, the replicas and their memory) or raises
DeploymentSpecError with a message for the person asking. `update_spec` does the same
for the fields a running deployment may change.
"""

import re
from pathlib import Path

from ..specs import SpecError, in_home, is_a
from .formats import detect_format

FIELDS = (
    "name",
    "model_dir",
    "mode",
    "replicas",
    "max_concurrency",
    "idle_seconds_to_zero",
    "memory_mb",
    "access",
)
# what an update may change; the rest needs a new deployment
UPDATABLE = ("model_dir", "replicas", "max_concurrency", "idle_seconds_to_zero", "access")
MODES = ("realtime", "serverless")
ACCESS = ("private", "hub", "key")
# a name is a path segment of the endpoint's URL
NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
# SageMaker serverless: 1-200 concurrent requests, 1-6 GB
MAX_CONCURRENCY = 200
MEMORY_MB = (128, 6144)
DEFAULTS = {
    "mode": "realtime",
    "replicas": 1,
    "max_concurrency": 20,
    "memory_mb": 2048,
    "access": "private",
}


class DeploymentSpecError(SpecError):
    """A deployment request that cannot be accepted; the message is for people."""


def _whole(value, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DeploymentSpecError(
            f"'{field}' must be a whole number from {low} to {high}, not {value!r}."
        )
    return value


def _choice(value, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise DeploymentSpecError(f"'{field}' must be one of {', '.join(choices)}, not {value!r}.")
    return value


def _model(home: Path, value) -> tuple[str, str]:
    """(the model folder, resolved in the home; its format)."""
    folder = in_home(home, value, "model_dir")
    if not is_a(folder, "folder"):
        raise DeploymentSpecError(f"There is no folder {value!r} in your home.")
    found = detect_format(folder)
    if found is None:
        raise DeploymentSpecError(
            f"{value!r} holds no model: put in it an inference.py with model_fn and "
            "predict_fn, or a scikit-learn model saved as model.joblib."
        )
    return str(folder), found


def _settings(body: dict, spec: dict, max_replicas: int) -> dict:
    """The fields of body that set how it serves, checked, over spec."""
    spec = dict(spec)
    if "mode" in body:
        spec["mode"] = _choice(body["mode"], "mode", MODES)
    if "replicas" in body:
        spec["replicas"] = _whole(body["replicas"], "replicas", 1, max_replicas)
    if "max_concurrency" in body:
        spec["max_concurrency"] = _whole(
            body["max_concurrency"], "max_concurrency", 1, MAX_CONCURRENCY
        )
    if "memory_mb" in body:
        spec["memory_mb"] = _whole(body["memory_mb"], "memory_mb", *MEMORY_MB)
    if "access" in body:
        spec["access"] = _choice(body["access"], "access", ACCESS)
    idle = body.get("idle_seconds_to_zero")
    if spec["mode"] == "serverless":
        spec["idle_seconds_to_zero"] = _whole(
            spec.get("idle_seconds_to_zero", 600) if idle is None else idle,
            "idle_seconds_to_zero",
            10,
            7 * 24 * 3600,
        )
    elif idle is not None:
        raise DeploymentSpecError("'idle_seconds_to_zero' is for serverless deployments.")
    else:
        spec["idle_seconds_to_zero"] = None
    return spec


def _known(body, fields: tuple[str, ...]) -> dict:
    if not isinstance(body, dict):
        raise DeploymentSpecError("The request must be a JSON object.")
    unknown = set(body) - set(fields)
    if unknown:
        raise DeploymentSpecError(
            f"Unknown field(s): {', '.join(sorted(unknown))}. Use {', '.join(fields)}."
        )
    return body


def deployment_spec(body, home: Path, max_replicas: int) -> dict:
    """The spec to store for a request body; DeploymentSpecError if it cannot serve."""
    body = _known(body, FIELDS)
    name = body.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise DeploymentSpecError(
            "'name' must be 1 to 63 lowercase letters, digits and dashes, starting with a "
            f"letter (it is part of the endpoint's URL), not {name!r}."
        )
    model_dir, model_format = _model(home, body.get("model_dir"))
    spec = _settings(body, DEFAULTS, max_replicas)
    return {
        **spec,
        "name": name,
        "model_dir": model_dir,
        "model_format": model_format,
        "home": str(home),
    }


def update_spec(body, spec: dict, max_replicas: int) -> dict:
    """spec with the changes body asks for; DeploymentSpecError if it cannot."""
    body = _known(body, UPDATABLE)
    if not body:
        raise DeploymentSpecError(f"Nothing to change: give any of {', '.join(UPDATABLE)}.")
    updated = _settings(body, spec, max_replicas)
    if "model_dir" in body:
        updated["model_dir"], updated["model_format"] = _model(
            Path(spec["home"]), body["model_dir"]
        )
    return updated
