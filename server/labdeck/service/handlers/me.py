"""`api/v1/me`: who is asking."""

from sqlalchemy import select

from ..models import User, utcnow
from .base import APIHandler

ME_SCHEMA = {
    "type": "object",
    "required": ["name", "admin", "groups"],
    "properties": {
        "name": {"type": "string"},
        "kind": {"type": "string", "enum": ["user", "service"]},
        "admin": {"type": "boolean"},
        "groups": {"type": "array", "items": {"type": "string"}},
    },
}


class MeHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "Who am I",
            "description": "The caller's name, admin flag and groups.",
            "responses": {"200": {"description": "The caller", "schema": ME_SCHEMA}},
        }
    }

    def get(self):
        model = self.user
        self._record_seen(model["name"], model.get("kind", "user"))
        self.write_json(
            {
                "name": model["name"],
                "kind": model.get("kind", "user"),
                "admin": self.is_admin,
                "groups": sorted(model.get("groups") or []),
            }
        )

    def _record_seen(self, name: str, kind: str) -> None:
        with self.db.session() as session:
            user = session.scalar(select(User).where(User.name == name))
            if user is None:
                session.add(User(name=name, kind=kind))
            else:
                user.last_seen = utcnow()


default_handlers = [("api/v1/me", MeHandler)]
