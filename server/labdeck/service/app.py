"""The labdeck service application (a traitlets Application, like jupyterhub-idle-culler)."""

import asyncio
import json
import os
import re
import secrets
import signal
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuth
from tornado import web
from traitlets import Unicode, default
from traitlets.config import Application, Config

from .._version import __version__
from ..accounts import UserAccounts
from ..capabilities import DEPLOYMENTS, JOBS, SPARK
from ..cgroups import Cgroups
from ..course_folders import CourseFolders
from ..hub.settings import SHARED_CONFIG_ENV
from ..paths import StateDir, default_state_dir, write_secret
from ..quota.policy import QuotaPolicy
from ..quota.profiles import RuntimeProfiles
from ..supervisor import Supervisor
from .budgets import QuotaAccess
from .clusters import ClusterManager, SparkClusters
from .courses import Courses, hub_public_url
from .db import Database
from .deployments import DeploymentManager, ModelDeployments
from .gpus import GPUPool
from .grants import Grants
from .handlers import default_handlers, page_handlers
from .handlers.base import NotFoundHandler
from .handlers.openapi import build_document
from .handlers.prometheus import default_handlers as metrics_handlers
from .hub_client import HubClient
from .idle import IdleCuller
from .jobs import JobManager, TrainingJobs
from .ledger import KINDS, Ledger
from .livy import LivyGateway
from .livy_batches import LivyBatches
from .platform import Platform
from .prometheus import ServiceMetrics, StateCollector
from .quotas import Quotas
from .resources import ResourceManager
from .sessions import SessionManager
from .storage import StorageMeter
from .users import Users

PARAM = re.compile(r"\{(\w+)\}")
REST = re.compile(r"\{(\w+)\*\}")


def route_pattern(base_url: str, template: str) -> str:
    """Tornado pattern for a path template: `{id}` is one path segment, `{path*}` the rest."""
    pattern = REST.sub(r"(?P<\1>.*)", template)
    return base_url + PARAM.sub(r"(?P<\1>[^/]+)", pattern) + "$"


