"""The process supervisor with real processes: groups, accounts, readiness, exit status,
re-adoption after a restart (and a re-used pid), stopping without blocking the loop."""

import asyncio
import logging
import os
import pwd
import signal
import time

import pytest
from labdeck.supervisor import (
    Account,
    NotReady,
    ProcessRecord,
    Supervisor,
    end_pids,
    file_exists,
    http_answers,
    read_own_text,
    tail_lines,
)
from labdeck_process import alive

LOG = logging.getLogger("test-supervisor")


def run(coro):
    return asyncio.run(coro)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry))
    return found


def test_a_command_runs_in_its_own_group_with_its_log_env_and_directory(tmp_path):
    async def scenario():
        process = await Supervisor(LOG).start(
            "echo",
            # field 5 of /proc/<pid>/stat is the process group
            [
                "sh",
                "-c",
                'echo "$GREETING from $(pwd)"; cut -d" " -f5 /proc/$$/stat; echo oops >&2; exit 3',
            ],
            log_path=tmp_path / "logs" / "echo.log",
            env={"GREETING": "hello", "PATH": os.environ["PATH"]},
            cwd=tmp_path,
        )
        assert await process.wait(10)
        return process

    process = run(scenario())
    assert process.exit_status.code == 3
    assert process.exit_status.describe() == "exited with code 3"
    assert process.tail() == [f"hello from {tmp_path}", str(process.pid), "oops"]


def test_ready_checks_and_failures_say_why(tmp_path):
    ready = tmp_path / "ready"

    async def scenario():
        supervisor = Supervisor(LOG)
        up = await supervisor.start(
            "up", ["sh", "-c", f"sleep 0.3; touch {ready}; sleep 30"], log_path=tmp_path / "a"
        )
        await up.wait_ready(file_exists(ready), 10)
        dies = await supervisor.start("dies", ["sh", "-c", "exit 7"], log_path=tmp_path / "b")
        with pytest.raises(NotReady, match="dies exited with code 7 while starting"):
            await dies.wait_ready(file_exists(tmp_path / "never"), 10)
        slow = await supervisor.start("slow", ["sleep", "30"], log_path=tmp_path / "c")
        with pytest.raises(NotReady, match="slow did not get ready within 1 s"):
            await slow.wait_ready(file_exists(tmp_path / "never"), 1)
        silent = http_answers(f"http://127.0.0.1:{free_port_number()}/")
        assert await silent() is False
        await supervisor.terminate([up, slow])
        return up, slow

    up, slow = run(scenario())
    assert up.exit_status.signal == signal.SIGTERM
    assert slow.exit_status.describe() == "killed by SIGTERM"


def free_port_number() -> int:
    from labdeck.net import free_port

    return free_port()


def test_terminate_reaches_the_whole_group_and_kills_what_ignores_sigterm(tmp_path):
    async def scenario():
        supervisor = Supervisor(LOG)
        stubborn = await supervisor.start(
            "stubborn",
            # a child that ignores SIGTERM, under a parent that exits on it
            ["sh", "-c", "sh -c 'trap \"\" TERM; sleep 60' & wait"],
            log_path=tmp_path / "log",
        )
        deadline = time.monotonic() + 10
        while not children_of(stubborn.pid) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        members = [stubborn.pid, *children_of(stubborn.pid)]
        assert len(members) == 2
        # the event loop keeps running while the group is stopped
        ticks = 0

        async def tick():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.05)

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        await supervisor.terminate([stubborn], grace=1)
        took = time.monotonic() - started
        ticker.cancel()
        return members, took, ticks

    members, took, ticks = run(scenario())
    assert [pid for pid in members if alive(pid)] == []
    assert 1 <= took < 5
    assert ticks >= 10


