"""The service's (root's) access to a job's folder in its owner's home.

The folder and everything above it up to the home belong to the owner's account, which
could swap any of them for a link to point root at a file of its choosing: every folder
is opened without following links, from the home down, and files are opened relative to
the last one.
"""

import errno
import os
import shutil
import stat
from pathlib import Path

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# a link or something else planted where a folder or file of ours should be
PLANTED = (errno.ELOOP, errno.ENOTDIR, errno.EINVAL)


def _open_dir(home: Path, parts: tuple[str, ...]) -> int:
    fd = os.open(home, DIR_FLAGS)
    for part in parts:
        try:
            inner = os.open(part, DIR_FLAGS, dir_fd=fd)
        finally:
            os.close(fd)
        fd = inner
    return fd


def read_bytes(home: Path, parts: tuple[str, ...], offset: int = 0, limit: int = 2**20):
    """(up to limit bytes from offset, size of the file) of home/parts, a negative offset
    counting from the end; None if there is no such regular file (or a link or FIFO
    stands there)."""
    try:
        folder = _open_dir(home, parts[:-1])
        try:
            fd = os.open(
                parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder
            )
        finally:
            os.close(folder)
    except FileNotFoundError:
        return None
    except OSError as e:
        if e.errno in PLANTED:
            return None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if offset < 0:
            offset = max(0, info.st_size + offset)
        return os.pread(fd, limit, offset) if offset < info.st_size else b"", info.st_size
    finally:
        os.close(fd)


def remove_tree(home: Path, parts: tuple[str, ...]) -> None:
    """Remove home/parts and all it holds (links are removed, never followed)."""
    try:
        folder = _open_dir(home, parts[:-1])
    except FileNotFoundError:
        return
    except OSError as e:
        if e.errno in PLANTED:
            return
        raise
    try:
        info = os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode):
            shutil.rmtree(parts[-1], dir_fd=folder)
    except FileNotFoundError:
        pass
    finally:
        os.close(folder)
