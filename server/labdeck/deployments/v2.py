"""The Open Inference Protocol ("v2", KServe and Triton REST): typed tensors in and out.

An infer request names its input tensors (name, shape, datatype, data flat or nested);
they become numpy arrays of that dtype and shape. Tensors may also travel as raw bytes
after the JSON (the binary tensor data extension, which tritonclient uses by default):
the `Inference-Header-Content-Length` header says where the JSON ends, each tensor's
`binary_data_size` parameter how many bytes are its own, in order, little-endian, and
BYTES elements are each a 4-byte length followed by the bytes.
"""

import math
import struct

import numpy as np

from .formats import dumps, loads

VERSION = "1"
DATATYPES = {
    "BOOL": np.dtype("bool"),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
    "BYTES": np.dtype("object"),
}
_KIND_PREFIX = {"i": "INT", "u": "UINT", "f": "FP"}
_LENGTH = struct.Struct("<I")


class ProtocolError(Exception):
    """A request the protocol refuses: {"error": message} with this status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def datatype_of(dtype: np.dtype) -> str:
    """The protocol's name for a numpy dtype (strings and objects are BYTES)."""
    if dtype.kind == "b":
        return "BOOL"
    if dtype.kind in _KIND_PREFIX and dtype.itemsize * 8 in (8, 16, 32, 64):
        name = f"{_KIND_PREFIX[dtype.kind]}{dtype.itemsize * 8}"
        if name in DATATYPES:
            return name
    if dtype.kind in "USO":
        return "BYTES"
    raise TypeError(f"no Open Inference Protocol datatype for numpy {dtype}")


def model_metadata(model, name: str, platform: str) -> dict:
    def tensors(specs):
        return [
            {"name": s["name"], "datatype": datatype_of(s["dtype"]), "shape": s["shape"]}
            for s in specs
        ]

    try:
        inputs, outputs = (tensors(specs) for specs in model.signature())
    except (TypeError, ValueError, AttributeError):  # an estimator of an unusual kind:
        inputs, outputs = [], []  # its tensors are unknown, it is served all the same
    return {
        "name": name,
        "versions": [VERSION],
        "platform": platform,
        "inputs": inputs,
        "outputs": outputs,
    }


# --- request --------------------------------------------------------------------------


def _shape(spec: dict, name: str) -> list[int]:
    shape = spec.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise ProtocolError(f"input '{name}': shape must be a list of non-negative integers")
    return shape


def _from_json(data, dtype: np.dtype, shape: list[int], name: str) -> np.ndarray:
    try:
        array = np.array(data, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ProtocolError(f"input '{name}': data do not fit the datatype: {exc}") from exc
    if array.size != math.prod(shape):
        raise ProtocolError(f"input '{name}': {array.size} values do not fill shape {shape}")
    return array.reshape(shape)


def _split_bytes(raw: bytes, count: int, name: str) -> np.ndarray:
    items, offset = [], 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise ProtocolError(f"input '{name}': truncated BYTES element")
        (length,) = _LENGTH.unpack_from(raw, offset)
        offset += 4
        if offset + length > len(raw):
            raise ProtocolError(f"input '{name}': truncated BYTES element")
        items.append(raw[offset : offset + length])
        offset += length
    if len(items) != count:
        raise ProtocolError(f"input '{name}': {len(items)} BYTES elements, shape needs {count}")
    array = np.empty(count, dtype=object)
    array[:] = items
    return array


def _from_binary(raw: bytes, dtype: np.dtype, shape: list[int], name: str) -> np.ndarray:
    count = math.prod(shape)
    if dtype.kind == "O":
        return _split_bytes(raw, count, name).reshape(shape)
    if len(raw) != count * dtype.itemsize:
        raise ProtocolError(
            f"input '{name}': {len(raw)} bytes of binary data, shape {shape} needs "
            f"{count * dtype.itemsize}"
        )
    # a copy the model may write to (frombuffer over bytes is read-only)
    return np.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)


