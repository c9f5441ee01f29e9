"""Hub users and services the control plane has seen, and when."""

from .db import Database
from .models import User, utcnow


class Users:
    def __init__(self, db: Database):
        self.db = db

    def seen(self, name: str, kind: str) -> None:
        with self.db.session() as db:
            user = db.get(User, name)
            if user is None:
                db.add(User(name=name, kind=kind))
            else:
                user.last_seen = utcnow()
