"""The usage ledger: one entry per lab session, cluster, job or deployment that ran.

This is the only module that writes ledger rows. An entry is opened when something starts
to count against a quota and closed when it stops; while it is open a heartbeat records
that the service still sees it, so an entry whose service vanished ends where it was last
seen. Usage, deadlines and the admin report are all read from here.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from ..quota.usage import Interval
from .db import Database
from .models import LedgerEntry, utcnow

if TYPE_CHECKING:
    from .prometheus import ServiceMetrics

KINDS = ("session", "cluster", "job", "deployment")


@dataclass(frozen=True)
class ReportRow:
    """Use of one profile by one user, for one kind of resource, over a period."""

    user: str
    profile: str
    kind: str
    entries: int
    seconds: float
    gpu_seconds: float
    core_seconds: float


class Ledger:
    def __init__(
        self,
        db: Database,
        now: Callable[[], datetime] = utcnow,
        metrics: "ServiceMetrics | None" = None,
    ):
        self.db = db
        self.now = now
        # counts the writes, and how late deadline stops end (labdeck_... metrics)
        self.metrics = metrics

    def _wrote(self, kind: str, action: str, count: int = 1) -> None:
        if self.metrics is not None and count:
            self.metrics.ledger_write(kind, action, count)

    # -- writing --------------------------------------------------------------------------
    def open(
        self,
        kind: str,
        user: str,
        profile: str,
        resource_id: str = "",
        *,
        gpus: Iterable[str] = (),
        cores: int | None = None,
        deadline: datetime | None = None,
        deadline_reason: str | None = None,
        at: datetime | None = None,
    ) -> LedgerEntry:
        if kind not in KINDS:
            raise ValueError(f"unknown ledger kind {kind!r}")
        at = at or self.now()
        entry = LedgerEntry(
            kind=kind,
            user=user,
            resource_id=resource_id,
            profile=profile,
            gpus=list(gpus),
            cores=cores,
            started=at,
            deadline=deadline,
            deadline_reason=deadline_reason,
            last_seen=at,
        )
        with self.db.session() as db:
            db.add(entry)
        self._wrote(kind, "open")
        return entry

    def close(
        self,
        entry_id: int,
        reason: str,
        at: datetime | None = None,
        due: datetime | None = None,
    ) -> LedgerEntry | None:
        """End an open entry. A stop reason recorded earlier wins over `reason`.

        Returns the entry as it is now, or None if there is none; closing a closed
        entry changes nothing. An entry ended for its deadline (or for its stop reason,
        `due` at that time) counts how late it ended in labdeck_enforcement_lag_seconds.
        """
        with self.db.session() as db:
            entry = db.get(LedgerEntry, entry_id)
            if entry is None or entry.ended is not None:
                return entry
            entry.ended = at or self.now()
            entry.end_reason = entry.stop_reason or reason
            entry.last_seen = entry.ended
        self._wrote(entry.kind, "close")
        if due is None and entry.end_reason == entry.deadline_reason:
            due = entry.deadline  # stopped for its deadline
        if self.metrics is not None and due is not None:
            self.metrics.enforced(entry.kind, entry.end_reason, due, entry.ended)
        return entry

    def set_stop_reason(self, entry_id: int, reason: str) -> LedgerEntry | None:
        """Record why an entry is being stopped (the first reason given is kept)."""
        with self.db.session() as db:
            entry = db.get(LedgerEntry, entry_id)
            if entry is None or entry.ended is not None or entry.stop_reason:
                return entry
            entry.stop_reason = reason
        self._wrote(entry.kind, "stop_reason")
        return entry

    def set_deadline(
        self, entry_id: int, at: datetime | None, reason: str | None
    ) -> LedgerEntry | None:
        with self.db.session() as db:
            entry = db.get(LedgerEntry, entry_id)
            if entry is None:
                return None
            if (entry.deadline, entry.deadline_reason) == (at, reason):
                return entry  # moved nowhere: nothing is written
            entry.deadline, entry.deadline_reason = at, reason
        self._wrote(entry.kind, "deadline")
        return entry

    def heartbeat(self) -> None:
        """Every open entry was running now."""
        now = self.now()
        touched: dict[str, int] = {}
        with self.db.session() as db:
            for entry in db.scalars(select(LedgerEntry).where(LedgerEntry.ended.is_(None))):
                entry.last_seen = now
                touched[entry.kind] = touched.get(entry.kind, 0) + 1
        for kind, count in touched.items():
            self._wrote(kind, "heartbeat", count)

    # -- reading --------------------------------------------------------------------------
    def get(self, entry_id: int) -> LedgerEntry | None:
        with self.db.session() as db:
            return db.get(LedgerEntry, entry_id)

    def open_entry(self, user: str, kind: str, resource_id: str = "") -> LedgerEntry | None:
        """The open entry of this user's session or resource, if any."""
        with self.db.session() as db:
            return db.scalar(
                select(LedgerEntry)
                .where(
                    LedgerEntry.user == user,
                    LedgerEntry.kind == kind,
                    LedgerEntry.resource_id == resource_id,
                    LedgerEntry.ended.is_(None),
                )
                .order_by(LedgerEntry.started.desc())
            )

    def open_entries(self, kind: str, user: str | None = None) -> list[LedgerEntry]:
        query = select(LedgerEntry).where(LedgerEntry.kind == kind, LedgerEntry.ended.is_(None))
        if user is not None:
            query = query.where(LedgerEntry.user == user)
        with self.db.session() as db:
            return list(db.scalars(query))

    def entries(
        self, user: str | None = None, kind: str | None = None, limit: int = 500
    ) -> list[LedgerEntry]:
        """Newest first."""
        query = select(LedgerEntry).order_by(LedgerEntry.started.desc()).limit(limit)
        if user is not None:
            query = query.where(LedgerEntry.user == user)
        if kind is not None:
            query = query.where(LedgerEntry.kind == kind)
        with self.db.session() as db:
            return list(db.scalars(query))

    def intervals(self, user: str, kind: str, since: datetime) -> dict[str, list[Interval]]:
        """Intervals of one kind per profile that overlap [since, now]."""
        per_profile: dict[str, list[Interval]] = {}
        with self.db.session() as db:
            rows = db.scalars(
                select(LedgerEntry).where(
                    LedgerEntry.user == user,
                    LedgerEntry.kind == kind,
                    (LedgerEntry.ended.is_(None)) | (LedgerEntry.ended > since),
                )
            ).all()
        for row in rows:
            per_profile.setdefault(row.profile, []).append(
                Interval(row.started, row.ended, row.cores)
            )
        return per_profile

    def report(
        self, since: datetime, until: datetime, members: set[str] | None = None
    ) -> list[ReportRow]:
        """Use per (user, kind, profile) within [since, until), sorted by those three.

        Kinds stay apart even on one profile: a training job on "cpu" is no lab session.
        """
        now = min(until, self.now())
        with self.db.session() as db:
            rows = db.scalars(
                select(LedgerEntry).where(
                    LedgerEntry.started < until,
                    (LedgerEntry.ended.is_(None)) | (LedgerEntry.ended > since),
                )
            ).all()
        table: dict[tuple[str, str, str], dict] = {}
        for entry in rows:
            if members is not None and entry.user not in members:
                continue
            seconds = Interval(entry.started, entry.ended).overlap(since, until, now)
            row = table.setdefault(
                (entry.user, entry.kind, entry.profile),
                {"entries": 0, "seconds": 0.0, "gpu": 0.0, "core": 0.0},
            )
            row["entries"] += 1
            row["seconds"] += seconds
            row["gpu"] += seconds * len(entry.gpus)
            row["core"] += seconds * (entry.cores or 0)
        return [
            ReportRow(user, profile, kind, r["entries"], r["seconds"], r["gpu"], r["core"])
            for (user, kind, profile), r in sorted(table.items())
        ]
