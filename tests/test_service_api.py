"""The control-plane service through the real proxy, as users, admins and strangers call it."""

import pytest

API = "/services/labdeck/api/v1"


def test_me_for_a_user(labdeck, new_user):
    name, token = new_user("me")
    response = labdeck.request("GET", f"{API}/me", token=token)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    me = response.json()
    assert {k: me[k] for k in ("name", "kind", "admin", "groups")} == {
        "name": name,
        "kind": "user",
        "admin": False,
        "groups": [],
    }


def test_me_for_the_admin_token(labdeck):
    me = labdeck.request("GET", f"{API}/me").json()
    assert me["name"] == "admin"
    assert me["admin"] is True


def test_me_shows_groups(labdeck, new_user):
    name, token = new_user("grouped")
    labdeck.hub_api("POST", "/groups/class-a", json={"users": [name]})
    assert labdeck.request("GET", f"{API}/me", token=token).json()["groups"] == ["class-a"]


@pytest.mark.parametrize("token", [None, "not-a-real-token"])
def test_no_valid_credentials_is_a_json_401_not_a_redirect(labdeck, token):
    response = labdeck.request("GET", f"{API}/me", token=token)
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "not_authenticated"
    assert "token" in body["message"]
    assert "Location" not in response.headers


def test_unknown_api_path_is_a_json_404(labdeck, new_user):
    _, token = new_user()
    response = labdeck.request("GET", f"{API}/no-such-thing", token=token)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_unsupported_verb_is_a_json_405(labdeck, new_user):
    _, token = new_user()
    response = labdeck.request("DELETE", f"{API}/me", token=token)
    assert response.status_code == 405
    assert set(response.json()) == {"error", "message"}


def test_openapi_document_is_served_and_matches_the_routes(labdeck, new_user):
    _, token = new_user()
    document = labdeck.request("GET", f"{API}/openapi.json", token=token).json()
    assert document["openapi"].startswith("3.")
    assert document["servers"][0]["url"] == API
    assert {"/me", "/openapi.json", "/clusters", "/admin/usage"} <= set(document["paths"])
    # every documented GET without parameters answers: users, or admins for admin paths
    for path, operations in document["paths"].items():
        if "{" not in path and "get" in operations:
            caller = "admin" if path.startswith("/admin/") else token
            assert labdeck.request("GET", API + path, token=caller).status_code == 200, path
            if caller == "admin":
                assert labdeck.request("GET", API + path, token=token).status_code == 403


def test_landing_page_redirects_a_browser_to_hub_login(labdeck):
    response = labdeck.request("GET", "/services/labdeck/", token=None)
    assert response.status_code == 302
    assert "/hub/api/oauth2/authorize" in response.headers["Location"]
