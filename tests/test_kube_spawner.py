"""labdeck on Kubernetes, without a cluster: the configuration the zero-to-jupyterhub chart
runs (hub_config/kubernetes/), and what the hub would send to Kubernetes for a lab (the
pod and PVC manifests, serialised as the API client sends them).

KubeSpawner builds an API client when it is made, so a kubeconfig names a cluster at an
address that does not resolve; building manifests never contacts it.
"""

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from jupyterhub.app import JupyterHub
from jupyterhub.objects import Hub, Server
from jupyterhub.scopes import _check_scopes_exist
from jupyterhub.services.service import Service
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import kube_config
from labdeck.accounts import UserAccounts
from labdeck.hub.kube_config import CONFIG_FILE, KubeSettings
from labdeck.hub.kube_spawner import LabdeckKubeSpawner, pod_end_reason, storage_quantity
from labdeck.quota.policy import QuotaPolicy
from labdeck.quota.profiles import RuntimeProfiles
from labdeck.service.app import LabdeckService
from labdeck.service.gpus import GPUPool
from traitlets import TraitError
from traitlets.config import Config, PyFileConfigLoader

VALUES = Path(__file__).parents[1] / "hub_config" / "kubernetes" / "values.yaml"
GIB = 2**30
HOME_MOUNT_PATH = LabdeckKubeSpawner.class_traits()["home_mount_path"].default_value
KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "none", "cluster": {"server": "https://kubernetes.invalid:6443"}}],
    "users": [{"name": "none", "user": {"token": "unused"}}],
    "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}],
    "current-context": "none",
}
# the hub pod's environment the config reads (hub.extraEnv, and the chart's hub.db.password)
ENV = {
    "LABDECK_DB_URL": "postgresql://jupyterhub@postgresql:5432/labdeck",
    "LABDECK_CLUSTER_GPUS": "3",
    "PGPASSWORD": "pg-secret",
}
# what the service grants a session (its environment), with labdeck's own device ids
GRANTS = {
    "cpu": {
        "LABDECK_PROFILE": "cpu",
        "LABDECK_SESSION_ID": "7",
        "CUDA_VISIBLE_DEVICES": "",
        "NVIDIA_VISIBLE_DEVICES": "void",
        "LABDECK_SESSION_DEADLINE": "2030-01-01T12:00:00",
    },
    "gpu": {
        "LABDECK_PROFILE": "gpu",
        "LABDECK_SESSION_ID": "8",
        "CUDA_VISIBLE_DEVICES": "k8s-1",
        "NVIDIA_VISIBLE_DEVICES": "k8s-1",
        "LABDECK_SESSION_DEADLINE": "2030-01-01T12:00:00",
    },
}


@pytest.fixture(scope="module", autouse=True)
def kubeconfig(tmp_path_factory):
    path = tmp_path_factory.mktemp("kube") / "config"
    path.write_text(json.dumps(KUBECONFIG))
    # read when the first spawner is made (the client's module read $KUBECONFIG at import)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))
        yield


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def load_as_jupyterhub() -> Config:
    """The config file loaded the way JupyterHub loads one (`c` is a fresh Config)."""
    return PyFileConfigLoader(CONFIG_FILE.name, str(CONFIG_FILE.parent)).load_config()


def load_as_chart(values: dict) -> Config:
    """What the chart's jupyterhub_config.py does with our parts, in its order: it starts
    the services and roles lists, passes `hub.config` through, then execs each
    `hub.extraConfig` snippet in its own namespace."""
    c = Config()
    c.JupyterHub.services = []
    c.JupyterHub.load_roles = []
    for section, settings in values["hub"].get("config", {}).items():
        c[section].update(settings)
    namespace = {"c": c}
    for _, snippet in sorted(values["hub"]["extraConfig"].items()):
        exec(snippet, namespace)  # noqa: S102 - the chart runs these the same way
    return c


def values() -> dict:
    return yaml.safe_load(VALUES.read_text())


