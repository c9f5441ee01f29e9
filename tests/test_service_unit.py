"""Unit tests of the service's building blocks (no hub needed)."""

import re

from labdeck.service.app import LabdeckService, route_pattern
from labdeck.service.db import Database
from labdeck.service.handlers import default_handlers
from labdeck.service.handlers.base import APIHandler
from sqlalchemy import inspect


def test_route_pattern_matches_one_segment_per_parameter():
    pattern = re.compile(route_pattern("/services/labdeck/", "api/v1/clusters/{id}/livy"))
    match = pattern.match("/services/labdeck/api/v1/clusters/c-1/livy")
    assert match and match.group("id") == "c-1"
    assert not pattern.match("/services/labdeck/api/v1/clusters/a/b/livy")
    assert not pattern.match("/services/labdeck/api/v1/clusters/c-1/livy/extra")


def test_migrations_create_the_schema_and_can_run_again(tmp_path):
    url = f"sqlite:///{tmp_path}/service.sqlite"
    Database(url).upgrade()
    db = Database(url)
    db.upgrade()  # a restart runs migrations again: a no-op
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "alembic_version"} <= tables


def test_every_api_handler_authenticates_in_prepare():
    # The check_auth idea: no API route may bypass APIHandler.prepare.
    for template, handler in default_handlers:
        assert issubclass(handler, APIHandler), template
        assert handler.prepare is APIHandler.prepare, f"{template} overrides prepare"
    # a credential other than the hub's: endpoints' access keys, and nothing else
    with_keys = [t for t, h in default_handlers if h.key_holder is not APIHandler.key_holder]
    assert with_keys == ["api/v1/endpoints/{user}/{name}/{path*}"]


def test_openapi_document_lists_every_route_and_verb(tmp_path):
    service = LabdeckService(state_dir=str(tmp_path))
    document = service.openapi_document()
    for template, handler in default_handlers:
        path = "/" + template.removeprefix("api/v1/")
        implemented = {
            verb
            for verb in ("get", "post", "put", "patch", "delete")
            if getattr(handler, verb) is not getattr(APIHandler, verb)
        }
        assert set(document["paths"][path]) == implemented, template
        for operation in document["paths"][path].values():
            assert operation["summary"]
            assert "401" in operation["responses"]
    assert len(document["paths"]) == len(default_handlers)


def test_service_defaults_follow_the_state_dir(tmp_path):
    service = LabdeckService(state_dir=str(tmp_path))
    assert service.db_url == f"sqlite:///{tmp_path}/service/labdeck.sqlite"
    assert service.cookie_secret_file == str(tmp_path / "service" / "cookie_secret")
