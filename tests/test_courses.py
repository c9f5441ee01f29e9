"""Courses: a hub group with a shared folder each member sees as ~/course-<group>
(instructors write, students read, others see nothing, enforced by the OS accounts'
permissions), rosters in bulk from CSV, nbgitpuller links that pull a git repository
into a student's home, and the course's usage in the report."""

import asyncio
import grp
import json
import os
import pwd
import secrets
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from labdeck.accounts import UserAccounts
from labdeck.course_folders import CourseFolders, os_group_names
from labdeck.hub.system_users import system_user_name
from labdeck.service.courses import material_link, parse_roster
from labdeck.service.errors import Invalid
from labdeck_process import ACCOUNT_PREFIX, remove_tree, traversable_dir

COURSES = "/admin/courses"


def account(name: str) -> str:
    return system_user_name(ACCOUNT_PREFIX, name)


def run_as(name: str, *command: str) -> subprocess.CompletedProcess:
    """A command as the user's OS account, with its groups as a login would give them."""
    return subprocess.run(
        ["runuser", "-u", account(name), "--", *command],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def make_account(labdeck, token: str) -> None:
    """A first request that needs it makes the user's account and home."""
    response = labdeck.service("POST", "/jobs", token=token, json={"script": "missing.py"})
    assert response.status_code == 400, response.text


def put_course(labdeck, group: str, expect: int = 200, **body) -> dict:
    return labdeck.service_json("PUT", f"{COURSES}/{group}", expect=expect, json=body)


def home(labdeck, name: str) -> Path:
    return labdeck.state_dir / "homes" / name


@pytest.fixture(scope="module")
def people(labdeck):
    """Hub users with unique names: an instructor, a student and an outsider who exist,
    and a student only the course will create."""
    tag = secrets.token_hex(2)
    names = {role: f"{role}{tag}" for role in ("teach", "stud", "newstud", "outsider")}
    tokens = {role: labdeck.create_user(names[role]) for role in ("teach", "stud", "outsider")}
    return names, tokens


# -- the whole life of a course -------------------------------------------------------------
def test_course_folder_roster_material_and_removal(labdeck, people):
    names, tokens = people
    teach, stud, newstud, outsider = (names[r] for r in ("teach", "stud", "newstud", "outsider"))
    group = f"course{secrets.token_hex(2)}"
    members_group, instructors_group = os_group_names(ACCOUNT_PREFIX, group)
    link = f"course-{group}"
    # the student and the outsider have accounts already; the instructor gets one with
    # their first session, after the course is made
    make_account(labdeck, tokens["stud"])
    make_account(labdeck, tokens["outsider"])

    course = put_course(labdeck, group, instructors=[teach], students=[stud, newstud])
    assert course["instructors"] == [teach] and course["students"] == [stud, newstud]
    assert course["created_users"] == [newstud]
    assert course["link_name"] == link and course["material_link"] is None
    assert labdeck.hub_api("GET", f"/users/{newstud}")["name"] == newstud
    assert sorted(labdeck.hub_api("GET", f"/groups/{group}")["users"]) == sorted(
        [teach, stud, newstud]
    )
    folder = Path(course["folder"])
    assert folder == labdeck.state_dir / "courses" / group / "files"
    # an account that exists gets its link and groups at once
    assert os.readlink(home(labdeck, stud) / link) == str(folder)
    assert account(stud) in grp.getgrnam(members_group).gr_mem
    assert account(stud) not in grp.getgrnam(instructors_group).gr_mem
    assert not (home(labdeck, outsider) / link).exists()

    # more members from a CSV roster: header, blank line, default role
    a, b, c = (f"csv{secrets.token_hex(2)}{n}" for n in range(3))
    roster = f"user,role\n{a},student\n\n{b}\n{c},Instructor\n{stud},student\n"
    response = labdeck.service(
        "POST", f"{COURSES}/{group}/members", data=roster, headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 200, response.text
    course = response.json()
    assert course["instructors"] == [teach, c]
    assert course["students"] == [stud, newstud, a, b]
    assert sorted(course["created_users"]) == sorted([a, b, c])
    listed = labdeck.service_json("GET", COURSES)
    assert next(x for x in listed if x["group"] == group)["students"] == course["students"]

    # the instructor's first session makes their account, groups and link; their lab
    # lists the folder and writes into it
    labdeck.start_server(teach)
    try:
        assert os.readlink(home(labdeck, teach) / link) == str(folder)
        lab = f"/user/{teach}/api/contents"
        listing = labdeck.request("GET", f"{lab}/{link}", token=tokens["teach"])
        assert listing.status_code == 200, listing.text
        assert listing.json()["type"] == "directory"
        top = labdeck.request("GET", f"{lab}/", token=tokens["teach"]).json()["content"]
        assert link in [entry["name"] for entry in top]
        saved = labdeck.request(
            "PUT",
            f"{lab}/{link}/notes.md",
            token=tokens["teach"],
            json={"type": "file", "format": "text", "content": "# Week 1\n"},
        )
        assert saved.status_code == 201, saved.text
        opened = labdeck.request("GET", f"{lab}/{link}/notes.md", token=tokens["teach"])
        assert opened.json()["content"] == "# Week 1\n"
    finally:
        labdeck.stop_server(teach)
    notes = folder / "notes.md"
    owner = os.stat(notes)
    assert owner.st_uid == pwd.getpwnam(account(teach)).pw_uid
    # setgid folder: the instructors' group owns new files
    assert owner.st_gid == grp.getgrnam(instructors_group).gr_gid

    # a student reads, and can neither change, delete nor add
    shared = str(home(labdeck, stud) / link)
    assert run_as(stud, "cat", f"{shared}/notes.md").stdout == "# Week 1\n"
    assert run_as(stud, "sh", "-c", f"echo x >> {shared}/notes.md").returncode != 0
    assert run_as(stud, "rm", "-f", f"{shared}/notes.md").returncode != 0
    assert run_as(stud, "touch", f"{shared}/mine.txt").returncode != 0
    assert notes.read_text() == "# Week 1\n"
    # an instructor's account writes there outside a lab too
    assert run_as(teach, "touch", f"{folder}/handout.txt").returncode == 0
    # someone not in the course cannot even look
    assert run_as(outsider, "ls", str(folder)).returncode != 0
    assert run_as(outsider, "cat", str(notes)).returncode != 0

    # material from git: the nbgitpuller link pulls it into a student's home
    repo_parent = traversable_dir("labdeck-material-")
    try:
        repository = _material_repository(repo_parent, stud)
        course = put_course(
            labdeck,
            group,
            instructors=course["instructors"],
            students=course["students"],
            repository=f"file://{repository}",
            branch="main",
        )
        assert course["created_users"] == []
        link_url = urlparse(course["material_link"])
        assert link_url.path.endswith("/hub/user-redirect/git-pull")
        query = {key: values[0] for key, values in parse_qs(link_url.query).items()}
        assert query["repo"] == f"file://{repository}" and query["branch"] == "main"
        assert query["urlpath"] == "lab/tree/material"
        pulled = home(labdeck, stud) / query["targetpath"]

        labdeck.start_server(stud)
        try:
            # what the link's page does: the lab's git-pull API, an event stream
            response = labdeck.request(
                "GET",
                f"/user/{stud}/git-pull/api",
                token=tokens["stud"],
                params={k: v for k, v in query.items() if k in ("repo", "branch", "targetpath")},
                timeout=120,
            )
            assert response.status_code == 200, response.text
            events = [
                json.loads(line[len("data: ") :])
                for line in response.text.splitlines()
                if line.startswith("data: ")
            ]
            assert events[-1]["phase"] == "finished", events
        finally:
            labdeck.stop_server(stud)
        lesson = pulled / "lesson.md"
        assert lesson.read_text() == "Lesson 1\n"
        assert os.stat(lesson).st_uid == pwd.getpwnam(account(stud)).pw_uid
    finally:
        remove_tree(repo_parent)

    # the course's usage: its members' sessions, nobody else's
    report = labdeck.service_json("GET", f"/admin/usage?group={group}")
    users = {row["user"] for row in report["rows"]}
    assert {teach, stud} <= users
    assert outsider not in users
    assert all(group in row["groups"] for row in report["rows"])

    # removal: record, hub group, OS groups and links go; the files stay
    response = labdeck.service("DELETE", f"{COURSES}/{group}")
    assert response.status_code == 204, response.text
    assert labdeck.service("GET", f"{COURSES}/{group}").status_code == 404
    assert labdeck.request("GET", f"/hub/api/groups/{group}").status_code == 404
    for name in (members_group, instructors_group):
        with pytest.raises(KeyError):
            grp.getgrnam(name)
    assert not os.path.lexists(home(labdeck, stud) / link)
    assert not os.path.lexists(home(labdeck, teach) / link)
    assert notes.read_text() == "# Week 1\n"

    # the same course again finds its files
    course = put_course(labdeck, group, instructors=[teach], students=[stud])
    assert run_as(stud, "cat", f"{shared}/notes.md").stdout == "# Week 1\n"
    assert labdeck.service("DELETE", f"{COURSES}/{group}").status_code == 204


def _material_repository(parent: Path, reader: str) -> Path:
    """A git repository with one lesson; git refuses to read a repository another account
    owns, so it is the reading student's (as a repository they may clone would be)."""
    repository = parent / "material"
    repository.mkdir()
    (repository / "lesson.md").write_text("Lesson 1\n")
    git = ["git", "-C", str(repository), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "lesson 1"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    entry = pwd.getpwnam(account(reader))
    for path in (repository, *repository.rglob("*")):
        os.lchown(path, entry.pw_uid, entry.pw_gid)
    repository.chmod(0o755)
    return repository


# -- refusals ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "group,body,code",
    [
        ("%2E%2E", {}, "invalid_group"),
        # the proxy decodes it: the path leaves the route
        ("a%2Fb", {}, "not_found"),
        ("%20lead", {}, "invalid_group"),
        ("x" * 260, {}, "invalid_group"),
        ("ok", {"students": ["Upper"]}, "invalid_user"),
        ("ok", {"students": ["two words"]}, "invalid_user"),
        ("ok", {"students": ["a/b"]}, "invalid_user"),
        ("ok", {"students": [7]}, "invalid_user"),
        ("ok", {"students": "alice"}, "invalid_request"),
        ("ok", {"instructors": {"a": 1}}, "invalid_request"),
        ("ok", {"students": [f"s{n}" for n in range(2001)]}, "invalid_request"),
        ("ok", {"members": []}, "invalid_request"),
        ("ok", {"repository": "not a url"}, "invalid_repository"),
        ("ok", {"repository": "ftp://example.org/x.git"}, "invalid_repository"),
        ("ok", {"repository": 3}, "invalid_repository"),
        ("ok", {"repository": "https://example.org/x.git", "branch": "-x"}, "invalid_branch"),
        ("ok", {"repository": "https://example.org/x.git", "branch": "a..b"}, "invalid_branch"),
    ],
)
def test_bad_courses_are_refused_and_change_nothing(labdeck, group, body, code):
    fresh = f"never{secrets.token_hex(3)}"
    body = {**body, "instructors": body.get("instructors", [fresh])}
    before = labdeck.service_json("GET", COURSES)
    response = labdeck.service("PUT", f"{COURSES}/{group}", json=body)
    assert response.status_code == (404 if code == "not_found" else 400), response.text
    assert response.json()["error"] == code, response.text
    assert labdeck.service_json("GET", COURSES) == before
    assert labdeck.request("GET", f"/hub/api/users/{fresh}").status_code == 404


def test_bad_rosters_name_the_line_and_change_nothing(labdeck, people):
    names, _ = people
    group = f"roster{secrets.token_hex(2)}"
    put_course(labdeck, group, instructors=[names["teach"]])
    fresh = f"never{secrets.token_hex(3)}"
    try:
        for roster, line in [
            (f"user,role\n{fresh},student\nBad Name,student\n", "line 3"),
            (f"{fresh},student\n\nx,teacher\n", "line 3"),
            (f"{fresh},student,extra\n", "line 1"),
        ]:
            response = labdeck.service(
                "POST",
                f"{COURSES}/{group}/members",
                data=roster,
                headers={"Content-Type": "text/csv"},
            )
            assert response.status_code == 400, response.text
            assert line in response.json()["message"].lower(), response.text
        bad = labdeck.service("POST", f"{COURSES}/{group}/members", json={"learners": []})
        assert bad.status_code == 400, bad.text
        assert labdeck.service_json("GET", f"{COURSES}/{group}")["students"] == []
        assert labdeck.request("GET", f"/hub/api/users/{fresh}").status_code == 404
        missing = labdeck.service("POST", f"{COURSES}/nosuch{fresh}/members", json={})
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"
        assert labdeck.service("DELETE", f"{COURSES}/nosuch{fresh}").status_code == 404
    finally:
        assert labdeck.service("DELETE", f"{COURSES}/{group}").status_code == 204


def test_only_admins_manage_courses(labdeck, people):
    names, tokens = people
    token = tokens["stud"]
    group = f"mine{secrets.token_hex(2)}"
    for method, path, kwargs in [
        ("GET", COURSES, {}),
        ("GET", f"{COURSES}/{group}", {}),
        ("PUT", f"{COURSES}/{group}", {"json": {"instructors": [names["stud"]]}}),
        ("POST", f"{COURSES}/{group}/members", {"json": {"students": [names["stud"]]}}),
        ("DELETE", f"{COURSES}/{group}", {}),
    ]:
        response = labdeck.service(method, path, token=token, **kwargs)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"] == "admin_only"
    assert labdeck.request("GET", f"/hub/api/groups/{group}").status_code == 404


def test_without_isolation_the_folder_and_links_still_exist(tmp_path):
    """One account for everyone (not root, or isolation off): no OS groups, same layout."""
    accounts = UserAccounts(isolation=False, homes=str(tmp_path / "homes"), prefix="nobody-")
    folders = CourseFolders(tmp_path / "courses", accounts)
    asyncio.run(folders.apply("intro", ["ann"], ["bob"], gone=[]))
    target = tmp_path / "courses" / "intro" / "files"
    for user in ("ann", "bob"):
        assert os.readlink(tmp_path / "homes" / user / "course-intro") == str(target)
    (target / "kept.txt").write_text("kept")
    asyncio.run(folders.apply("intro", ["ann"], [], gone=["bob"]))
    assert not os.path.lexists(tmp_path / "homes" / "bob" / "course-intro")
    asyncio.run(folders.remove("intro", ["ann"]))
    assert not os.path.lexists(tmp_path / "homes" / "ann" / "course-intro")
    assert (target / "kept.txt").read_text() == "kept"


# -- pure parts -------------------------------------------------------------------------------
def test_roster_parsing():
    roster = b"\xef\xbb\xbfUser,Role\r\nann,instructor\r\n\r\nbob\r\n cy , student\n"
    assert parse_roster(roster) == (["ann"], ["bob", "cy"])
    assert parse_roster(b"") == ([], [])
    with pytest.raises(Invalid, match="Line 2"):
        parse_roster(b"ann\nbob,professor\n")
    with pytest.raises(Invalid, match="not UTF-8"):
        parse_roster(b"\xff\xfe")


def test_material_link_and_group_names():
    link = material_link("/hub/", "https://example.org/org/week 1.git", "main")
    assert link.startswith("/hub/user-redirect/git-pull?repo=https%3A%2F%2Fexample.org")
    query = {k: v[0] for k, v in parse_qs(urlparse(link).query).items()}
    assert query == {
        "repo": "https://example.org/org/week 1.git",
        "branch": "main",
        "targetpath": "week 1",
        "urlpath": "lab/tree/week 1",
    }
    assert material_link("/hub/", None, None) is None
    members, instructors = os_group_names("labdeck-", "A Very Long Course Name/..ü")
    assert members != instructors
    for name in (members, instructors):
        assert len(name) <= 32 and name.startswith("labdeck-")
        assert all(ch.isascii() and (ch.islower() or ch.isdigit() or ch in "-_") for ch in name)
    # no hub user's own account group can take a course's name
    assert system_user_name("labdeck-", "c-x") not in os_group_names("labdeck-", "x")
