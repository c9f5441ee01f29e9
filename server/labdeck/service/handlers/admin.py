"""`api/v1/admin/...`: quotas per user and the usage report (hub admins only)."""

import csv
import io
from datetime import UTC, datetime, timedelta

from ..errors import APIError
from ..grants import grant_json
from ..ledger import KINDS
from ..models import utcnow
from .base import APIHandler
from .grants import GRANT_SCHEMA
from .serializers import QUOTA_SCHEMA, iso

DEFAULT_REPORT_DAYS = 7
REPORT_COLUMNS = [
    "user",
    "groups",
    "profile",
    "kind",
    "sessions",
    "seconds",
    "gpu_seconds",
    "core_seconds",
    "granted_seconds",
]

_SECONDS = {"type": "integer", "minimum": 0}
_KIND_TOTALS = {
    "type": "object",
    "properties": {"seconds": _SECONDS, "gpu_seconds": _SECONDS, "core_seconds": _SECONDS},
}
REPORT_SCHEMA = {
    "type": "object",
    "properties": {
        "since": {"type": "string", "format": "date-time"},
        "until": {"type": "string", "format": "date-time"},
        "group": {"type": "string", "nullable": True},
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "user": {"type": "string"},
                    "groups": {"type": "array", "items": {"type": "string"}},
                    "profile": {"type": "string"},
                    "kind": {"type": "string", "enum": list(KINDS)},
                    "sessions": {"type": "integer", "description": "Ledger entries"},
                    "seconds": _SECONDS,
                    "gpu_seconds": _SECONDS,
                    "core_seconds": _SECONDS,
                    "granted_seconds": {
                        **_SECONDS,
                        "description": "One-off grants for the user and profile whose "
                        "day begins in the period (on the profile's session row)",
                    },
                },
            },
        },
        "totals": {
            "type": "object",
            "properties": {
                "by_profile": {"type": "object", "additionalProperties": _SECONDS},
                "by_group": {"type": "object", "additionalProperties": _SECONDS},
                "by_kind": {"type": "object", "additionalProperties": _KIND_TOTALS},
                "granted_by_profile": {"type": "object", "additionalProperties": _SECONDS},
            },
        },
        "grants": {
            "type": "array",
            "description": "The one-off grants whose day begins in the period",
            "items": GRANT_SCHEMA,
        },
    },
}


class UserQuotaHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "A user's effective quota",
            "description": "Default, group and per-user values merged.",
            "responses": {"200": {"description": "The quota", "schema": QUOTA_SCHEMA}},
        },
        "put": {
            "summary": "Set a user's quota (partial)",
            "description": "Only the fields given change; null puts a field back to the "
            "group or default value. A running session's deadline, and the deadline "
            "of running clusters' daily core time, move accordingly.",
            "request": QUOTA_SCHEMA,
            "responses": {
                "200": {"description": "The new effective quota", "schema": QUOTA_SCHEMA},
                "400": {"description": "Invalid quota; nothing changed"},
            },
        },
    }

    admin_only = True

    async def get(self, name):
        groups = await self.service.hub.groups_of(name)
        self.write_json(self.quotas.quota_for(name, groups))

    async def put(self, name):
        update = self.quotas.validate(self.get_json_body())
        if await self.service.hub.user(name) is None:
            raise APIError(404, "not_found", f"There is no hub user called {name!r}.")
        self.quotas.update_override(name, update, by=self.user["name"])
        groups = await self.service.hub.groups_of(name)
        self.sessions.reschedule_user(name, groups)
        await self.quotas.apply_storage(name, groups)
        quota = self.quotas.quota_for(name, groups)
        for manager in self.service.managers.values():
            await manager.budget.quota_changed(name, quota)
        self.write_json(quota)


