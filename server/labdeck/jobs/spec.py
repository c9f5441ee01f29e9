"""What a job request may ask for, checked before anything starts.

`job_spec` turns a request body into the stored spec (paths resolved in the owner's
home, the profile's limits, the argv the runner starts) or raises JobSpecError with a
message for the person asking.
"""

import re
import sys
from pathlib import Path

from jupyterhub.traitlets import ByteSpecification

from ..quota.profiles import RuntimeProfiles
from ..specs import SpecError, in_home, is_a

FIELDS = (
    "name",
    "script",
    "command",
    "args",
    "parameters",
    "profile",
    "working_dir",
    "env",
    "max_runtime_seconds",
    "metric_definitions",
)
MAX_NAME = 64
MAX_ARGS = 256
MAX_ARG_LENGTH = 4096
MAX_ENV = 64
MAX_ENV_VALUE = 32 * 1024
MAX_METRICS = 32
MAX_REGEX = 512
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
METRIC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/-]{0,63}")
# set by labdeck for the job, a request may not change them: labdeck's own, and the
# GPUs a job was given (devices are assigned exclusively)
RESERVED_ENV = ("LABDECK_", "PYTHONUNBUFFERED", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES")


class JobSpecError(SpecError):
    """A job request that cannot be accepted; the message is for people."""


def _strings(value, field: str, allow_empty: bool = True) -> list[str]:
    if not isinstance(value, list) or not (allow_empty or value):
        raise JobSpecError(
            f"'{field}' must be a{' non-empty' * (not allow_empty)} list of strings."
        )
    if len(value) > MAX_ARGS:
        raise JobSpecError(f"'{field}' may have at most {MAX_ARGS} items.")
    for item in value:
        if not isinstance(item, str) or "\0" in item or len(item) > MAX_ARG_LENGTH:
            raise JobSpecError(
                f"Every item of '{field}' must be a string of at most {MAX_ARG_LENGTH} "
                "characters (no NUL)."
            )
    return value


def _metric_definitions(value) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_METRICS:
        raise JobSpecError(
            f"'metric_definitions' must be a list of at most {MAX_METRICS} "
            '{"name", "regex"} objects.'
        )
    clean = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"name", "regex"}:
            raise JobSpecError('Each metric definition must be {"name": ..., "regex": ...}.')
        name, regex = item["name"], item["regex"]
        if not isinstance(name, str) or not METRIC_NAME.fullmatch(name):
            raise JobSpecError(
                f"Metric name {name!r} must start with a letter and hold letters, digits "
                "and _.:/- (at most 64)."
            )
        if not isinstance(regex, str) or not regex or len(regex) > MAX_REGEX:
            raise JobSpecError(f"The regex of {name!r} must be 1 to {MAX_REGEX} characters.")
        try:
            pattern = re.compile(regex)
        except (re.error, RecursionError, OverflowError) as e:
            raise JobSpecError(f"The regex of {name!r} is not valid: {e}.") from e
        if pattern.groups > 1:
            raise JobSpecError(f"The regex of {name!r} must have at most one group (the value).")
        clean.append({"name": name, "regex": regex})
    return clean


def _env(value) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_ENV:
        raise JobSpecError(f"'env' must be an object of at most {MAX_ENV} names to strings.")
    for name, text in value.items():
        if not ENV_NAME.fullmatch(name) or name.startswith(RESERVED_ENV):
            raise JobSpecError(f"{name!r} is not an environment variable a job may set.")
        if not isinstance(text, str) or "\0" in text or len(text) > MAX_ENV_VALUE:
            raise JobSpecError(f"'env.{name}' must be a string (no NUL, at most 32 KiB).")
    return dict(value)


def _max_runtime(value, default: int, most: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise JobSpecError(
            f"'max_runtime_seconds' must be a whole number from 1 to {most}, not {value!r}."
        )
    return value


def job_spec(
    body: dict, home: Path, profiles: RuntimeProfiles, default_runtime: int, max_runtime: int
) -> dict:
    """The spec to store for a request body; JobSpecError if it cannot run as asked."""
    unknown = set(body) - set(FIELDS)
    if unknown:
        raise JobSpecError(
            f"Unknown field(s): {', '.join(sorted(unknown))}. Use {', '.join(FIELDS)}."
        )
    script, command = body.get("script"), body.get("command")
    if (script is None) == (command is None):
        raise JobSpecError("Give either 'script' (a .py file in your home) or 'command' (argv).")
    args = _strings(body.get("args", []), "args")
    parameters = body.get("parameters")
    notebook = None
    if script is not None:
        path = in_home(home, script, "script")
        if path.suffix not in (".py", ".ipynb"):
            raise JobSpecError(f"'script' must be a .py or .ipynb file, not {script!r}.")
        if not is_a(path, "file"):
            raise JobSpecError(f"There is no file {script!r} in your home folder.")
        if path.suffix == ".ipynb":
            if args:
                raise JobSpecError("A notebook takes 'parameters', not 'args'.")
            notebook = str(path)
        argv = [sys.executable, "-u", str(path), *args]
    else:
        if args:
            raise JobSpecError("'args' go with 'script'; put a command's arguments in it.")
        argv = _strings(command, "command", allow_empty=False)
    if notebook is None and parameters is not None:
        raise JobSpecError("'parameters' are for notebooks (a .ipynb 'script').")
    if parameters is not None and (not isinstance(parameters, dict) or len(parameters) > 256):
        raise JobSpecError("'parameters' must be an object of at most 256 names to values.")
    cwd = home.resolve()
    if body.get("working_dir") is not None:
        cwd = in_home(home, body["working_dir"], "working_dir")
        if not is_a(cwd, "folder"):
            raise JobSpecError(f"There is no folder {body['working_dir']!r} in your home.")
    name = body.get("name") or Path(script or argv[0]).name
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise JobSpecError(f"'name' must be a string of at most {MAX_NAME} characters.")
    profile_name = body.get("profile")
    if profile_name is not None and not isinstance(profile_name, str):
        raise JobSpecError("'profile' must be the name of a runtime profile.")
    profile = profiles.get(profile_name)
    if profile is None:
        raise JobSpecError(
            f"There is no runtime profile {profile_name!r}; use {', '.join(profiles.names())}."
        )
    return {
        "name": name,
        "script": script,
        "command": command,
        "args": args,
        # a notebook is run by the runner with papermill, its parameters injected
        "argv": None if notebook else argv,
        "notebook": notebook,
        "parameters": parameters or {},
        "cwd": str(cwd),
        "home": str(home),
        "profile": profile.name,
        "cpu_limit": profile.cpu_limit,
        "memory_bytes": ByteSpecification().validate(None, profile.mem_limit)
        if profile.mem_limit
        else None,
        "env": _env(body.get("env")),
        "max_runtime_seconds": _max_runtime(
            body.get("max_runtime_seconds"), default_runtime, max_runtime
        ),
        "metric_definitions": _metric_definitions(body.get("metric_definitions")),
    }
