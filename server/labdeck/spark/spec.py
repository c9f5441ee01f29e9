"""What a user may ask for when creating a cluster, checked before anything starts."""

import re
from dataclasses import asdict, dataclass

MAX_IDLE_SECONDS = 7 * 24 * 3600  # as EMR's auto-termination: 60 s to 7 days
MIN_WORKER_MEMORY = 512 * 2**20
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}")
MEMORY = re.compile(r"(\d{1,15})\s*([kmgt]?)i?b?", re.IGNORECASE)
MAX_WORKERS = 64
MAX_WORKER_CORES = 256
UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


class SpecError(ValueError):
    """A cluster request that cannot be accepted; the message is for people."""


def parse_memory(value) -> int:
    """'2g', '512m', '1536MiB' or a number of bytes -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        match = MEMORY.fullmatch(value.strip())
        if match:
            return int(match.group(1)) * UNITS[match.group(2).lower()]
    raise SpecError(f"'worker_memory' must look like 512m or 2g, not {value!r}.")


def spark_memory(n: int) -> str:
    """Bytes as Spark wants them (whole megabytes)."""
    return f"{n // 2**20}m"


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    workers: int = 1
    worker_cores: int = 1
    worker_memory: int = 1024 * 2**20
    idle_timeout_seconds: int = 3600

    @property
    def cores(self) -> int:
        return self.workers * self.worker_cores

    @property
    def memory(self) -> int:
        return self.workers * self.worker_memory

    def to_json(self) -> dict:
        return {**asdict(self), "worker_memory": spark_memory(self.worker_memory)}

    @classmethod
    def from_request(cls, body: dict) -> "ClusterSpec":
        unknown = set(body) - {
            "name",
            "workers",
            "worker_cores",
            "worker_memory",
            "idle_timeout_seconds",
        }
        if unknown:
            raise SpecError(f"Unknown field(s): {', '.join(sorted(unknown))}.")
        name = body.get("name")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise SpecError("'name' is required: 1 to 63 letters, digits, spaces, '.', '_' or '-'.")
        spec = cls(
            name=name,
            workers=_whole(body, "workers", 1, 1, MAX_WORKERS),
            worker_cores=_whole(body, "worker_cores", 1, 1, MAX_WORKER_CORES),
            worker_memory=parse_memory(body.get("worker_memory", "1g")),
            idle_timeout_seconds=_whole(
                # the lowest value allowed is the service's setting, checked there
                body,
                "idle_timeout_seconds",
                3600,
                1,
                MAX_IDLE_SECONDS,
            ),
        )
        if spec.worker_memory < MIN_WORKER_MEMORY:
            raise SpecError("'worker_memory' must be at least 512m.")
        return spec


def _whole(body: dict, key: str, default: int, low: int, high: int | None = None) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SpecError(f"'{key}' must be a whole number of at least {low}, not {value!r}.")
    if high is not None and value > high:
        raise SpecError(f"'{key}' must be at most {high}.")
    return value
