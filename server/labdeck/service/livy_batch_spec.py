"""What a Livy batch request may ask for, checked before anything starts.

`batch_request` turns the body of `POST .../livy/batches` (Apache Livy's fields) into a
`BatchRequest`: the application file and the files it takes, resolved inside the owner's
home, its arguments, and the Spark settings it asks for (those a Livy session may set).
A request that cannot run as asked raises Invalid (400), or Refused (403) when it names
another proxyUser. Sizes against the cluster are the gateway's `check_sizes`.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from ..specs import SpecError, in_home, is_a
from .errors import Invalid, Refused
from .livy import ALLOWED_CONF, SPARK_PROPERTIES

FIELDS = (
    "file",
    "proxyUser",
    "className",
    "args",
    "jars",
    "pyFiles",
    "files",
    "driverMemory",
    "driverCores",
    "executorMemory",
    "executorCores",
    "numExecutors",
    "archives",
    "queue",
    "name",
    "conf",
)
APPLICATIONS = (".py", ".jar")
PY_FILES = (".py", ".zip", ".egg")
MAX_ITEMS = 256
MAX_TEXT = 4096  # an argument of the job's command; a list of files joins in one
MAX_ARGS = 200  # with spark-submit's own options, within a job's 256 arguments
MAX_NAME = 64  # a job's name
MAX_COUNT = 10_000
# `local:` (Spark's "already on the machine") and `file:` URLs name files of the home too
HOME_SCHEMES = ("local", "file")
SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
CLASS_NAME = re.compile(r"[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*")
# Spark settings go in a properties file: a name is one plain token, and no value may
# start another line
PROPERTY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class BatchRequest:
    file: Path  # resolved, inside the home
    shown_file: str  # as the request named it
    name: str | None
    class_name: str | None
    args: list[str]
    jars: list[str]
    py_files: list[str]
    files: list[str]
    settings: dict[str, str]  # Spark settings asked for


def _text(value, field: str, most: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or CONTROL.search(value) or len(value) > most:
        raise Invalid(
            f"'{field}' must be text of at most {most} characters, without control characters."
        )
    return value


def _texts(value, field: str, most: int = MAX_ITEMS) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > most:
        raise Invalid(f"'{field}' must be a list of at most {most} strings.")
    for item in value:
        if not isinstance(item, str) or "\0" in item or len(item) > MAX_TEXT:
            raise Invalid(
                f"Every item of '{field}' must be a string of at most {MAX_TEXT} characters."
            )
    return value


def home_file(home: Path, value, field: str, suffixes: tuple[str, ...] | None = None) -> Path:
    """A file of the home named by a path (absolute, or relative to the home) or a
    `local:` URL; Invalid when it is anything else, outside the home or not there."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"'{field}' must be the path of a file in your home folder.", "invalid_file")
    path = value
    scheme = SCHEME.match(value)
    if scheme:
        if scheme[1].lower() not in HOME_SCHEMES:
            raise Invalid(
                f"'{field}': {value!r} is not a file of your home folder. Give its path "
                "(absolute or relative to your home) or a local: URL; other file systems "
                "are not reachable here.",
                "unsupported_file",
            )
        path = value[scheme.end() :]
        if path.startswith("//"):  # local:///home/... (an empty host) or local://localhost/
            host, _, rest = path[2:].partition("/")
            if host not in ("", "localhost"):
                raise Invalid(f"'{field}': {value!r} names another host.", "unsupported_file")
            path = "/" + rest
    try:
        resolved = in_home(home, path, field)
    except SpecError as e:
        raise Invalid(str(e), "invalid_file") from e
    if suffixes is not None and resolved.suffix.lower() not in suffixes:
        raise Invalid(
            f"'{field}' must be a {' or '.join(suffixes)} file, not {value!r}.", "invalid_file"
        )
    if not is_a(resolved, "file"):
        raise Invalid(f"There is no file {value!r} in your home folder.", "invalid_file")
    if "," in str(resolved):  # spark-submit's lists of files are comma-separated
        raise Invalid(f"'{field}': {value!r} has a comma in its path; rename it.", "invalid_file")
    return resolved


