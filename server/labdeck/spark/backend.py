"""What the cluster manager and the Livy gateway need of any Spark backend (local
processes today; Slurm or Kubernetes next)."""

from ..service.resources import ResourceBackend


class SparkBackend(ResourceBackend):
    """What the cluster manager and the Livy gateway need of any Spark backend."""

    @property
    def master_url(self) -> str:
        raise NotImplementedError

    # The cluster's `spark.authenticate` secret, for the drivers labdeck starts on it.
    secret: str | None = None

    @property
    def webui_url(self) -> str:
        """The master's web UI, as labdeck's proxy reaches it."""
        raise NotImplementedError

    async def ui_access(self) -> tuple[str, dict[str, str]]:
        """The master's web UI and the headers that let labdeck in; raises OSError when
        what answers there is not the cluster's own (nothing may be sent to it)."""
        return self.webui_url, {}

    @property
    def ui_path(self) -> str:
        """URL path where labdeck serves the master's UI (Spark's reverse proxy base)."""
        return f"{self.public_path}/ui"

    def application_ids(self, status: dict) -> set[str]:
        return {app.get("id") for app in status.get("activeapps", [])}
