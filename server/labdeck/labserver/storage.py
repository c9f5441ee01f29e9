"""Refuse saves through the contents API when the user's storage is full.

The figure comes from the labdeck service (which measures homes off the event loop);
it is refreshed periodically and raised by what this server saves in between, so a
burst of saves cannot run far past the limit. Deleting files is always allowed.
"""

import asyncio
import json
import os
from pathlib import Path

from jupyter_core.utils import ensure_async
from tornado import httpclient, web


def _human_bytes(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} bytes"


def tree_size(path: Path) -> int:
    """Bytes of a file, or of every file below a folder."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += (Path(folder) / name).stat().st_size
            except OSError:
                continue  # gone meanwhile
    return total


def _model_size(model: dict) -> int:
    content = model.get("content")
    if content is None:
        return 0
    if isinstance(content, str):
        return len(content) * 3 // 4 if model.get("format") == "base64" else len(content.encode())
    return len(json.dumps(content))


class StorageGuard:
    def __init__(self, extension):
        self.extension = extension
        self.used_bytes: int | None = None
        self.limit_bytes: int | None = None

    async def refresh(self) -> None:
        """Ask the service for the owner's storage figures; keep the old ones on failure."""
        ext = self.extension
        if not ext.service_url:
            return
        request = httpclient.HTTPRequest(
            ext.service_url.rstrip("/") + "/api/v1/me",
            headers={"Authorization": f"token {ext.hub_api_token}"},
            request_timeout=30,
        )
        try:
            response = await httpclient.AsyncHTTPClient().fetch(request)
            storage = json.loads(response.body).get("storage") or {}
        except (OSError, httpclient.HTTPClientError, ValueError) as e:
            ext.log.warning("labdeck: could not refresh storage figures: %s", e)
            return
        self.used_bytes = storage.get("used_bytes")
        self.limit_bytes = storage.get("limit_bytes")

    def check_save(self, model, path, contents_manager, **kwargs) -> None:
        """pre_save_hook: raise a 403 the lab shows when the save would not fit."""
        self.check_size(_model_size(model), path)

    def guard_copies(self, contents) -> None:
        """Folder copies and checkpoints write files without a save: check them too
        (a file copy is a save, already checked)."""
        copy, checkpoint = contents.copy, contents.create_checkpoint

        async def guarded_copy(from_path, to_path=None):
            source = Path(contents._get_os_path(from_path))
            if source.is_dir():
                self.check_size(await asyncio.to_thread(tree_size, source), to_path or from_path)
            return await ensure_async(copy(from_path, to_path))

        async def guarded_checkpoint(path):
            size = await asyncio.to_thread(tree_size, Path(contents._get_os_path(path)))
            self.check_size(size, f"a checkpoint of {path}")
            return await ensure_async(checkpoint(path))

        contents.copy = guarded_copy
        contents.create_checkpoint = guarded_checkpoint

    def check_size(self, size: int, path: str) -> None:
        """Raise a 403 the lab shows when size more bytes would not fit."""
        if self.used_bytes is None or self.limit_bytes is None:
            return  # no figures (service down, or no limit): never lose work over it
        if self.used_bytes >= self.limit_bytes or self.used_bytes + size > self.limit_bytes:
            raise web.HTTPError(
                403,
                f"Your storage is full: {_human_bytes(self.used_bytes)} of "
                f"{_human_bytes(self.limit_bytes)} used, so {path} was not saved. "
                "Delete files you no longer need, then save again.",
            )
        self.used_bytes += size
