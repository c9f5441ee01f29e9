"""One-time invite links: how a user an admin added sets their first password.

A link carries a random token; only its SHA-256 is kept, in a 0600 JSON file in the hub's
state dir, so a copy of that file lets nobody in. A link works once and until it
expires. Used and expired links are remembered for a while so their page can say why
they no longer work.
"""

import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Used and expired links are forgotten this long after they stopped working.
KEEP_SECONDS = 30 * 24 * 3600


class InviteInvalid(Exception):
    """A link that cannot be used, with a sentence for the person who opened it."""


@dataclass(frozen=True)
class Invite:
    name: str
    expires_at: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InviteStore:
    """Invite links by the hash of their token (the hub is the one process that writes it)."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.clock = clock

    def create(self, name: str, lifetime_seconds: float) -> tuple[str, Invite]:
        """A new link for name (earlier ones of name stop working); return (token, invite)."""
        token = secrets.token_urlsafe(32)
        invite = Invite(name, self.clock() + lifetime_seconds)
        entries = self._without_pending(self._load(), name)
        entries[_digest(token)] = {"name": name, "expires_at": invite.expires_at}
        self._save(entries)
        return token, invite

    def check(self, token: str) -> Invite:
        """The invite behind token if it can be used now; InviteInvalid says why not."""
        entry = self._load().get(_digest(token)) if token else None
        if entry is None:
            raise InviteInvalid(
                "This invite link is not valid. It may be incomplete, or replaced by a "
                "newer one: ask your admin for a new link."
            )
        if entry.get("used_at") is not None:
            raise InviteInvalid(
                "This invite link has already been used. Sign in with the password chosen "
                "then, or ask your admin for a new link."
            )
        if entry["expires_at"] <= self.clock():
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(entry["expires_at"]))
            raise InviteInvalid(
                f"This invite link expired on {when}. Ask your admin for a new link."
            )
        return Invite(entry["name"], entry["expires_at"])

    def redeem(self, token: str) -> Invite:
        """Use the link up: check it and mark it used in one step."""
        invite = self.check(token)
        entries = self._load()
        entries[_digest(token)]["used_at"] = self.clock()
        self._save(entries)
        return invite

    def revoke(self, name: str) -> None:
        """Links of name that still work stop working (a password was set another way)."""
        entries = self._load()
        remaining = self._without_pending(entries, name)
        if remaining != entries:
            self._save(remaining)

    def forget(self, name: str) -> None:
        """Drop every link of name (the user was deleted)."""
        entries = self._load()
        remaining = {key: e for key, e in entries.items() if e["name"] != name}
        if remaining != entries:
            self._save(remaining)

    def _without_pending(self, entries: dict, name: str) -> dict:
        now = self.clock()
        return {
            key: e
            for key, e in entries.items()
            if not (e["name"] == name and e.get("used_at") is None and e["expires_at"] > now)
        }

    def _load(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def _save(self, entries: dict) -> None:
        horizon = self.clock() - KEEP_SECONDS
        kept = {
            key: e
            for key, e in entries.items()
            if (e.get("used_at") or e["expires_at"]) > horizon  # when it stopped working
        }
        # Written whole to a private temporary file, then renamed: never half a file,
        # never a moment where the hashes are readable by others.
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(kept, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