def decode_request(body: bytes, json_length: int | None) -> tuple[dict, dict[str, np.ndarray]]:
    """The request's JSON and its inputs as arrays, in the order sent."""
    if json_length is None:
        head, binary = body, b""
    elif 0 <= json_length <= len(body):
        head, binary = body[:json_length], body[json_length:]
    else:
        raise ProtocolError("Inference-Header-Content-Length is beyond the body")
    try:
        request = loads(head)
    except ValueError as exc:
        raise ProtocolError(f"the request is not valid JSON: {exc}") from exc
    inputs = request.get("inputs") if isinstance(request, dict) else None
    if not isinstance(inputs, list) or not inputs:
        raise ProtocolError("the request needs a non-empty list of inputs")
    arrays: dict[str, np.ndarray] = {}
    offset = 0
    for spec in inputs:
        name = spec.get("name") if isinstance(spec, dict) else None
        if not isinstance(name, str) or not name:
            raise ProtocolError("each input needs a name")
        if name in arrays:
            raise ProtocolError(f"input '{name}' is given twice")
        dtype = DATATYPES.get(spec.get("datatype"))
        if dtype is None:
            raise ProtocolError(f"input '{name}': datatype must be one of {', '.join(DATATYPES)}")
        shape = _shape(spec, name)
        parameters = spec.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise ProtocolError(f"input '{name}': parameters must be an object")
        if "shared_memory_region" in parameters:
            raise ProtocolError("shared memory inputs are not supported")
        size = parameters.get("binary_data_size")
        if size is not None:
            if not isinstance(size, int) or size < 0 or offset + size > len(binary):
                raise ProtocolError(f"input '{name}': binary_data_size is beyond the body")
            arrays[name] = _from_binary(binary[offset : offset + size], dtype, shape, name)
            offset += size
        elif "data" in spec:
            arrays[name] = _from_json(spec["data"], dtype, shape, name)
        else:
            raise ProtocolError(f"input '{name}' has no data")
    if offset != len(binary):
        raise ProtocolError("the binary data after the JSON do not match the inputs' sizes")
    return request, arrays


# --- response -------------------------------------------------------------------------


def _requested(request: dict) -> tuple[list[str] | None, dict[str, bool]]:
    """Names of the outputs asked for (None: all) and which of them travel as binary."""
    outputs = request.get("outputs")
    parameters = request.get("parameters")
    default = bool(isinstance(parameters, dict) and parameters.get("binary_data_output"))
    if outputs is None:
        return None, {"": default}
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise ProtocolError("outputs must be a list of objects with a name")
    binary = {"": default}
    for output in outputs:
        flags = output.get("parameters")
        flags = flags if isinstance(flags, dict) else {}
        binary[output["name"]] = bool(flags.get("binary_data", default))
    return [o["name"] for o in outputs], binary


def _named_outputs(prediction, names: list[str] | None) -> list[tuple[str, object]]:
    if isinstance(prediction, dict):
        if names is None:
            return [(str(k), v) for k, v in prediction.items()]
        missing = [n for n in names if n not in prediction]
        if missing:
            raise ProtocolError(
                f"unknown output {missing[0]!r}; the model gives {', '.join(map(str, prediction))}"
            )
        return [(n, prediction[n]) for n in names]
    if names is None:
        return [("output-0", prediction)]
    if len(names) != 1:
        raise ProtocolError("the model gives one output; ask for at most one")
    return [(names[0], prediction)]


def _bytes_items(array: np.ndarray) -> list[bytes]:
    return [x if isinstance(x, bytes) else str(x).encode() for x in array.ravel(order="C").tolist()]


def encode_response(request: dict, prediction, model_name: str) -> tuple[bytes, int | None]:
    """The response body and, when binary tensors follow the JSON, the JSON's length."""
    names, binary = _requested(request)
    outputs, blobs = [], []
    for name, value in _named_outputs(prediction, names):
        array = np.asarray(value)
        datatype = datatype_of(array.dtype)
        entry = {"name": name, "datatype": datatype, "shape": list(array.shape)}
        if binary.get(name, binary[""]):
            if datatype == "BYTES":
                raw = b"".join(_LENGTH.pack(len(b)) + b for b in _bytes_items(array))
            else:
                raw = np.ascontiguousarray(array, dtype=DATATYPES[datatype]).tobytes()
            entry["parameters"] = {"binary_data_size": len(raw)}
            blobs.append(raw)
        elif datatype == "BYTES":
            entry["data"] = [b.decode("utf-8", "replace") for b in _bytes_items(array)]
        else:
            entry["data"] = array.ravel(order="C").tolist()
        outputs.append(entry)
    response = {"model_name": model_name, "model_version": VERSION, "outputs": outputs}
    if "id" in request:
        response["id"] = request["id"]
    head = dumps(response)
    if not blobs:
        return head, None
    return head + b"".join(blobs), len(head)
