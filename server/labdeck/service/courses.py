"""Courses: a hub group of the same name (its quota policy applies to the members), a
shared folder (course_folders.py) and, optionally, a git repository handed out with
nbgitpuller links.

Everything a request asks is checked before anything changes: a course's record, hub
group, OS groups and links then follow its instructors and students.
"""

import asyncio
import csv
import io
import os
import re
from urllib.parse import quote, urlencode, urlparse

from ..course_folders import CourseFolderError, CourseFolders, link_name
from ..hub.system_users import SystemUserError
from .db import Database
from .errors import Invalid, NotFound
from .hub_client import HubClient, HubError
from .models import Course, utcnow

MAX_MEMBERS = 2000
MAX_NAME = 255
MAX_ROSTER_BYTES = 256 * 1024
ROLES = ("instructor", "student")
BODY_FIELDS = {"instructors", "students", "repository", "branch"}
REPOSITORY_SCHEMES = {"https", "http", "git", "ssh", "file"}
SCP_LIKE = re.compile(r"[\w.-]+@[\w.-]+:[^\s]+")  # git@host:org/repo.git
BRANCH = re.compile(r"[A-Za-z0-9._/-]{1,255}")
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


def _text(value: str, what: str) -> str:
    """A name that is whole UTF-8 text without control characters."""
    try:
        value.encode()
    except UnicodeEncodeError:
        raise Invalid(f"{what} {value!r} is not valid text.", "invalid_name") from None
    if UNPRINTABLE.search(value):
        raise Invalid(f"{what} {value!r} has control characters.", "invalid_name")
    return value


def check_group(group: str) -> str:
    """A course name: a hub group name that is also a folder name and fits in a link's."""
    _text(group, "The course name")
    if (
        not group
        or "/" in group
        or set(group) == {"."}
        or group != group.strip()
        or len(link_name(group).encode()) > MAX_NAME
    ):
        raise Invalid(
            f"{group!r} cannot be a course name: use 1 to {MAX_NAME - len(link_name(''))} "
            "characters, no '/', not only dots, no spaces at either end.",
            "invalid_group",
        )
    return group


def check_user(name, where: str = "") -> str:
    """A hub user name as the hub accepts it (lower case, no '/', ',' or spaces)."""
    if not isinstance(name, str):
        raise Invalid(f"User names must be strings, not {name!r}{where}.", "invalid_user")
    _text(name, "The user name")
    if (
        not name
        or len(name) > MAX_NAME
        or set(name) == {"."}
        or any(char in name for char in "/, \t")
        or name != name.lower()
    ):
        raise Invalid(
            f"{name!r} is not a valid user name{where}: use lower case, at most "
            f"{MAX_NAME} characters, no '/', ',' or spaces.",
            "invalid_user",
        )
    return name


