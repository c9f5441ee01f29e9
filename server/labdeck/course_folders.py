"""A course's shared folder on disk, its OS groups and the links in its members' homes.

`<root>/<group>/files/` is the folder; every member sees it as `~/course-<group>`. In
isolation mode (per-user OS accounts) the file permissions say who may do what:

    <root>/<group>/         root:<members group>      0750  only members get in
    <root>/<group>/files/   root:<instructors group>  2775  instructors write (new files
                                                             are the group's), students read

Without isolation every user's code runs as one account: the folder and links still
exist, but nothing can keep a student from writing.
Removing a course takes the groups and links away and keeps the files: a course made
again under the same name finds them.
"""

import asyncio
import grp
import logging
import os
import pwd
import stat
from pathlib import Path

from .accounts import UserAccounts
from .hub.system_users import MAX_NAME, system_user_name

LINK_PREFIX = "course-"
FILES = "files"
# useradd, groupadd and gpasswd lock /etc/group; the hub may be making an account
ATTEMPTS = 3
RETRY_SECONDS = 0.5


class CourseFolderError(Exception):
    pass


def link_name(group: str) -> str:
    return LINK_PREFIX + group


def os_group_names(prefix: str, group: str) -> tuple[str, str]:
    """(members, instructors): OS group names for a course, valid for groupadd.

    Made as account names are, from a name with a "/" (which no hub user name has), so
    they always carry a digest and no user's own group can have the same name.
    """
    members = system_user_name(prefix, f"c/{group}")
    instructors = system_user_name(prefix, f"t/{group}")
    assert len(members) <= MAX_NAME and len(instructors) <= MAX_NAME
    return members, instructors


async def _run(*command: str, ok: tuple[int, ...] = (0,)) -> None:
    error = ""
    for attempt in range(ATTEMPTS):
        if attempt:
            await asyncio.sleep(RETRY_SECONDS)
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        _, err = await process.communicate()
        if process.returncode in ok:
            return
        error = err.decode(errors="replace").strip()
    raise CourseFolderError(f"{command[0]} {command[-1]} failed: {error}")


