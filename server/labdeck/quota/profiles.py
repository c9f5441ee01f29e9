"""Runtime profiles: what a session runs on (CPU or GPU, and how much of it)."""

from dataclasses import asdict, dataclass

from traitlets import List, Unicode, default, validate
from traitlets.config import Configurable

STUDIO_LAB_PROFILES = [
    {
        "name": "cpu",
        "display_name": "CPU",
        "description": "4 CPU cores and 16 GB of memory. Sessions up to 4 hours.",
        "cpu_limit": 4.0,
        "mem_limit": "16G",
        "gpus": 0,
        "idle_seconds": 3600,
    },
    {
        "name": "gpu",
        "display_name": "GPU",
        "description": "One GPU of its own, 4 CPU cores and 16 GB of memory. "
        "Sessions up to 4 hours; you may wait in a queue when every GPU is in use.",
        "cpu_limit": 4.0,
        "mem_limit": "16G",
        "gpus": 1,
        "idle_seconds": 1200,
    },
]


@dataclass(frozen=True)
class Profile:
    name: str
    display_name: str
    description: str = ""
    cpu_limit: float | None = None
    mem_limit: str | None = None
    gpus: int = 0
    # stopped after this long without activity; None or 0: never
    idle_seconds: int | None = None

    def to_json(self) -> dict:
        return asdict(self)


class RuntimeProfiles(Configurable):
    """The runtimes users choose from when they start a session."""

    profiles = List(
        help="""Runtime profiles, each a dict with `name`, `display_name`, `description`,
        `cpu_limit` (cores), `mem_limit` (e.g. "16G"), `gpus` (GPUs assigned
        exclusively) and `idle_seconds` (a session with no activity for this long is
        stopped, with a warning first; null or 0: never). The first one is the default
        unless `default_profile` says otherwise.
        """,
    ).tag(config=True)

    @default("profiles")
    def _profiles_default(self):
        return [dict(p) for p in STUDIO_LAB_PROFILES]

    @validate("profiles")
    def _check_profiles(self, proposal):
        seen = set()
        for spec in proposal.value:
            Profile(**spec)  # raises TypeError on unknown or missing fields
            idle = spec.get("idle_seconds")
            if idle is not None and (not isinstance(idle, int) or idle < 0):
                raise ValueError(f"idle_seconds of {spec['name']!r} must be null or seconds >= 0")
            if spec["name"] in seen:
                raise ValueError(f"duplicate runtime profile {spec['name']!r}")
            seen.add(spec["name"])
        if not seen:
            raise ValueError("at least one runtime profile is needed")
        return proposal.value

    default_profile = Unicode(
        "",
        help="Name of the profile used when a spawn names none. Default: the first one.",
    ).tag(config=True)

    def all(self) -> list[Profile]:
        return [Profile(**spec) for spec in self.profiles]

    def names(self) -> list[str]:
        return [spec["name"] for spec in self.profiles]

    def get(self, name: str | None) -> Profile | None:
        name = name or self.default_profile or self.profiles[0]["name"]
        return next((p for p in self.all() if p.name == name), None)