def _whole(value, field: str) -> str:
    """A whole number from 1 (as JSON gives it, or as text)."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
        raise Invalid(f"'{field}' must be a whole number from 1 to {MAX_COUNT}.")
    return str(value)


def _conf(value) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_ITEMS:
        raise Invalid("'conf' must map Spark settings to values.")
    refused = sorted(k for k in value if not k.startswith(ALLOWED_CONF))
    if refused:
        raise Invalid(
            f"These Spark settings cannot be set here: {', '.join(refused)}. "
            f"Settings starting with {', '.join(ALLOWED_CONF)} can.",
            "unsupported_conf",
        )
    settings = {}
    for key, setting in value.items():
        if not PROPERTY_NAME.fullmatch(key):
            raise Invalid(f"{key!r} is not the name of a Spark setting.", "unsupported_conf")
        if isinstance(setting, bool) or not isinstance(setting, str | int | float):
            raise Invalid(f"'conf.{key}' must be a string or a number.")
        settings[key] = _text(str(setting), f"conf.{key}")
    return settings


def batch_request(body: dict, owner: str, home: Path) -> BatchRequest:
    """The request of a batch that owner's account runs; raises if it cannot run."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise Invalid(f"Unknown field(s): {', '.join(unknown)}. A batch takes {', '.join(FIELDS)}.")
    proxy = body.get("proxyUser")
    if proxy is not None and proxy != owner:
        raise Refused(
            f"A batch runs as its cluster's owner, {owner}: 'proxyUser' may only name them.",
            "proxy_user",
        )
    if body.get("archives"):
        raise Invalid(
            "'archives' are not supported here: unpack them in your home folder and use "
            "'files' or 'pyFiles'.",
            "unsupported_archives",
        )
    queue = body.get("queue")
    if queue is not None and not isinstance(queue, str):  # YARN's: nothing to choose here
        raise Invalid("'queue' must be a string (it is ignored: there are no queues here).")
    if "file" not in body:
        raise Invalid("'file' is required: the .py or .jar file to run, in your home folder.")
    file = home_file(home, body["file"], "file", APPLICATIONS)
    class_name = body.get("className")
    if class_name is not None:
        if file.suffix.lower() != ".jar":
            raise Invalid("'className' is the main class of a .jar 'file'.")
        if not isinstance(class_name, str) or not CLASS_NAME.fullmatch(class_name[:MAX_TEXT]):
            raise Invalid("'className' must be a Java class name, like com.example.Main.")
    name = body.get("name")
    if name is not None:
        name = _text(name, "name", MAX_NAME).strip() or None
    settings = _conf(body.get("conf"))
    for field in ("driverMemory", "executorMemory"):
        if field in body and body[field] is not None:
            settings[SPARK_PROPERTIES[field]] = _text(body[field], field, 32)
    if body.get("executorCores") is not None:
        settings[SPARK_PROPERTIES["executorCores"]] = _whole(body["executorCores"], "executorCores")
    if body.get("numExecutors") is not None:
        settings[SPARK_PROPERTIES["numExecutors"]] = _whole(body["numExecutors"], "numExecutors")
    if body.get("driverCores") is not None:
        settings["spark.driver.cores"] = _whole(body["driverCores"], "driverCores")
    return BatchRequest(
        file=file,
        shown_file=body["file"],
        name=name,
        class_name=class_name,
        args=_texts(body.get("args"), "args", MAX_ARGS),
        jars=_home_files(home, body.get("jars"), "jars", (".jar",)),
        py_files=_home_files(home, body.get("pyFiles"), "pyFiles", PY_FILES),
        files=_home_files(home, body.get("files"), "files"),
        settings=settings,
    )


def _home_files(home: Path, value, field: str, suffixes=None) -> list[str]:
    paths = [str(home_file(home, item, field, suffixes)) for item in _texts(value, field)]
    if len(",".join(paths)) > MAX_TEXT:  # spark-submit takes them as one argument
        raise Invalid(f"The paths of '{field}' are too long together: give fewer files.")
    return paths
