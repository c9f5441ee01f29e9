"""JSON shapes of the service's objects, in one place."""

from datetime import datetime

from ..ledger import KINDS
from ..models import LedgerEntry


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def session_json(session: LedgerEntry) -> dict:
    return {
        "id": session.id,
        "user": session.user,
        "profile": session.profile,
        "gpus": list(session.gpus),
        "started": iso(session.started),
        "deadline": iso(session.deadline),
        "deadline_reason": session.deadline_reason,
        "ended": iso(session.ended),
        "end_reason": session.end_reason,
    }


def ledger_json(entry: LedgerEntry) -> dict:
    return {
        **session_json(entry),
        "kind": entry.kind,
        "resource_id": entry.resource_id,
        "cores": entry.cores,
    }


SESSION_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "user": {"type": "string"},
        "profile": {"type": "string"},
        "gpus": {"type": "array", "items": {"type": "string"}},
        "started": {"type": "string", "format": "date-time"},
        "deadline": {"type": "string", "format": "date-time", "nullable": True},
        "deadline_reason": {"type": "string", "nullable": True},
        "ended": {"type": "string", "format": "date-time", "nullable": True},
        "end_reason": {"type": "string", "nullable": True},
    },
}

LEDGER_SCHEMA = {
    "type": "object",
    "properties": {
        **SESSION_SCHEMA["properties"],
        "kind": {"type": "string", "enum": list(KINDS)},
        "resource_id": {"type": "string"},
        "cores": {"type": "integer", "nullable": True},
    },
}

LIMITS_SCHEMA = {
    "type": "object",
    "properties": {
        "session_seconds": {"type": "integer", "minimum": 0, "nullable": True},
        "daily_seconds": {"type": "integer", "minimum": 0, "nullable": True},
    },
}

QUOTA_SCHEMA = {
    "type": "object",
    "description": "Per runtime profile (cpu, gpu, ...) limits, plus storage_bytes.",
    "properties": {"storage_bytes": {"type": "integer", "minimum": 0, "nullable": True}},
    "additionalProperties": LIMITS_SCHEMA,
}