def user(name="alice", groups=()):
    return SimpleNamespace(
        name=name,
        id=1,
        url=f"/user/{name}/",
        escaped_name=name,
        server=Server(),
        groups=[SimpleNamespace(name=group) for group in groups],
    )


def spawner(c: Config, owner=None) -> LabdeckKubeSpawner:
    return LabdeckKubeSpawner(config=c, user=owner or user(), hub=Hub(), _mock=True)


async def manifests(lab: LabdeckKubeSpawner, profile: str) -> tuple[dict, dict]:
    """The pod and PVC a start with this profile sends, as JSON for the API server: what
    `start` does once the service granted the session."""
    lab.session_env = dict(GRANTS[profile])
    lab.apply_profile(lab.runtime_profiles.get(profile))
    api = ApiClient()
    try:
        pod = api.sanitize_for_serialization(await lab.get_pod_manifest())
        pvc = api.sanitize_for_serialization(lab.get_pvc_manifest())
    finally:
        await api.close()
    return pod, pvc


def container(pod: dict) -> dict:
    (notebook,) = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
    return notebook


def env_of(pod: dict) -> dict:
    return {item["name"]: item.get("value") for item in container(pod)["env"]}


def build(c: Config, profile: str, owner=None) -> tuple[dict, dict]:
    async def scenario():
        return await manifests(spawner(c, owner), profile)

    return asyncio.run(scenario())


# -- the config file's traits ----------------------------------------------------------------
SPAWNER_SECTIONS = {"Spawner", "KubeSpawner", "LabdeckKubeSpawner"}
CONFIGURABLES = {
    "JupyterHub": JupyterHub,
    "GPUPool": GPUPool,
    "QuotaPolicy": QuotaPolicy,
    "RuntimeProfiles": RuntimeProfiles,
    "LabdeckService": LabdeckService,
    "UserAccounts": UserAccounts,
}


def check_sections(c: Config) -> None:
    """Every section is a class the hub (or the service) configures, every key one of its
    configurable traits, and every value one the trait accepts."""
    for section, settings in c.items():
        cls = LabdeckKubeSpawner if section in SPAWNER_SECTIONS else CONFIGURABLES[section]
        traits = cls.class_traits(config=True)
        unknown = set(settings) - set(traits)
        assert not unknown, f"{section} has no configurable {sorted(unknown)}"
    for section in c.keys() - SPAWNER_SECTIONS:
        configured = CONFIGURABLES[section](config=c)  # raises TraitError on a bad value
        for key, value in c[section].items():
            if key != "spawner_class":
                assert getattr(configured, key) == value, (section, key)


def test_config_file_sets_only_real_traits_with_valid_values():
    c = load_as_jupyterhub()
    check_sections(c)

    async def scenario():
        lab = spawner(c)
        assert JupyterHub(config=c).spawner_class is LabdeckKubeSpawner
        assert lab.service_url == "http://127.0.0.1:10101/services/labdeck/"
        assert lab.pod_service_url == "http://hub:10101/services/labdeck/"
        assert lab.service_token == c.JupyterHub.services[0]["api_token"]
        assert lab.default_url == "/lab"

    asyncio.run(scenario())


