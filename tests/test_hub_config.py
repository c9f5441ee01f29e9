"""Unit tests of the hub configuration labdeck generates."""

from pathlib import Path

from labdeck.hub.configurer import LABDECK_ACCESS, apply_defaults
from labdeck.hub.settings import HubSettings
from labdeck.hub.spawner import LabdeckSpawner
from labdeck.paths import StateDir
from traitlets.config import Config


def make_settings(tmp_path: Path, **overrides) -> HubSettings:
    values = dict(
        state=StateDir(tmp_path),
        ip="127.0.0.1",
        port=18000,
        hub_port=18081,
        proxy_api_port=18001,
        service_port=18101,
        instance="abc123",
    )
    values.update(overrides)
    return HubSettings(**values)


def configured(settings: HubSettings) -> Config:
    c = Config()
    apply_defaults(c, settings)
    return c


def test_settings_round_trip_through_environment(tmp_path, monkeypatch):
    settings = make_settings(tmp_path, admin="root-of-class")
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    assert HubSettings.from_env() == settings


def test_everything_internal_listens_on_loopback(tmp_path):
    c = configured(make_settings(tmp_path, ip="0.0.0.0"))
    assert c.JupyterHub.ip == "0.0.0.0"  # only the public proxy follows --ip
    assert c.JupyterHub.hub_ip == "127.0.0.1"
    assert c.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert c.JupyterHub.services[0]["url"] == "http://127.0.0.1:18101"


def test_state_lives_in_the_state_dir(tmp_path):
    c = configured(make_settings(tmp_path))
    assert c.JupyterHub.db_url == f"sqlite:///{tmp_path}/hub/jupyterhub.sqlite"
    assert c.JupyterHub.cookie_secret_file == str(tmp_path / "hub" / "jupyterhub_cookie_secret")
    assert c.LabdeckSpawner.home_dir_template == str(tmp_path / "homes" / "{username}")
    assert c.FirstUseAuthenticator.dbm_path == str(tmp_path / "hub" / "passwords.dbm")
    assert c.LabdeckAuthenticator.invites_path == str(tmp_path / "hub" / "invites.json")


def test_admin_token_file_becomes_an_admin_user_token(tmp_path):
    (tmp_path / "admin-token").write_text("s3cret\n")
    c = configured(make_settings(tmp_path, admin="teacher"))
    assert c.JupyterHub.api_tokens == {"s3cret": "teacher"}
    assert c.Authenticator.admin_users == {"teacher"}


def test_users_and_their_servers_may_call_the_service(tmp_path):
    roles = {
        role["name"]: role for role in configured(make_settings(tmp_path)).JupyterHub.load_roles
    }
    assert LABDECK_ACCESS in roles["user"]["scopes"]
    assert "self" in roles["user"]["scopes"]
    assert LABDECK_ACCESS in roles["server"]["scopes"]
    assert roles["labdeck-service"]["services"] == ["labdeck"]


def test_spawner_defaults(tmp_path, monkeypatch):
    spawner = LabdeckSpawner(config=configured(make_settings(tmp_path)))
    assert spawner.default_url == "/lab"
    assert spawner.service_url == "http://127.0.0.1:18101/services/labdeck/"
    assert spawner.instance == "abc123"
    assert Path(spawner.cmd[0]).name == "jupyterhub-singleuser"
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert LabdeckSpawner().allow_root is False
