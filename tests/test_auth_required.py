"""Every handler of the service and of the server extension refuses unauthenticated calls.

Like the extension template's check_auth: routes are enumerated from the code, so a new
handler is covered without editing this file.
"""

import re

import pytest
from labdeck.service.app import LabdeckService
from labdeck.service.handlers import page_handlers
from labdeck.service.handlers.prometheus import default_handlers as metrics_handlers

VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PUBLIC_PAGES = {"oauth_callback"}  # completes the login itself: cannot require one


def _fill(template: str) -> str:
    return re.sub(r"\{\w+\*?\}", "x", template)


def _service_calls():
    for template, handler in LabdeckService().routes:
        path = _fill(template)
        for verb in VERBS:
            if verb.lower() in handler.openapi:
                yield verb, f"/services/labdeck/{path}"


@pytest.mark.parametrize("verb,path", list(_service_calls()))
@pytest.mark.parametrize("token", [None, "forged-token"])
def test_service_routes_refuse_unauthenticated_calls(labdeck, verb, path, token):
    response = labdeck.request(verb, path, token=token, json={})
    assert response.status_code == 401, (verb, path, response.text)
    # Livy's routes also say it as Livy does (`msg`), for Livy's clients
    livy = {"msg"} if "/livy/" in path else set()
    assert set(response.json()) == {"error", "message"} | livy


def test_service_pages_require_login(labdeck):
    for template, _handler in page_handlers:
        if template in PUBLIC_PAGES:
            continue
        response = labdeck.request("GET", f"/services/labdeck/{_fill(template)}", token=None)
        assert response.status_code == 302, template
        assert "/hub/api/oauth2/authorize" in response.headers["Location"]


@pytest.mark.parametrize("template", [template for template, _ in metrics_handlers])
def test_metrics_are_for_admins_and_the_metrics_scope(labdeck, new_user, template):
    path = f"/services/labdeck/{template}"
    for token in (None, "forged-token"):
        response = labdeck.request("GET", path, token=token)
        assert response.status_code == 401, response.text
        assert set(response.json()) == {"error", "message"}
    _, user_token = new_user("metrics")
    assert labdeck.request("GET", path, token=user_token).status_code == 403
    assert labdeck.request("GET", path).status_code == 200


@pytest.fixture(scope="module")
def running_server(labdeck):
    name = "authcheck"
    token = labdeck.create_user(name)
    labdeck.start_server(name)
    yield name, token
    labdeck.stop_server(name)


@pytest.mark.parametrize(
    "verb,path",
    [(verb, "labdeck/api/v1/me") for verb in VERBS]
    + [("GET", "labdeck/spark/connect"), ("POST", "labdeck/spark/connect")],
)
@pytest.mark.parametrize("token", [None, "forged-token"])
def test_server_extension_refuses_unauthenticated_calls(labdeck, running_server, verb, path, token):
    name, _ = running_server
    response = labdeck.request(verb, f"/user/{name}/{path}", token=token)
    # jupyter-server answers 403 to API calls without credentials, never proxying them
    assert response.status_code == 403, response.text
    assert '"name"' not in response.text
