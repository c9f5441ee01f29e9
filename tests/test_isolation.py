"""Isolation, the default as root: each hub user's code runs as an OS account of its own.

CI runs as root, so every test of the suite runs this way; these tests check the
isolation itself.
"""

import asyncio
import os
import pwd
import stat
import subprocess
from pathlib import Path

import pytest
from labdeck.hub.system_users import ensure_system_user, system_user_name
from labdeck_process import ACCOUNT_PREFIX as PREFIX
from labdeck_process import remove_tree, server_environment, traversable_dir
from spark_support import (
    create_cluster,
    livy_session,
    processes_named,
    run_statement,
    wait_state,
)


@pytest.fixture
def isolated(fresh):
    """A labdeck on its defaults (nothing configured about isolation)."""
    return fresh()


def save_secret(labdeck, name: str, token: str) -> Path:
    """secret.txt saved through the user's lab (its server must run): '<name> only'."""
    response = labdeck.request(
        "PUT",
        f"/user/{name}/api/contents/secret.txt",
        token=token,
        json={"type": "file", "format": "text", "content": f"{name} only"},
    )
    assert response.status_code == 201
    return labdeck.state_dir / "homes" / name / "secret.txt"


def server_uid(labdeck, name) -> int:
    pid = labdeck.hub_api("GET", f"/users/{name}")["servers"][""]["state"]["pid"]
    return os.stat(f"/proc/{pid}").st_uid


def test_each_user_runs_as_their_own_account_with_a_private_home(isolated):
    tokens = {name: isolated.create_user(name) for name in ("ivy", "jon")}
    for name in tokens:
        isolated.start_server(name)

    accounts = {name: pwd.getpwnam(system_user_name(PREFIX, name)) for name in tokens}
    for name, account in accounts.items():
        assert account.pw_uid != 0
        assert server_uid(isolated, name) == account.pw_uid
        home = isolated.state_dir / "homes" / name
        info = home.stat()
        assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (account.pw_uid, 0o700)
        env = server_environment(isolated, name)
        assert env["USER"] == account.pw_name and env["HOME"] == str(home.resolve())

    # a file saved through the lab belongs to its owner, and the other account cannot read it
    secret = save_secret(isolated, "ivy", tokens["ivy"])
    assert secret.stat().st_uid == accounts["ivy"].pw_uid
    peek = subprocess.run(
        ["su", "-s", "/bin/sh", accounts["jon"].pw_name, "-c", f"cat {secret}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert peek.returncode != 0 and "Permission denied" in peek.stderr

    # stop and start again: same account, files still there
    isolated.stop_server("ivy")
    isolated.start_server("ivy")
    assert server_uid(isolated, "ivy") == accounts["ivy"].pw_uid
    assert secret.read_text() == "ivy only"


def test_a_private_state_dir_is_refused_with_a_reason(fresh, tmp_path):
    labdeck = fresh(state_dir=tmp_path / "state")  # under pytest's private tmp dir
    # said at start, before anyone tries
    assert (
        "labdeck: /tmp/pytest-of-root is private (no o+x): "
        "the users' accounts cannot reach their homes" in labdeck.log()
    )
    labdeck.create_user("kim")
    response = labdeck.spawn("kim")
    assert response.status_code == 500
    assert "could not be prepared" in response.json()["message"]
    assert "is private (no o+x)" in labdeck.log()


def test_turning_isolation_off_is_warned_about_and_runs_as_root(fresh):
    labdeck = fresh(config="c.LabdeckSpawner.isolation = False\n")
    assert "WARNING: c.LabdeckSpawner.isolation = False" in labdeck.log()
    labdeck.create_user("ned")
    labdeck.start_server("ned")
    assert server_uid(labdeck, "ned") == 0
    with pytest.raises(KeyError):
        pwd.getpwnam(system_user_name(PREFIX, "ned"))


def test_account_names_are_valid_and_distinct():
    assert system_user_name("labdeck-", "alice") == "labdeck-alice"
    odd = system_user_name("labdeck-", "Alice.Smith@uni.edu")
    assert len(odd) <= 32 and odd.startswith("labdeck-alice-smith")
    assert odd != system_user_name("labdeck-", "alice-smith-uni-edu")
    assert len(system_user_name("labdeck-", "x" * 60)) == 32
    # a hub name chosen to look like another's sanitised account name gets its own
    bob = system_user_name("labdeck-", "bob.smith")
    assert system_user_name("labdeck-", bob.removeprefix("labdeck-")) != bob


def test_spark_and_livy_run_as_the_owners_account(isolated):
    """A statement sent through Livy reads no more than a notebook of its owner could."""
    tokens = {name: isolated.create_user(name) for name in ("lea", "max")}
    isolated.start_server("max")
    save_secret(isolated, "max", tokens["max"])

    cluster = wait_state(isolated, tokens["lea"], create_cluster(isolated, tokens["lea"])["id"])
    lea = pwd.getpwnam(system_user_name(PREFIX, "lea"))  # made for her first cluster
    jvms = processes_named(cluster["id"])
    assert jvms and {os.stat(f"/proc/{pid}").st_uid for pid in jvms} == {lea.pw_uid}

    session_id = livy_session(isolated, tokens["lea"], cluster["id"])
    secrets_to_try = [
        isolated.state_dir / "homes" / "max" / "secret.txt",
        isolated.state_dir / "admin-token",
        isolated.state_dir / "service" / "labdeck.sqlite",
        isolated.state_dir / "hub" / "jupyterhub.sqlite",
    ]
    code = (
        "import os\nprint(os.getuid())\n"
        f"for path in {[str(p) for p in secrets_to_try]!r}:\n"
        "    try:\n        open(path).read(); print('read', path)\n"
        "    except PermissionError:\n        print('denied')\n"
    )
    statement = run_statement(isolated, tokens["lea"], cluster["id"], session_id, code)
    lines = statement["output"]["data"]["text/plain"].split()
    assert lines == [str(lea.pw_uid)] + ["denied"] * len(secrets_to_try)
    driver = next(
        pid
        for pid in processes_named("labdeck.spark.driver")
        if f"lea-livy-{session_id}"
        in open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
    )
    assert os.stat(f"/proc/{driver}").st_uid == lea.pw_uid
    isolated.service("DELETE", f"/clusters/{cluster['id']}", token=tokens["lea"])
    assert processes_named(cluster["id"]) == set()


def test_accounts_made_at_once_by_the_hub_and_the_service_all_come_out(tmp_path):
    """A first lab and a first cluster make one account at the same moment; other users'
    accounts are being made meanwhile (useradd locks /etc/passwd)."""
    parent = traversable_dir()
    names = [f"{PREFIX}race{n}" for n in range(3)]

    async def make_all():
        calls = [ensure_system_user(name, parent / name) for name in names for _ in range(3)]
        return await asyncio.gather(*calls)

    try:
        made = asyncio.run(make_all())
        assert {account.pw_name for account in made} == set(names)
        assert all(pwd.getpwnam(name) for name in names)
    finally:
        remove_tree(parent)