class CourseFolders:
    """The OS side of courses: folders, groups, memberships and links."""

    def __init__(self, root: Path, accounts: UserAccounts, log: logging.Logger | None = None):
        self.root = root
        self.accounts = accounts
        self.log = log or logging.getLogger(__name__)

    @property
    def isolation(self) -> bool:
        return bool(self.accounts.isolation)

    def folder(self, group: str) -> Path:
        """The shared folder members' links point at."""
        return self.root / group / FILES

    def home(self, user: str) -> Path:
        return Path(self.accounts.homes) / user

    def groups(self, group: str) -> tuple[str, str]:
        return os_group_names(self.accounts.prefix, group)

    def _account(self, user: str) -> pwd.struct_passwd | None:
        """The user's OS account if it exists (made by a first session, never here)."""
        try:
            return pwd.getpwnam(self.accounts.name_of(user))
        except KeyError:
            return None

    # -- a whole course -----------------------------------------------------------------
    async def apply(
        self, group: str, instructors: list[str], students: list[str], gone: list[str]
    ) -> None:
        """Make the folder, groups, memberships and links match the course; take links
        away from `gone` (people no longer in it)."""
        members = [*instructors, *students]
        if self.isolation:
            members_group, instructors_group = self.groups(group)
            for name in (members_group, instructors_group):
                await _run("groupadd", "-f", name)
            await self._set_members(members_group, members)
            await self._set_members(instructors_group, instructors)
        await asyncio.to_thread(self._make_folder, group)
        await asyncio.to_thread(self._links, group, members, gone)

    async def remove(self, group: str, members: list[str]) -> None:
        """Take the links and groups away; the files stay."""
        await asyncio.to_thread(self._links, group, [], members)
        if self.isolation:
            for name in self.groups(group):
                # 6: there was no such group (made by hand, or gone already)
                await _run("groupdel", name, ok=(0, 6))

    # -- one member, at the start of a session ------------------------------------------
    async def join(self, group: str, user: str, instructor: bool) -> None:
        """Give a member whose account may be new since the course changed its groups and
        link (their lab starts afterwards, so it has the groups)."""
        if self.isolation:
            await self.accounts.account(user)  # made now if missing, as the spawner would
            members_group, instructors_group = self.groups(group)
            account = self.accounts.name_of(user)
            for name in (members_group, instructors_group):
                await _run("groupadd", "-f", name)
            await _run("gpasswd", "-a", account, members_group)
            if instructor:
                await _run("gpasswd", "-a", account, instructors_group)
        await asyncio.to_thread(self._make_folder, group)
        await asyncio.to_thread(self._links, group, [user], [])

    # -- helpers ------------------------------------------------------------------------
    async def _set_members(self, os_group: str, users: list[str]) -> None:
        """The group's members are exactly these users' accounts (those that exist)."""
        accounts = [self.accounts.name_of(user) for user in users if self._account(user)]
        await _run("gpasswd", "-M", ",".join(accounts), os_group)

    def _make_folder(self, group: str) -> None:
        course = self.root / group
        files = course / FILES
        self.root.mkdir(parents=True, exist_ok=True)
        # accounts pass through to their course, and cannot list the others
        os.chmod(self.root, 0o711 if self.isolation else 0o755)
        course.mkdir(exist_ok=True)
        files.mkdir(exist_ok=True)
        for path in (course, files):
            if stat.S_ISLNK(os.lstat(path).st_mode):
                raise CourseFolderError(f"{path} is a link, not a folder")
        if self.isolation:
            members_group, instructors_group = self.groups(group)
            os.chown(course, 0, grp.getgrnam(members_group).gr_gid)
            os.chmod(course, 0o750)  # noqa: S103 - members only, see above
            instructors_gid = grp.getgrnam(instructors_group).gr_gid
            previous_gid = os.lstat(files).st_gid
            if previous_gid not in (0, instructors_gid):
                # a course made again: its files belonged to the group it had then
                _regroup(files, previous_gid, instructors_gid)
            os.chown(files, 0, instructors_gid)
            os.chmod(files, 0o2775)  # noqa: S103 - students read, see above
        else:
            # one account for everyone: nothing to keep apart
            os.chmod(course, 0o755)  # noqa: S103
            os.chmod(files, 0o755)  # noqa: S103

    def _links(self, group: str, present: list[str], absent: list[str]) -> None:
        target = str(self.folder(group))
        name = link_name(group)
        for user in absent:
            self._unlink(self.home(user), name, target)
        for user in present:
            self._link(user, name, target)

    def _link(self, user: str, name: str, target: str) -> None:
        account = self._account(user) if self.isolation else None
        home = self.home(user)
        if self.isolation and account is None:
            return  # no account yet: its first session makes the link
        if not self.isolation:
            home.mkdir(parents=True, exist_ok=True)
        fd = self._open_home(home)
        if fd is None:
            return
        try:
            try:
                current = os.readlink(name, dir_fd=fd)
            except FileNotFoundError:
                current = None
            except OSError:  # something of the user's own by that name: leave it
                self.log.warning("Not linking %s/%s: a file of that name exists", home, name)
                return
            if current == target:
                return
            if current is not None:
                os.unlink(name, dir_fd=fd)
            os.symlink(target, name, dir_fd=fd)
            if account is not None:
                os.chown(name, account.pw_uid, account.pw_gid, dir_fd=fd, follow_symlinks=False)
        finally:
            os.close(fd)

    def _unlink(self, home: Path, name: str, target: str) -> None:
        fd = self._open_home(home)
        if fd is None:
            return
        try:
            if os.readlink(name, dir_fd=fd) == target:
                os.unlink(name, dir_fd=fd)
        except OSError:
            pass  # no link, or not ours
        finally:
            os.close(fd)

    def _open_home(self, home: Path) -> int | None:
        """The home, refusing a link in its place: root works inside it by descriptor so
        the user's account cannot redirect it elsewhere."""
        try:
            return os.open(home, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None


def _regroup(folder: Path, old_gid: int, new_gid: int) -> None:
    """Give what belonged to old_gid under folder to new_gid, by descriptor and never
    following a link: the instructors may change the tree while root walks it."""
    for _, dirs, files, fd in os.fwalk(folder, follow_symlinks=False):
        for name in (*dirs, *files):
            try:
                entry = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if entry.st_gid == old_gid:
                    os.chown(name, -1, new_gid, dir_fd=fd, follow_symlinks=False)
            except OSError:
                continue  # gone meanwhile
