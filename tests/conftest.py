"""Shared fixtures: one real labdeck hub for the session, and users on it."""

import itertools

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS
from labdeck_process import Labdeck, alive, remove_accounts, remove_tree, traversable_dir
from playwright.sync_api import sync_playwright
from slurm_support import slurm_cluster

_user_numbers = itertools.count(1)


# Figures refresh fast and crashes are noticed quickly, so tests wait seconds, not minutes.
FAST_CONFIG = """
c.StorageMeter.max_age_seconds = 0.5
c.Spawner.poll_interval = 1
c.Spawner.args = ["--LabdeckServerExtension.storage_refresh_seconds=0.5"]
c.SparkClusters.min_idle_timeout_seconds = 3
c.SparkClusters.check_interval_seconds = 1
"""


@pytest.fixture(scope="session", autouse=True)
def _accounts():
    """The OS accounts this run's hubs made for their users go when the run ends."""
    yield
    remove_accounts()


@pytest.fixture(scope="session")
def labdeck():
    """A real `labdeck up` (hub, proxy, service) on a free port, shared by the session,
    on its defaults: as root, each user's code runs as an OS account of its own.

    Two GPU ids are configured (there is no GPU here: what is checked is what each
    session is given).
    """
    parent = traversable_dir()
    instance = Labdeck(
        parent / "state",
        extra_args=["--gpus", "0,1"],
        config=FAST_CONFIG,
    ).start()
    yield instance
    code = instance.stop()
    assert code == 0, instance.log()
    remove_tree(parent)


@pytest.fixture(scope="session")
def slurm():
    """A real single-node Slurm (munged, slurmctld, slurmd) on free ports in a folder of
    its own, for the session; skips when Slurm is not installed (slurm_support.py)."""
    yield from slurm_cluster()


@pytest.fixture
def fresh():
    """Start a labdeck of the test's own (not the shared one); stopped and checked at the end.

    Its state goes in a folder of the test's own that every account may pass through;
    state_dir= puts it elsewhere (a second start on the same state: a restart).
    """
    parent = traversable_dir()
    instances = []

    def start(state_dir=None, **kwargs) -> Labdeck:
        instance = Labdeck(state_dir or parent / "state", **kwargs).start()
        instances.append(instance)
        return instance

    yield start
    for instance in instances:
        started = instance.processes()
        if instance.proc.poll() is None:
            assert instance.stop() == 0
        assert [pid for pid in started if alive(pid)] == []
    remove_tree(parent)


@pytest.fixture
def new_user(labdeck):
    """Factory: create a uniquely named user, returning (name, token)."""

    def create(prefix: str = "user") -> tuple[str, str]:
        name = f"{prefix}{next(_user_numbers)}"
        return name, labdeck.create_user(name)

    return create


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium for one test module.

    Module-scoped: sync Playwright runs an event loop while it lives, which other
    modules' asyncio tests (pytest-jupyter) cannot share.
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def owner(labdeck, new_user):
    """A user whose account and home exist (a first request makes them)."""
    name, token = new_user("jobs")
    response = labdeck.service("POST", "/jobs", token=token, json={"script": "missing.py"})
    assert response.status_code == 400, response.text
    return name, token
