"""Sections of a quota document, each declared by the capability it limits.

A quota document holds, for one user:
- per runtime profile (`cpu`, `gpu`, ...) the time limits of lab sessions;
- `storage_bytes`;
- one section per capability (`spark`, later `jobs`, `deployments`): totals over the
  user's live resources of that kind, each field a whole number or null (unlimited),
  and optionally a daily budget of core time those resources may use while they run.

A capability declares its section here-and-nowhere-else: its fields, defaults and help;
validation, merging and what `me` shows follow from the declaration.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

SESSION_FIELDS = ("session_seconds", "daily_seconds")
# the largest whole number every database and JSON reader keeps exactly
MAX_LIMIT = 2**53
STORAGE_FIELD = "storage_bytes"


class QuotaError(ValueError):
    """A quota document that cannot be accepted; the message says why, for people."""


@dataclass(frozen=True)
class QuotaSection:
    """Limits of one capability, as totals over a user's live resources."""

    name: str  # key in the quota document: "spark"
    fields: Mapping[str, str]  # field -> what it counts, for people: {"cores": "cores"}
    default: Mapping[str, int] = field(default_factory=dict)
    help: str = ""
    # how to write an amount of a field for people, where str() is not right (memory)
    formats: Mapping[str, Callable[[int], str]] = field(default_factory=dict)
    # the field (one of `fields`) that holds a daily budget of core-seconds the user's
    # running resources of this kind spend, rather than a total over live ones
    budget: str | None = None

    @property
    def totals(self) -> tuple[str, ...]:
        """The fields that limit totals over live resources."""
        return tuple(name for name in self.fields if name != self.budget)

    def validate(self, value, partial: bool) -> dict | None:
        if value is None and partial:
            return None
        if not isinstance(value, dict):
            raise QuotaError(f"'{self.name}' must be an object with {', '.join(self.fields)}.")
        return validate_fields(self.name, value, tuple(self.fields), partial)

    def refusal(self, limits: dict, used: dict, asked: dict) -> tuple[str, int, int, int] | None:
        """The first field where used + asked goes over its limit: (field, asked, used,
        limit), or None when everything fits. The budget is checked apart."""
        for name in self.totals:
            limit = limits.get(name)
            if limit is not None and used.get(name, 0) + asked.get(name, 0) > limit:
                return name, asked.get(name, 0), used.get(name, 0), limit
        return None

    def show(self, name: str) -> Callable[[int], str]:
        return self.formats.get(name, str)

    def left(self, limits: dict, used: dict) -> dict:
        """What is left of each limit (None where unlimited)."""
        return {
            name: None if limits.get(name) is None else max(limits[name] - used.get(name, 0), 0)
            for name in self.fields
        }


def validate_fields(section: str, value: dict, fields: tuple[str, ...], partial: bool) -> dict:
    unknown = set(value) - set(fields)
    if unknown:
        raise QuotaError(
            f"Unknown field(s) in '{section}': {', '.join(sorted(unknown))}. "
            f"Use {', '.join(fields)}."
        )
    return {name: whole_limit(v, f"{section}.{name}", partial) for name, v in value.items()}


def whole_limit(value, name: str, nullable: bool):
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise QuotaError(f"'{name}' must be a whole number of at least 0, not {value!r}.")
    if value > MAX_LIMIT:
        raise QuotaError(f"'{name}' must be at most {MAX_LIMIT} (use null for no limit).")
    return value


def validate_quota_document(
    document,
    profiles: Iterable[str],
    sections: Iterable[QuotaSection],
    partial: bool = True,
) -> dict:
    """Check a (partial) quota document; return it normalised. Raises QuotaError.

    In a partial document a null value removes that override (back to the group value).
    """
    if not isinstance(document, dict):
        raise QuotaError("A quota must be a JSON object.")
    profiles = list(profiles)
    by_name = {section.name: section for section in sections}
    clean: dict = {}
    for key, value in document.items():
        if key == STORAGE_FIELD:
            clean[key] = whole_limit(value, STORAGE_FIELD, partial)
        elif key in profiles:
            if value is None and partial:
                clean[key] = None
            elif not isinstance(value, dict):
                raise QuotaError(f"'{key}' must be an object with {', '.join(SESSION_FIELDS)}.")
            else:
                clean[key] = validate_fields(key, value, SESSION_FIELDS, partial)
        elif key in by_name:
            clean[key] = by_name[key].validate(value, partial)
        else:
            raise QuotaError(
                f"Unknown quota field '{key}'. Use {STORAGE_FIELD}, "
                f"{', '.join(by_name) + ', ' if by_name else ''}or a runtime profile: "
                f"{', '.join(profiles)}."
            )
    return clean
