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
    c = configured(make_settings(tmp_path, admin="teacher"))
    # labdeck's hub loads it as the admin's token (JupyterHub.api_tokens is deprecated)
    assert "api_tokens" not in c.JupyterHub
    assert c.LabdeckHub.admin_token_file == str(tmp_path / "admin-token")
    assert c.LabdeckHub.admin_token_user == "teacher"
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


SLURM_EXAMPLE = Path(__file__).parent.parent / "hub_config" / "slurm" / "labdeck_slurm.py"


def test_backend_slurm_puts_labs_jobs_and_spark_on_slurm(tmp_path):
    c = configured(make_settings(tmp_path, backend="slurm", slurm_partition="gpu"))
    assert c.JupyterHub.spawner_class == "labdeck.hub.slurm_spawner.LabdeckSlurmSpawner"
    assert (c.TrainingJobs.backend_class, c.SparkClusters.backend_class) == ("slurm", "slurm")
    assert c.SlurmSettings.partition == "gpu"
    local = configured(make_settings(tmp_path))
    assert local.JupyterHub.spawner_class == "labdeck.hub.spawner.LabdeckSpawner"
    assert "backend_class" not in local.TrainingJobs


def test_the_slurm_example_config_sets_real_traits_with_valid_values(tmp_path, monkeypatch):
    """hub_config/slurm/labdeck_slurm.py, loaded after `--backend slurm`'s defaults as
    jupyterhub_config.d files are: every setting is a trait its class takes."""
    from jupyterhub.app import JupyterHub
    from labdeck.hub.slurm_spawner import LabdeckSlurmSpawner
    from labdeck.quota.profiles import RuntimeProfiles
    from labdeck.service.gpus import GPUPool
    from labdeck.slurm import SlurmSettings
    from traitlets.config import PyFileConfigLoader

    monkeypatch.setenv("SLURM_CONF", "/etc/slurm/slurm.conf")
    c = configured(make_settings(tmp_path, backend="slurm"))
    c.merge(PyFileConfigLoader(SLURM_EXAMPLE.name, str(SLURM_EXAMPLE.parent)).load_config())
    spawner = LabdeckSlurmSpawner(config=c, _deprecated_db_session=None)
    assert (spawner.queue_timeout_seconds, spawner.ip) == (7200, "0.0.0.0")
    assert spawner.req_partition == "interactive"
    assert SlurmSettings(config=c).extra_sbatch_args == ["--account=teaching", "--qos=normal"]
    assert [p.gpus for p in RuntimeProfiles(config=c).all()] == [0, 1]
    assert GPUPool(config=c).ids == ["0", "1", "2", "3"]
    hub = JupyterHub(config=c)
    assert hub.hub_connect_ip == "login1.cluster" and hub.hub_ip == "0.0.0.0"
    for section, cls in {
        "LabdeckSlurmSpawner": LabdeckSlurmSpawner,
        "SlurmSettings": SlurmSettings,
        "RuntimeProfiles": RuntimeProfiles,
        "GPUPool": GPUPool,
    }.items():
        unknown = set(c[section]) - set(cls.class_traits(config=True))
        assert not unknown, f"{section} has no configurable {sorted(unknown)}"


def test_a_runtime_becomes_slurms_request_and_the_deadline_its_time_limit(tmp_path):
    from datetime import UTC, datetime, timedelta

    from labdeck.hub.slurm_spawner import LabdeckSlurmSpawner, queue_message
    from labdeck.quota.profiles import Profile

    spawner = LabdeckSlurmSpawner(config=configured(make_settings(tmp_path, backend="slurm")))
    deadline = datetime.now(UTC) + timedelta(hours=2)
    spawner.session_env = {"LABDECK_SESSION_DEADLINE": deadline.isoformat()}
    spawner.apply_profile(Profile("gpu", "GPU", cpu_limit=3.5, mem_limit="6G", gpus=2))
    assert (spawner.req_nprocs, spawner.req_memory, spawner.req_gres) == ("4", "6144M", "gpu:2")
    assert spawner.req_runtime == "125"  # minutes: the deadline and a 5 minute margin
    spawner.apply_profile(Profile("cpu", "CPU", cpu_limit=1))
    assert (spawner.req_memory, spawner.req_gres) == ("", "")
    assert queue_message("Priority", 3, "main") == (
        "waiting behind jobs of higher priority, position 3 in partition main"
    )
    assert queue_message("Unheard", None, "") == "waiting (Unheard)"