class LabdeckService(Application):
    """The control plane: REST API, database and (in later layers) the backends."""

    name = "labdeck-service"
    version = __version__
    description = "labdeck control-plane service, managed by JupyterHub."

    config_file = Unicode(
        "",
        help="Python config file to load (e.g. labdeck_service_config.py).",
    ).tag(config=True)

    state_dir = Unicode(
        help="Directory for the service's database and secrets. Default: $LABDECK_STATE_DIR.",
    ).tag(config=True)

    @default("state_dir")
    def _state_dir_default(self):
        return str(default_state_dir())

    db_url = Unicode(
        help="""SQLAlchemy URL of the service database.

        Default: SQLite in <state_dir>/service/. Any SQLAlchemy URL works, e.g.
        postgresql+psycopg://labdeck@db/labdeck.
        """,
    ).tag(config=True)

    @default("db_url")
    def _db_url_default(self):
        return StateDir(Path(self.state_dir)).service_db_url

    service_url = Unicode(
        help="Where the service listens. Default: $JUPYTERHUB_SERVICE_URL from the hub.",
    ).tag(config=True)

    @default("service_url")
    def _service_url_default(self):
        return os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101")

    base_url = Unicode(
        help="URL prefix of the service. Default: $JUPYTERHUB_SERVICE_PREFIX from the hub.",
    ).tag(config=True)

    @default("base_url")
    def _base_url_default(self):
        return os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/labdeck/")

    cookie_secret_file = Unicode(
        help="File holding the secret that signs the service's browser cookies.",
    ).tag(config=True)

    @default("cookie_secret_file")
    def _cookie_secret_file_default(self):
        return str(StateDir(Path(self.state_dir)).service_dir / "cookie_secret")

    aliases = {
        "config": "LabdeckService.config_file",
        "state-dir": "LabdeckService.state_dir",
        "db-url": "LabdeckService.db_url",
        "log-level": "Application.log_level",
    }

    service_name = Unicode(
        help="This service's name in the hub. Default: $JUPYTERHUB_SERVICE_NAME.",
    ).tag(config=True)

    @default("service_name")
    def _service_name_default(self):
        return os.environ.get("JUPYTERHUB_SERVICE_NAME", "labdeck")

    classes = [
        QuotaPolicy,
        RuntimeProfiles,
        GPUPool,
        StorageMeter,
        SparkClusters,
        TrainingJobs,
        ModelDeployments,
        UserAccounts,
        IdleCuller,
    ]

    def initialize(self, argv=None):
        super().initialize(argv)
        # Policy set in the hub's config (one place for admins) arrives in the environment.
        shared = os.environ.get(SHARED_CONFIG_ENV)
        if shared:
            self.update_config(Config(json.loads(shared)))
        if self.config_file:
            self.load_config_file(self.config_file)
        self.db = Database(self.db_url)
        self.db.upgrade()
        self.hub_auth = HubOAuth.instance(parent=self)
        self.hub = HubClient()
        self.policy = QuotaPolicy(parent=self)
        self.profiles = RuntimeProfiles(parent=self)
        self.gpus = GPUPool(parent=self)
        self.storage = StorageMeter(parent=self)
        self.metrics = ServiceMetrics(KINDS)
        self.ledger = Ledger(self.db, metrics=self.metrics)
        # every process tree labdeck starts for users gets a cgroup with its limits
        supervisor = Supervisor(self.log, Cgroups())
        self.accounts = UserAccounts(parent=self)
        platform = Platform(self.db, self.ledger, supervisor, self.accounts, self.log)
        self.quotas = Quotas(self.db, self.policy, self.profiles, self.accounts)
        self.grants = Grants(self.db, self.policy, platform.now)
        self.sessions = SessionManager(platform, self.quotas, self.gpus, self.hub, self.grants)
        self.idle = IdleCuller(self.sessions, self.hub, parent=self)
        spark_root = Path(self.state_dir) / "spark"
        spark = SparkClusters(parent=self)
        self.clusters = ClusterManager(
            platform,
            spark,
            spark.backend_class,
            spark_root,
            self.base_url.rstrip("/") + "/clusters",
            QuotaAccess(self.policy, self.section_limits),
        )
        self.livy = LivyGateway(platform, self.clusters, spark_root)
        self.clusters.livy = self.livy
        jobs = TrainingJobs(parent=self)
        self.jobs = JobManager(
            platform,
            jobs,
            jobs.backend_class,
            Path(self.state_dir) / "jobs",
            self.base_url.rstrip("/") + "/jobs",
            profiles=self.profiles,
            gpus=self.gpus,
            profile_time=self.sessions.profile_time,
            profile_time_changed=self.sessions.profile_time_changed,
            quota_of=self.quota_of,
        )
        # Livy batches are jobs on a cluster: they end with it
        self.livy_batches = LivyBatches(platform, self.clusters, self.livy, self.jobs)
        self.clusters.batches = self.livy_batches
        settings = ModelDeployments(parent=self)
        self.deployments = DeploymentManager(
            platform,
            settings,
            settings.backend_class,
            Path(self.state_dir) / "deployments",
            self.base_url.rstrip("/") + "/deployments",
            QuotaAccess(self.policy, self.section_limits),
        )
        self.users = Users(self.db)
        # courses: hub groups with a shared folder under the state dir
        folders = CourseFolders(Path(self.state_dir) / "courses", self.accounts, self.log)
        self.courses = Courses(self.db, self.hub, folders, hub_public_url())
        self.metrics.watch(
            StateCollector(self.db, self.profiles, self.gpus, self.managers.values())
        )
        self.web_app = self.make_web_app()

    async def quota_of(self, user: str) -> dict:
        """A user's effective quota, their groups asked of the hub."""
        return self.quotas.quota_for(user, await self.hub.groups_of(user))

    async def section_limits(self, user: str, section: str) -> dict:
        """One section of a user's effective quota."""
        return dict((await self.quota_of(user)).get(section) or {})

    @property
    def managers(self) -> dict[str, ResourceManager]:
        """The manager of each capability's resources, by capability name."""
        return {SPARK.name: self.clusters, JOBS.name: self.jobs, DEPLOYMENTS.name: self.deployments}

    @property
    def routes(self) -> list[tuple[str, type]]:
        """(path template, handler) for every API route; the OpenAPI document is built from it."""
        return list(default_handlers)

    def openapi_document(self) -> dict:
        return build_document(self.routes, self.base_url, __version__)

    def _cookie_secret(self) -> bytes:
        path = Path(self.cookie_secret_file)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_secret(path, secrets.token_hex(32))
        return bytes.fromhex(path.read_text().strip())

    def make_web_app(self) -> web.Application:
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        handlers = [
            (route_pattern(base, template), handler)
            for template, handler in [*self.routes, *page_handlers, *metrics_handlers]
        ]
        handlers.append((base + r"api/.*", NotFoundHandler))
        return web.Application(
            handlers,
            cookie_secret=self._cookie_secret(),
            labdeck=self,
            hub_auth=self.hub_auth,
            log=self.log,
            default_handler_class=NotFoundHandler,
        )

    def start(self):
        asyncio.run(self.serve())

    async def serve(self):
        """Serve until SIGTERM or SIGINT (the hub sends SIGTERM when it stops)."""
        url = urlparse(self.service_url)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await self.sessions.start()
        self.idle.start()
        await self.livy.adopt()
        for manager in self.managers.values():
            await manager.start()
        await self.livy_batches.adopt()
        self.http_server = self.web_app.listen(url.port or 80, address=url.hostname or "127.0.0.1")
        self.log.info("labdeck service listening on %s%s", self.service_url, self.base_url)
        await stopping.wait()
        self.http_server.stop()
        await asyncio.gather(*(manager.shutdown() for manager in self.managers.values()))
        await self.idle.shutdown()
        await self.sessions.shutdown()
        self.log.info("labdeck service stopped")


main = LabdeckService.launch_instance