def check_names(value, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_MEMBERS:
        raise Invalid(
            f"'{field}' must be a list of at most {MAX_MEMBERS} user names.", "invalid_request"
        )
    return [check_user(name, f" in '{field}'") for name in value]


def check_repository(value) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 1024:
        raise Invalid(
            "'repository' must be a git URL of at most 1024 characters.", "invalid_repository"
        )
    _text(value, "The repository")
    parsed = urlparse(value)
    fine = (
        parsed.scheme in REPOSITORY_SCHEMES and (parsed.netloc or parsed.path.startswith("/"))
    ) or SCP_LIKE.fullmatch(value)
    if not fine or any(char.isspace() for char in value):
        raise Invalid(
            f"'repository' must be a git URL (https://, git://, ssh://, file:// or "
            f"user@host:path), not {value!r}.",
            "invalid_repository",
        )
    return value


def check_branch(value) -> str | None:
    if value is None or value == "":
        return None
    if (
        not isinstance(value, str)
        or not BRANCH.fullmatch(value)
        or value.startswith(("-", "/"))
        or ".." in value
    ):
        raise Invalid(f"'branch' must be a git branch name, not {value!r}.", "invalid_branch")
    return value


def members_of(body: dict) -> tuple[list[str], list[str]]:
    """(instructors, students) of a JSON body; someone in both lists is an instructor."""
    instructors = check_names(body.get("instructors"), "instructors")
    students = check_names(body.get("students"), "students")
    return _roles(instructors, students)


def _roles(instructors: list[str], students: list[str]) -> tuple[list[str], list[str]]:
    instructors = list(dict.fromkeys(instructors))
    chosen = set(instructors)
    students = [name for name in dict.fromkeys(students) if name not in chosen]
    if len(instructors) + len(students) > MAX_MEMBERS:
        raise Invalid(f"A course has at most {MAX_MEMBERS} members.", "too_many_members")
    return instructors, students


def parse_roster(data: bytes) -> tuple[list[str], list[str]]:
    """(instructors, students) of a CSV roster: `user[,role]` per line, an optional
    `user,role` header, role instructor or student (the default), blank lines ignored."""
    if len(data) > MAX_ROSTER_BYTES:
        raise Invalid(f"A roster has at most {MAX_ROSTER_BYTES // 1024} KiB.", "roster_too_large")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("The roster is not UTF-8 text.", "invalid_roster") from None
    instructors, students = [], []
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as e:
        raise Invalid(f"The roster is not CSV: {e}.", "invalid_roster") from None
    for number, row in enumerate(rows, 1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if number == 1 and [cell.lower() for cell in cells[:2]] in (["user"], ["user", "role"]):
            continue
        where = f" (line {number})"
        if len(cells) > 2:
            raise Invalid(f"Line {number} has more than two columns (user,role).", "invalid_roster")
        name = check_user(cells[0], where)
        role = (cells[1] if len(cells) > 1 else "").lower() or "student"
        if role not in ROLES:
            raise Invalid(
                f"Line {number}: the role must be instructor or student, not {cells[1]!r}.",
                "invalid_roster",
            )
        (instructors if role == "instructor" else students).append(name)
    return instructors, students


def material_link(hub_url: str, repository: str | None, branch: str | None) -> str | None:
    """The nbgitpuller link that pulls the repository into a student's home and opens it."""
    if repository is None:
        return None
    folder = repository.rstrip("/").split("/")[-1].split(":")[-1].removesuffix(".git")
    query = {"repo": repository}
    if branch:
        query["branch"] = branch
    query.update(targetpath=folder or "material", urlpath=f"lab/tree/{folder or 'material'}")
    return f"{hub_url.rstrip('/')}/user-redirect/git-pull?{urlencode(query, quote_via=quote)}"


def hub_public_url() -> str:
    """The hub's public URL as the hub tells its services (relative without one)."""
    public = os.environ.get("JUPYTERHUB_PUBLIC_HUB_URL")
    if public:
        return public
    return os.environ.get("JUPYTERHUB_BASE_URL", "/").rstrip("/") + "/hub/"


class Courses:
    """Course records, kept in step with the hub's groups and the folders on disk."""

    def __init__(self, db: Database, hub: HubClient, folders: CourseFolders, hub_url: str):
        self.db = db
        self.hub = hub
        self.folders = folders
        self.hub_url = hub_url
        # one change at a time: groups, links and records of a course move together
        self._lock = asyncio.Lock()

    def every(self) -> list[Course]:
        with self.db.session() as db:
            return list(db.query(Course).order_by(Course.group))

    def get(self, group: str) -> Course:
        with self.db.session() as db:
            course = db.get(Course, group)
        if course is None:
            raise NotFound(f"There is no course called {group!r}.")
        return course

    async def put(self, group: str, body: dict, by: str) -> tuple[Course, list[str]]:
        """Create or replace a course; (the course, hub users it created)."""
        check_group(group)
        unknown = set(body) - BODY_FIELDS
        if unknown:
            raise Invalid(
                f"Unknown field(s): {', '.join(sorted(unknown))}. A course has "
                f"{', '.join(sorted(BODY_FIELDS))}.",
                "invalid_request",
            )
        instructors, students = members_of(body)
        repository = check_repository(body.get("repository"))
        branch = check_branch(body.get("branch"))
        async with self._lock:
            return await self._save(group, instructors, students, repository, branch, by)

    async def add(self, group: str, instructors: list[str], students: list[str], by: str):
        """Add members to a course (an instructor stays one); (the course, users created)."""
        async with self._lock:
            course = self.get(group)
            instructors, students = _roles(
                [*course.instructors, *instructors],
                [*course.students, *students],
            )
            return await self._save(
                group, instructors, students, course.repository, course.branch, by
            )

    async def delete(self, group: str) -> None:
        """Remove the course's record, hub group, OS groups and links; keep its files."""
        async with self._lock:
            course = self.get(group)
            members = [*course.instructors, *course.students]
            await self._hub(self.hub.delete_group(group))
            self.hub.forget_groups(members)
            await self.folders.remove(group, members)
            with self.db.session() as db:
                db.delete(db.get(Course, group))

    async def session_started(self, user: str) -> None:
        """Give a member starting a session their groups and links (they may have joined,
        or got their account, after the course last changed)."""
        async with self._lock:
            for course in self.every():
                if user not in course.instructors and user not in course.students:
                    continue
                try:
                    await self.folders.join(course.group, user, user in course.instructors)
                except (CourseFolderError, SystemUserError, OSError) as e:
                    self.folders.log.warning(
                        "No course folder %s for %s: %s", course.group, user, e
                    )

    async def _save(self, group, instructors, students, repository, branch, by):
        members = [*instructors, *students]
        created = await self._hub(self.hub.create_users(members))
        with self.db.session() as db:
            previous = db.get(Course, group)
            before = [] if previous is None else [*previous.instructors, *previous.students]
        await self._hub(self.hub.set_group_members(group, members))
        gone = [name for name in before if name not in set(members)]
        self.hub.forget_groups([*members, *gone])
        now = utcnow()
        with self.db.session() as db:
            course = db.get(Course, group)
            if course is None:
                course = Course(group=group, created=now)
                db.add(course)
            course.instructors, course.students = instructors, students
            course.repository, course.branch = repository, branch
            course.updated, course.updated_by = now, by
        await self.folders.apply(group, instructors, students, gone)
        return self.get(group), created

    async def _hub(self, call):
        try:
            return await call
        except HubError as e:
            if e.status == 400:
                said = re.search(r'"message": "([^"]*)"', str(e))
                reason = said.group(1) if said else str(e)
                raise Invalid(f"The hub refused it: {reason}.", "hub_refused") from None
            raise

    def json(self, course: Course, created_users: list[str] | None = None) -> dict:
        return {
            "group": course.group,
            "instructors": list(course.instructors),
            "students": list(course.students),
            "folder": str(self.folders.folder(course.group)),
            "link_name": link_name(course.group),
            "repository": course.repository,
            "branch": course.branch,
            "material_link": material_link(self.hub_url, course.repository, course.branch),
            "created": course.created.isoformat(),
            "updated": course.updated.isoformat(),
            "updated_by": course.updated_by,
            "created_users": created_users or [],
        }
