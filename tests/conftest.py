"""Shared fixtures: one real labdeck hub for the session, and users on it."""

import itertools

import pytest
from labdeck_process import Labdeck

_user_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def labdeck(tmp_path_factory):
    """A real `labdeck up` (hub, proxy, service) on a free port, shared by the session."""
    instance = Labdeck(tmp_path_factory.mktemp("labdeck") / "state").start()
    yield instance
    code = instance.stop()
    assert code == 0, instance.log()


@pytest.fixture
def new_user(labdeck):
    """Factory: create a uniquely named user, returning (name, token)."""

    def create(prefix: str = "user") -> tuple[str, str]:
        name = f"{prefix}{next(_user_numbers)}"
        return name, labdeck.create_user(name)

    return create
