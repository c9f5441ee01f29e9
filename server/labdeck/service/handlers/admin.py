"""`api/v1/admin/...`: quotas per user and the usage report (hub admins only)."""

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ...quota.policy import QuotaError, merge_override, validate_quota_document
from ...quota.usage import Interval
from ..errors import APIError
from ..models import QuotaOverride, Session, utcnow
from .base import APIHandler
from .serializers import QUOTA_SCHEMA, iso

DEFAULT_REPORT_DAYS = 7
REPORT_COLUMNS = [
    "user",
    "groups",
    "profile",
    "sessions",
    "seconds",
    "gpu_seconds",
    "core_seconds",
]


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
            "group or default value. A running session's deadline moves accordingly.",
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
        self.write_json(self.service.sessions.quota_for(name, groups))

    async def put(self, name):
        body = self.get_json_body()
        try:
            update = validate_quota_document(body, self.service.profiles.names())
        except QuotaError as e:
            raise APIError(400, "invalid_quota", str(e)) from e
        if await self.service.hub.user(name) is None:
            raise APIError(404, "not_found", f"There is no hub user called {name!r}.")
        with self.db.session() as db:
            row = db.get(QuotaOverride, name)
            stored = merge_override(dict(row.quota) if row else {}, update)
            if row is None:
                db.add(QuotaOverride(user=name, quota=stored, updated_by=self.user["name"]))
            else:
                row.quota, row.updated, row.updated_by = stored, utcnow(), self.user["name"]
        groups = await self.service.hub.groups_of(name)
        self.service.sessions.reschedule_user(name, groups)
        self.write_json(self.service.sessions.quota_for(name, groups))


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
            "description": "Session time per user and runtime profile (and Spark "
            "cluster time, profile 'spark', with core_seconds) over a period "
            "(default: the last 7 days), with totals per profile and per group. "
            "Query: since, until (ISO 8601), group, format=json|csv.",
            "responses": {
                "200": {"description": "The report (JSON, or CSV with format=csv)"},
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

        rows = await self._rows(since, until, min(until, now), members)
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
            }
        )

    async def _rows(self, since, until, now, members: list[str] | None) -> list[dict]:
        with self.db.session() as db:
            sessions = db.scalars(
                select(Session).where(
                    Session.started < until,
                    (Session.ended.is_(None)) | (Session.ended > since),
                )
            ).all()
        table: dict[tuple[str, str], dict] = {}
        for s in sessions:
            if members is not None and s.user not in members:
                continue
            seconds = Interval(s.started, s.ended).overlap(since, until, now)
            row = table.setdefault(
                (s.user, s.profile),
                {
                    "user": s.user,
                    "groups": [],
                    "profile": s.profile,
                    "sessions": 0,
                    "seconds": 0,
                    "gpu_seconds": 0,
                    "core_seconds": 0,
                },
            )
            row["sessions"] += 1
            row["seconds"] += round(seconds)
            row["gpu_seconds"] += round(seconds * len(s.gpus))
            row["core_seconds"] += round(seconds * (s.cores or 0))  # Spark clusters
        for row in table.values():
            row["groups"] = await self.service.hub.groups_of(row["user"])
        return sorted(table.values(), key=lambda r: (r["user"], r["profile"]))

    def _write_csv(self, rows: list[dict], since, until) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=REPORT_COLUMNS)
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
    for row in rows:
        by_profile[row["profile"]] = by_profile.get(row["profile"], 0) + row["seconds"]
        for group in row["groups"]:
            by_group[group] = by_group.get(group, 0) + row["seconds"]
    return {"by_profile": by_profile, "by_group": by_group}


default_handlers = [
    ("api/v1/admin/usage", UsageReportHandler),
    ("api/v1/admin/users/{name}/quota", UserQuotaHandler),
]