def test_a_restarted_service_adopts_its_processes_but_not_a_reused_pid(tmp_path):
    async def start():
        process = await Supervisor(LOG).start("sleeper", ["sleep", "60"], log_path=tmp_path / "l")
        return process.record.to_json()

    saved = run(start())  # the service that started it is gone; the process is not

    async def after_restart():
        supervisor = Supervisor(LOG)
        record = ProcessRecord.from_json(saved)
        adopted = supervisor.adopt(record, tmp_path / "l")
        assert adopted.running()
        assert adopted.exit_status is None  # not our child: how it ends is not known
        # the same pid with another start time is some other process
        impostor = ProcessRecord("sleeper", record.pid, record.start_time + 1)
        assert not supervisor.adopt(impostor).running()
        assert not impostor.is_ours()
        await supervisor.terminate([adopted], grace=5)
        assert not supervisor.adopt(record).running()

    run(after_restart())
    assert not alive(saved["pid"])


def test_an_account_runs_the_process_as_that_user(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the suite runs as root (scripts/test): accounts need it")
    nobody = Account.named("nobody")
    log = tmp_path / "id.log"

    async def scenario():
        process = await Supervisor(LOG).start(
            "whoami", ["sh", "-c", "id -u; id -g"], log_path=log, account=nobody, cwd="/"
        )
        await process.wait(10)

    run(scenario())
    uid, gid = _ids(log)
    assert (uid, gid) == (nobody.uid, nobody.gid)
    assert nobody.environment()["HOME"] == pwd.getpwnam("nobody").pw_dir


def _ids(log) -> tuple[int, int]:
    first, second = tail_lines(log)
    return int(first), int(second)


def test_end_pids_stops_loose_processes(tmp_path):
    async def scenario():
        first = await asyncio.create_subprocess_exec("sleep", "60")
        second = await asyncio.create_subprocess_exec("sleep", "60")
        await end_pids([first.pid, second.pid], grace=5)
        return [await first.wait(), await second.wait()]

    assert run(scenario()) == [-signal.SIGTERM, -signal.SIGTERM]


def test_tail_lines_reads_only_the_end_of_a_long_log(tmp_path):
    log = tmp_path / "big.log"
    log.write_text("".join(f"line {n}\n" for n in range(10_000)))
    tail = tail_lines(log, max_bytes=100)
    assert tail[-1] == "line 9999" and len(tail) < 12 and tail[0].startswith("line ")
    assert tail_lines(tmp_path / "missing.log") == []


def test_files_a_users_account_planted_are_neither_read_nor_written(tmp_path):
    """Logs and ready files live in folders the user's account owns: a symlink or a FIFO
    put there must not make the service read or write a file of the user's choosing, or
    hang."""
    secret = tmp_path / "secret"
    secret.write_text("root only\n")
    (tmp_path / "link.log").symlink_to(secret)
    os.mkfifo(tmp_path / "fifo.log")
    assert tail_lines(tmp_path / "link.log") == []
    assert tail_lines(tmp_path / "fifo.log") == []
    with pytest.raises(OSError):
        read_own_text(tmp_path / "link.log")

    async def start_logging_to(name: str):
        await Supervisor(LOG).start("echo", ["echo", "written"], log_path=tmp_path / name)

    for name in ("link.log", "fifo.log"):
        with pytest.raises(OSError):
            run(start_logging_to(name))
    assert secret.read_text() == "root only\n"


def test_children_never_inherit_the_services_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "the-services-token")
    monkeypatch.setenv("LABDECK_COOKIE_SECRET", "cookie")
    log = tmp_path / "env.log"

    async def scenario():
        process = await Supervisor(LOG).start(
            "env", ["env"], log_path=log, env={"SPARK_LOCAL_IP": "127.0.0.1"}
        )
        await process.wait(10)

    run(scenario())
    names = {line.split("=", 1)[0] for line in tail_lines(log)}
    assert "SPARK_LOCAL_IP" in names and "PATH" in names
    assert not names & {"JUPYTERHUB_API_TOKEN", "LABDECK_COOKIE_SECRET"}
