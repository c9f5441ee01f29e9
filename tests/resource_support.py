"""A kind of resource made up for tests of the shared lifecycle: each runs a real `sleep`."""

from labdeck.service.resources import ResourceBackend, StartFailed
from labdeck.supervisor import ProcessRecord, Supervised, file_exists


class SleepBackend(ResourceBackend):
    """One `sleep` per resource; it is ready once it has written a file."""

    process: Supervised | None = None

    def get_state(self) -> dict:
        return {"process": self.process.record.to_json() if self.process else None}

    def load_state(self, state: dict) -> None:
        if state.get("process"):
            self.process = self.supervisor.adopt(ProcessRecord.from_json(state["process"]))

    async def start(self, progress) -> None:
        if self.spec.get("fail"):
            raise StartFailed("This sleeper was asked to fail.")
        ready = self.work_dir / "ready"
        progress("Falling asleep", 0, 1)
        self.process = await self.supervisor.start(
            "sleeper",
            ["sh", "-c", f"sleep {self.spec.get('delay', 0)}; touch {ready}; exec sleep 600"],
            log_path=self.work_dir / "sleep.log",
        )
        progress("Falling asleep", 0, 1)  # saves the process record
        await self.process.wait_ready(file_exists(ready), 30)

    async def poll(self) -> str | None:
        return None if self.process and self.process.running() else "The sleeper woke up."

    async def stop(self) -> None:
        if self.process:
            await self.supervisor.terminate([self.process], grace=5)