def test_service_registration_and_what_it_is_handed():
    c = load_as_jupyterhub()
    (spec,) = c.JupyterHub.services
    service = Service()
    for key, value in spec.items():
        assert key in service.traits(), f"no service field {key}"
        setattr(service, key, value)  # validates the type, as the hub does
    assert spec["url"] == "http://hub:10101"
    assert spec["command"][1:] == ["-m", "labdeck.service"]
    env = spec["environment"]
    assert env["JUPYTERHUB_API_URL"] == "http://127.0.0.1:8081/hub/api"
    assert env["PGPASSWORD"] == "pg-secret"  # in its environment, never on a command line
    assert "pg-secret" not in " ".join(spec["command"])

    # the service's own settings, and the policy it shares with the hub
    shared = Config(json.loads(env["LABDECK_SHARED_CONFIG"]))
    check_sections(shared)
    assert shared.LabdeckService.db_url == ENV["LABDECK_DB_URL"]
    assert shared.LabdeckService.service_url == "http://0.0.0.0:10101"
    assert shared.GPUPool.ids == ["k8s-0", "k8s-1", "k8s-2"]
    assert shared.QuotaPolicy == c.QuotaPolicy
    # user code other than labs would run in the hub's pod: none is allowed
    quota = QuotaPolicy(config=shared).quota_for([])
    assert quota["spark"]["clusters"] == quota["jobs"]["concurrent"] == 0
    assert quota["deployments"]["concurrent"] == 0

    roles = {role["name"]: role for role in c.JupyterHub.load_roles}
    assert roles["labdeck-service"]["services"] == ["labdeck"]
    for role in roles.values():
        _check_scopes_exist(role["scopes"])


def test_the_service_takes_its_settings_from_what_the_hub_hands_it(tmp_path, monkeypatch):
    # SQLite stands in for PostgreSQL: the URL reaches the service the same way
    db_url = f"sqlite:///{tmp_path}/labdeck.sqlite"
    monkeypatch.setenv("LABDECK_DB_URL", db_url)
    (spec,) = load_as_jupyterhub().JupyterHub.services
    # the environment the hub starts it with (JupyterHub adds the token and its URL)
    for name, value in spec["environment"].items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LABDECK_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", spec["api_token"])
    monkeypatch.setenv("JUPYTERHUB_SERVICE_URL", spec["url"])
    service = LabdeckService()
    service.initialize([])
    assert service.db_url == db_url
    assert service.service_url == "http://0.0.0.0:10101"  # where it listens in the hub's pod
    assert service.hub.api_url == "http://127.0.0.1:8081/hub/api"
    assert service.gpus.ids == ["k8s-0", "k8s-1", "k8s-2"]
    assert service.accounts.isolation is False


def test_a_kubespawner_profile_list_is_refused():
    c = load_as_jupyterhub()
    c.LabdeckKubeSpawner.profile_list = [{"display_name": "big", "kubespawner_override": {}}]

    async def scenario():
        with pytest.raises(TraitError, match="RuntimeProfiles"):
            spawner(c)

    asyncio.run(scenario())