def _parse_time(value: str | None, name: str, fallback: datetime) -> datetime:
    if value is None or value == "":
        return fallback
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise APIError(
            400,
            "invalid_time",
            f"'{name}' must be an ISO 8601 date or time, e.g. 2026-11-01 or "
            f"2026-11-01T09:00:00Z, not {value!r}.",
        ) from e
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class UsageReportHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "Usage report",
            "description": "Use per user, kind and profile over a period (default: "
            "the last 7 days): one row per (user, kind, profile), kind being session, "
            "job (training jobs, on a runtime profile), cluster (Spark, profile "
            "'spark', whose measure is core_seconds: run time x cores) or deployment. "
            "'sessions' counts the row's ledger entries; seconds, gpu_seconds and "
            "core_seconds are summed over them. Totals: seconds per profile "
            "(by_profile) and per group (by_group), all kinds together, and "
            "{seconds, gpu_seconds, core_seconds} per kind (by_kind). "
            "Admins' one-off time grants whose budget day begins in the period: "
            "granted_seconds on the user's session row of the profile (a row of its "
            "own when there was no session), granted_by_profile in the totals, and "
            "each grant with who granted it and why in `grants`. "
            "Query: since, until (ISO 8601), group, format=json|csv.",
            "responses": {
                "200": {
                    "description": "The report (JSON, or CSV with format=csv)",
                    "schema": REPORT_SCHEMA,
                },
                "400": {"description": "Bad period, group or format"},
            },
        }
    }

    admin_only = True

    async def get(self):
        now = utcnow()
        until = _parse_time(self.get_argument("until", None), "until", now)
        since = _parse_time(
            self.get_argument("since", None), "since", until - timedelta(days=DEFAULT_REPORT_DAYS)
        )
        if since >= until:
            raise APIError(400, "invalid_period", "'since' must be before 'until'.")
        output = self.get_argument("format", "json")
        if output not in ("json", "csv"):
            raise APIError(400, "invalid_format", "'format' must be json or csv.")
        group = self.get_argument("group", None)
        members = None
        if group is not None:
            members = await self.service.hub.group_members(group)
            if members is None:
                raise APIError(404, "not_found", f"There is no group called {group!r}.")

        grants = self.service.grants.in_period(
            since, until, None if members is None else set(members)
        )
        rows = await self._rows(since, until, members, grants)
        if output == "csv":
            self._write_csv(rows, since, until)
            return
        self.write_json(
            {
                "since": iso(since),
                "until": iso(until),
                "group": group,
                "rows": rows,
                "totals": _totals(rows),
                "grants": [grant_json(g) for g in grants],
            }
        )

    async def _rows(self, since, until, members: list[str] | None, grants) -> list[dict]:
        report = self.ledger.report(since, until, None if members is None else set(members))
        # a grant adds to a profile's time, which sessions and jobs share: it shows once,
        # on the session row
        granted: dict[tuple[str, str, str], int] = {}
        for grant in grants:
            key = (grant.user, "session", grant.profile)
            granted[key] = granted.get(key, 0) + grant.seconds
        table = {(row.user, row.kind, row.profile): row for row in report}
        rows = []
        for user, kind, profile in sorted(table.keys() | granted.keys()):
            row = table.get((user, kind, profile))
            rows.append(
                {
                    "user": user,
                    "groups": await self.service.hub.groups_of(user),
                    "profile": profile,
                    "kind": kind,
                    "sessions": row.entries if row else 0,
                    "seconds": round(row.seconds) if row else 0,
                    "gpu_seconds": round(row.gpu_seconds) if row else 0,
                    "core_seconds": round(row.core_seconds) if row else 0,
                    "granted_seconds": granted.get((user, kind, profile), 0),
                }
            )
        return rows

    def _write_csv(self, rows: list[dict], since, until) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=REPORT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "groups": " ".join(row["groups"])})
        name = f"labdeck-usage-{since:%Y%m%d}-{until:%Y%m%d}.csv"
        self.set_header("Content-Type", "text/csv; charset=UTF-8")
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.finish(buffer.getvalue())


def _totals(rows: list[dict]) -> dict:
    by_profile: dict[str, int] = {}
    by_group: dict[str, int] = {}
    by_kind: dict[str, dict[str, int]] = {}
    granted: dict[str, int] = {}
    for row in rows:
        if row["granted_seconds"]:
            granted[row["profile"]] = granted.get(row["profile"], 0) + row["granted_seconds"]
        by_profile[row["profile"]] = by_profile.get(row["profile"], 0) + row["seconds"]
        for group in row["groups"]:
            by_group[group] = by_group.get(group, 0) + row["seconds"]
        kind = by_kind.setdefault(row["kind"], {"seconds": 0, "gpu_seconds": 0, "core_seconds": 0})
        for field in kind:
            kind[field] += row[field]
    return {
        "by_profile": by_profile,
        "by_group": by_group,
        "by_kind": by_kind,
        "granted_by_profile": granted,
    }


default_handlers = [
    ("api/v1/admin/usage", UsageReportHandler),
    ("api/v1/admin/users/{name}/quota", UserQuotaHandler),
]
