"""The model folders a deployment can serve, and how requests reach the model.

Two formats, as SageMaker's inference toolkit and its scikit-learn container know them:

- ``inference.py`` defining ``model_fn(model_dir)`` and ``predict_fn(data, model)``, and
  optionally ``input_fn(body, content_type)`` and ``output_fn(prediction, accept)``
  (by default JSON in and JSON out, numpy arrays and scalars as lists and numbers);
- ``model.joblib``: a scikit-learn estimator saved with joblib; the body is a list of
  rows or ``{"instances": [...]}`` and the answer the list of its predictions.

A folder with both is the first kind (its ``inference.py`` loads the joblib file itself).
The service only calls :func:`detect_format`; numpy, joblib and the model's code are
imported by the model server alone, so this module imports none of them at the top.
"""

import importlib.util
import json
import sys
from pathlib import Path

try:  # 7-14x faster than json (with tolist) on a 1000x10 float array, both ways
    import orjson

    ORJSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
except ImportError:  # pragma: no cover - a dependency, but the stdlib will do
    orjson = None

INFERENCE_FILE = "inference.py"
JOBLIB_FILE = "model.joblib"
JSON = "application/json"


class ModelLoadError(Exception):
    """The folder cannot be served; the message says which step failed (the cause, when
    there is one, is chained)."""


class InputError(ValueError):
    """The request's body is not something the model takes: the caller's fault (4xx)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def detect_format(model_dir: str | Path) -> str | None:
    """``"inference"``, ``"sklearn"`` or None when the folder holds neither format."""
    folder = Path(model_dir)
    if (folder / INFERENCE_FILE).is_file():
        return "inference"
    if (folder / JOBLIB_FILE).is_file():
        return "sklearn"
    return None


def describe_exception(exc: BaseException) -> str:
    """``Type: message``, the way a model error is reported to the caller."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- JSON -----------------------------------------------------------------------------


def _jsonable(value):
    # numpy arrays and scalars (anything with tolist), then Python's other containers
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value) -> bytes:
    if orjson is not None:
        return orjson.dumps(value, default=_jsonable, option=ORJSON_OPTIONS)
    return json.dumps(value, default=_jsonable, separators=(",", ":")).encode()


def loads(data: bytes):
    return orjson.loads(data) if orjson is not None else json.loads(data)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("", JSON) or media.endswith("+json")


def decode_json(body: bytes, content_type: str):
    """The default input_fn: a JSON body; any other content type needs an input_fn."""
    if not _is_json(content_type):
        raise InputError(
            f"This model takes JSON; {content_type} needs an input_fn in inference.py.",
            status=415,
        )
    try:
        return loads(body)
    except ValueError as exc:
        raise InputError(f"The body is not valid JSON: {exc}") from exc


# --- models ---------------------------------------------------------------------------


class Model:
    """A loaded model and the functions between HTTP bodies and its input and output."""

    format = ""

    def predict(self, data):
        raise NotImplementedError

    def decode(self, body: bytes, content_type: str):
        return decode_json(body, content_type)

    def encode(self, prediction, accept: str) -> tuple[bytes, str]:
        return dumps(prediction), JSON

    def signature(self) -> tuple[list[dict], list[dict]]:
        """(inputs, outputs) as ``{"name", "dtype" (numpy), "shape"}`` when known."""
        return [], []


class InferenceModel(Model):
    """A folder with inference.py: its functions, SageMaker's defaults for the rest."""

    format = "inference"

    def __init__(self, module, model):
        self.module = module
        self.model = model
        self.predict_fn = module.predict_fn
        self.input_fn = getattr(module, "input_fn", None)
        self.output_fn = getattr(module, "output_fn", None)

    def predict(self, data):
        return self.predict_fn(data, self.model)

    def decode(self, body: bytes, content_type: str):
        if self.input_fn is None:
            return decode_json(body, content_type)
        try:
            return self.input_fn(body, content_type)
        except Exception as exc:
            # input_fn parses what the caller sent: its failure is a bad request
            raise InputError(describe_exception(exc)) from exc

    def encode(self, prediction, accept: str) -> tuple[bytes, str]:
        if self.output_fn is None:
            return dumps(prediction), JSON
        result = self.output_fn(prediction, accept)
        # as the toolkit: output_fn returns the body, or (body, content type)
        content_type = None
        if isinstance(result, tuple) and len(result) == 2:
            result, content_type = result
        if isinstance(result, str):
            return result.encode(), content_type or accept
        if isinstance(result, bytes | bytearray | memoryview):
            return bytes(result), content_type or accept
        return dumps(result), content_type or JSON  # anything else goes as JSON


class SklearnModel(Model):
    """A scikit-learn estimator saved with joblib: rows in, its predictions out."""

    format = "sklearn"

    def __init__(self, estimator):
        self.estimator = estimator
        self.features = getattr(estimator, "n_features_in_", None)

    def predict(self, data):
        import numpy as np

        if isinstance(data, dict):
            if "instances" not in data:
                raise InputError('Send a list of rows, or {"instances": [rows...]}.')
            data = data["instances"]
        try:
            rows = np.asarray(data)
        except ValueError as exc:
            raise InputError(f"The rows are not a table: {exc}") from exc
        if rows.ndim == 1 and self.features is not None and self.features > 1:
            rows = rows.reshape(1, -1)  # one row sent on its own
        if rows.ndim != 2 or (self.features is not None and rows.shape[1] != self.features):
            raise InputError(
                f"The model takes rows of {self.features} values; got shape {list(rows.shape)}."
            )
        return self.estimator.predict(rows)

    def signature(self) -> tuple[list[dict], list[dict]]:
        import numpy as np

        classes = getattr(self.estimator, "classes_", None)
        out_dtype = np.asarray(classes).dtype if classes is not None else np.dtype("float64")
        inputs = [{"name": "input-0", "dtype": np.dtype("float64"), "shape": [-1, self.features]}]
        if self.features is None:
            inputs[0]["shape"] = [-1, -1]
        return inputs, [{"name": "output-0", "dtype": out_dtype, "shape": [-1]}]


def _import_inference(folder: Path):
    # by path, under the name "inference": the folder is first on sys.path so the script
    # imports its own helpers, and pickles that name its classes find them
    sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location("inference", folder / INFERENCE_FILE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["inference"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        raise ModelLoadError(f"{INFERENCE_FILE} could not be imported") from exc
    for name, signature in (("model_fn", "model_dir"), ("predict_fn", "data, model")):
        if not callable(getattr(module, name, None)):
            raise ModelLoadError(f"{INFERENCE_FILE} defines no {name}({signature})")
    return module


def load_model(model_dir: str | Path) -> Model:
    """Import and load the folder's model; ModelLoadError says why it cannot be served."""
    folder = Path(model_dir)
    kind = detect_format(folder)
    if kind == "inference":
        module = _import_inference(folder)
        try:
            model = module.model_fn(str(folder))
        except BaseException as exc:
            raise ModelLoadError("model_fn(model_dir) failed") from exc
        return InferenceModel(module, model)
    if kind == "sklearn":
        try:
            import joblib

            estimator = joblib.load(folder / JOBLIB_FILE)
        except BaseException as exc:
            raise ModelLoadError(f"{JOBLIB_FILE} could not be loaded") from exc
        if not callable(getattr(estimator, "predict", None)):
            raise ModelLoadError(f"{JOBLIB_FILE} holds a {type(estimator).__name__}, no predict")
        return SklearnModel(estimator)
    raise ModelLoadError(f"{folder} has neither {INFERENCE_FILE} nor {JOBLIB_FILE}")
