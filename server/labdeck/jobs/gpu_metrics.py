"""GPU utilisation and memory of the devices a training job was given, read through NVML
(the nvidia-ml-py bindings, `pynvml`).

A job's devices are the ids in its runner's CUDA_VISIBLE_DEVICES, as the service hands
them out from the GPU pool: NVML indices (`0,1`), or `GPU-…`/`MIG-…` UUIDs. They are
the job's alone, so a device's memory in use is the job's. Without NVML (no driver, no
bindings) there is nothing to read, and nothing is said: the job runs the same.

    with GpuMetrics.open(visible_devices(os.environ.get(VISIBLE_ENV))) as gpus:
        gpus.read()  # {"gpu0_utilization_percent": 87, "gpu0_memory_bytes": 123456, ...}

Values are named `gpu<NVML index>_utilization_percent` (share of the last sample period a
kernel ran, 0-100) and `gpu<NVML index>_memory_bytes` (device memory in use).
"""

VISIBLE_ENV = "CUDA_VISIBLE_DEVICES"


def visible_devices(value: str | None) -> list[str]:
    """'0,1' -> ['0', '1']; unset or empty -> [] (a job without GPUs)."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def utilization_name(index: int) -> str:
    return f"gpu{index}_utilization_percent"


def memory_name(index: int) -> str:
    return f"gpu{index}_memory_bytes"


class GpuMetrics:
    """NVML, initialised once for the devices of one job; `close` shuts it down."""

    def __init__(self, nvml=None, handles: dict[int, object] | None = None):
        self.nvml = nvml
        # NVML index -> device handle
        self.handles = handles or {}

    @classmethod
    def open(cls, devices: list[str], nvml=None) -> "GpuMetrics":
        """Initialise NVML and find devices; one that reads nothing when there are no
        devices, NVML cannot start, or none of the devices is found."""
        if not devices:
            return cls()
        if nvml is None:
            try:
                import pynvml as nvml
            except ImportError:
                return cls()
        # the library missing is an NVMLError (LibraryNotFound); OSError for a broken one
        failures = (nvml.NVMLError, OSError)
        try:
            nvml.nvmlInit()
        except failures:
            return cls()
        handles = {}
        for device in devices:
            try:
                if device.isdigit():
                    index = int(device)
                    handle = nvml.nvmlDeviceGetHandleByIndex(index)
                else:
                    handle = nvml.nvmlDeviceGetHandleByUUID(device)
                    index = nvml.nvmlDeviceGetIndex(handle)
            except failures:
                continue  # not a device NVML knows: the others are still read
            handles[index] = handle
        metrics = cls(nvml, handles)
        if not handles:
            metrics.close()
            return cls()
        return metrics

    @property
    def indices(self) -> list[int]:
        return sorted(self.handles)

    def read(self) -> dict[str, int]:
        """Each device's utilisation and memory in use now; a value NVML cannot give (a
        device lost, a reading not supported) is left out."""
        values = {}
        for index, handle in sorted(self.handles.items()):
            try:
                values[utilization_name(index)] = int(
                    self.nvml.nvmlDeviceGetUtilizationRates(handle).gpu
                )
            except (self.nvml.NVMLError, OSError):
                pass
            try:
                values[memory_name(index)] = int(self.nvml.nvmlDeviceGetMemoryInfo(handle).used)
            except (self.nvml.NVMLError, OSError):
                pass
        return values

    def close(self) -> None:
        if self.nvml is None:
            return
        nvml, self.nvml, self.handles = self.nvml, None, {}
        try:
            nvml.nvmlShutdown()
        except (nvml.NVMLError, OSError):
            pass

    def __enter__(self) -> "GpuMetrics":
        return self

    def __exit__(self, *_) -> None:
        self.close()