# -- what Kubernetes receives ------------------------------------------------------------------
def test_cpu_lab_pod_and_home():
    pod, pvc = build(load_as_jupyterhub(), "cpu")
    resources = container(pod)["resources"]
    # the default CPU runtime: 4 cores, 16G (JupyterHub's G is 2**30 bytes)
    assert resources["limits"] == {"cpu": 4.0, "memory": 16 * GIB}
    assert resources["requests"] == {"cpu": 4.0, "memory": 16 * GIB}
    assert "tolerations" not in pod["spec"] and "nodeSelector" not in pod["spec"]

    env = env_of(pod)
    assert env["LABDECK_SERVICE_URL"] == "http://hub:10101/services/labdeck/"
    assert env["LABDECK_SESSION_ID"] == "7"
    # a CPU lab sees no GPU, even on a node that has some
    assert env["CUDA_VISIBLE_DEVICES"] == ""
    assert env["NVIDIA_VISIBLE_DEVICES"] == "void"

    # the home: a PVC the size of the default storage quota (15 GB), mounted at ~
    assert pvc["spec"]["resources"]["requests"]["storage"] == "15G"
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    (volume,) = pod["spec"]["volumes"]
    assert volume["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    assert container(pod)["volumeMounts"] == [{"name": volume["name"], "mountPath": "/home/jovyan"}]


def test_gpu_lab_asks_kubernetes_for_its_gpus():
    pod, _ = build(load_as_jupyterhub(), "gpu")
    resources = container(pod)["resources"]
    assert resources["limits"] == {"cpu": 4.0, "memory": 16 * GIB, "nvidia.com/gpu": "1"}
    assert resources["requests"] == {"cpu": 4.0, "memory": 16 * GIB, "nvidia.com/gpu": "1"}
    assert pod["spec"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    env = env_of(pod)
    # the device plugin says which GPUs; labdeck's pool ids would hide them
    assert "CUDA_VISIBLE_DEVICES" not in env
    assert "NVIDIA_VISIBLE_DEVICES" not in env
    assert env["LABDECK_SESSION_ID"] == "8"
    assert env["LABDECK_SERVICE_URL"] == "http://hub:10101/services/labdeck/"


def test_a_cpu_start_after_a_gpu_one_keeps_nothing_of_it():
    async def scenario():
        lab = spawner(load_as_jupyterhub())
        await manifests(lab, "gpu")
        return await manifests(lab, "cpu")

    pod, _ = asyncio.run(scenario())
    resources = container(pod)["resources"]
    assert "nvidia.com/gpu" not in resources["limits"]
    assert "nvidia.com/gpu" not in resources["requests"]
    assert "tolerations" not in pod["spec"]
    assert env_of(pod)["NVIDIA_VISIBLE_DEVICES"] == "void"


def test_home_size_follows_the_storage_quota_of_the_users_groups():
    c = Config({"QuotaPolicy": {"group_quotas": {"class-101": {"storage_bytes": 50 * GIB}}}})
    exec(CONFIG_FILE.read_text(), {"c": c})  # noqa: S102 - as the chart's extraConfig does
    _, pvc = build(c, "cpu", user("bob", groups=["class-101"]))
    assert pvc["spec"]["resources"]["requests"]["storage"] == "50Gi"
    _, pvc = build(c, "cpu", user("carol", groups=["other"]))
    assert pvc["spec"]["resources"]["requests"]["storage"] == "15G"


def test_unlimited_storage_gets_the_configured_capacity():
    quota = QuotaPolicy().default_quota
    quota["storage_bytes"] = None
    c = Config({"QuotaPolicy": {"default_quota": quota}})
    c.KubeSpawner.storage_capacity = "20Gi"  # the chart's singleuser.storage.capacity
    exec(CONFIG_FILE.read_text(), {"c": c})  # noqa: S102 - as the chart's extraConfig does
    _, pvc = build(c, "cpu")
    assert pvc["spec"]["resources"]["requests"]["storage"] == "20Gi"


def test_guarantees_below_the_limits():
    c = load_as_jupyterhub()
    c.LabdeckKubeSpawner.cpu_guarantee_fraction = 0.5
    c.LabdeckKubeSpawner.mem_guarantee_fraction = 0.25
    pod, _ = build(c, "gpu")
    resources = container(pod)["resources"]
    assert resources["limits"]["cpu"] == 4.0 and resources["requests"]["cpu"] == 2.0
    assert resources["requests"]["memory"] == 4 * GIB
    # GPUs cannot be overcommitted: requested whole
    assert resources["requests"]["nvidia.com/gpu"] == "1"


# -- the Helm values ---------------------------------------------------------------------------
def test_values_yaml_says_what_the_guide_says():
    doc = values()
    hub, singleuser = doc["hub"], doc["singleuser"]
    # images with labdeck in them, not the chart's stock ones
    assert hub["image"]["name"] != "quay.io/jupyterhub/k8s-hub"
    assert "labdeck" in hub["image"]["name"] and "labdeck" in singleuser["image"]["name"]
    # PostgreSQL for the hub, and for the service (a second database)
    assert hub["db"]["type"] == "postgres"
    assert hub["db"]["url"].startswith("postgresql://")
    assert "password" not in hub["db"]  # secrets.yaml holds it
    assert hub["extraEnv"]["LABDECK_DB_URL"].startswith("postgresql://")
    assert hub["config"]["JupyterHub"]["authenticator_class"] != "dummy"
    # the service's port: on the hub's Service and open to labs and the proxy
    port = KubeSettings().service_port
    assert [p["port"] for p in hub["service"]["extraPorts"]] == [port]
    assert hub["networkPolicy"]["ingress"][0]["ports"] == [{"port": port}]
    assert singleuser["networkPolicy"]["egress"][0]["ports"] == [{"port": port}]
    assert doc["proxy"]["chp"]["networkPolicy"]["egress"][0]["ports"] == [{"port": port}]
    # homes: a PVC per user at the home path, sized per user by labdeck
    assert singleuser["storage"]["type"] == "dynamic"
    assert singleuser["storage"]["homeMountPath"] == HOME_MOUNT_PATH
    assert singleuser["memory"]["guarantee"] is None  # the profiles' own


def test_values_hub_config_and_extra_config_load_labdeck():
    doc = values()
    for name, value in doc["hub"]["extraEnv"].items():
        assert isinstance(value, str), name
    c = load_as_chart(doc)
    assert c.JupyterHub.spawner_class == "labdeck.hub.kube_spawner.LabdeckKubeSpawner"
    assert [s["name"] for s in c.JupyterHub.services] == ["labdeck"]
    # the authenticator (oauthenticator) is the chart's hub image's, not installed here
    labdeck_part = Config({k: v for k, v in c.items() if "Authenticator" not in k})
    del labdeck_part.JupyterHub["authenticator_class"]
    check_sections(labdeck_part)
    profiles = RuntimeProfiles(config=c)  # validates each profile
    assert [p.gpus for p in profiles.all()] == [0, 1]


def test_values_profiles_become_pods_on_gpu_nodes():
    c = load_as_chart(values())
    pod, _ = build(c, "gpu")
    resources = container(pod)["resources"]
    assert resources["limits"] == {"cpu": 4.0, "memory": 16 * GIB, "nvidia.com/gpu": "1"}
    assert pod["spec"]["nodeSelector"] == {"nvidia.com/gpu.present": "true"}

    pod, _ = build(c, "cpu")
    resources = container(pod)["resources"]
    assert resources["limits"] == {"cpu": 2.0, "memory": 8 * GIB}
    assert "nodeSelector" not in pod["spec"]


# -- small pieces ------------------------------------------------------------------------------
def test_pod_end_reasons():
    def pod(state: dict, last: dict | None = None) -> dict:
        status = {"name": "notebook", "state": state, "lastState": last or {}}
        return {"status": {"containerStatuses": [status]}}

    oom = {"terminated": {"reason": "OOMKilled", "exitCode": 137}}
    assert pod_end_reason(pod(oom)) == "out_of_memory"
    assert pod_end_reason(pod({"running": {}}, last=oom)) == "out_of_memory"
    assert pod_end_reason(pod({"terminated": {"reason": "Error", "exitCode": 1}})) == "crash"
    assert pod_end_reason(None) == "crash"


def test_end_reason_reads_the_labs_pod_as_the_pod_watch_holds_it(monkeypatch):
    oom = {"name": "notebook", "state": {"terminated": {"reason": "OOMKilled"}}}

    async def scenario():
        lab = spawner(load_as_jupyterhub())
        assert lab.delete_stopped_pods is False  # the pod stays until the hub stops it
        # KubeSpawner's pod watch keeps the pods it saw by namespace/name
        watch = SimpleNamespace(
            pods={f"{lab.namespace}/{lab.pod_name}": {"status": {"containerStatuses": [oom]}}}
        )
        monkeypatch.setitem(LabdeckKubeSpawner.reflectors, lab._get_reflector_key("pods"), watch)
        assert await lab.end_reason() == "out_of_memory"
        watch.pods.clear()  # gone: nothing to tell
        assert await lab.end_reason() == "crash"

    asyncio.run(scenario())


def test_storage_quantities():
    assert storage_quantity(15 * 10**9) == "15G"
    assert storage_quantity(16 * GIB) == "16Gi"
    assert storage_quantity(2 * 2**40) == "2Ti"
    assert storage_quantity(1234567) == "1234567"
