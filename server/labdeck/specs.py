"""What requests for users' resources (jobs, deployments) share: the error a request
that cannot be accepted raises, and paths checked to lie inside the owner's home."""

from pathlib import Path


class SpecError(ValueError):
    """A request that cannot be accepted; the message is for people."""


def in_home(home: Path, value, field: str) -> Path:
    """value, a path relative to the home, resolved (links followed) and inside it."""
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise SpecError(f"'{field}' must be a path relative to your home folder.")
    try:
        resolved = (home / value).resolve()
    except (OSError, RuntimeError, ValueError) as e:
        raise SpecError(f"'{field}' cannot be resolved: {value!r}.") from e
    if not resolved.is_relative_to(home.resolve()):
        raise SpecError(f"'{field}' must be inside your home folder: {value!r} is not.")
    return resolved


def is_a(path: Path, kind: str) -> bool:
    """Whether path is a file (or a folder), where a name too long is neither."""
    try:
        return path.is_dir() if kind == "folder" else path.is_file()
    except OSError:
        return False
