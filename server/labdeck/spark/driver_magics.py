"""Livy's pyspark magics (`%json`, `%table`, `%matplot`) and JSON conversion of Spark values.

Each magic turns a Python value into the `data` of a Livy statement output. They follow
the behaviour of Apache Livy's pyspark REPL, with one addition: `%table` also gives a
`text/plain` rendering, because sparkmagic falls back to `text/plain` for any mimetype
it does not know and would otherwise fail on a table result.
"""

import base64
import datetime
import decimal
import io
import json
import math
from collections.abc import Callable

TABLE_MIMETYPE = "application/vnd.livy.table.v1+json"


class MagicError(Exception):
    """A magic was misused (unknown name, value of the wrong shape)."""


def magic_json(value: object) -> dict:
    """`%json expr`: the value itself as `application/json`, if JSON can carry it."""
    json.dumps(value)  # raise TypeError now rather than when the output is served
    return {"application/json": value}


def magic_table(value: object) -> dict:
    """`%table expr`: a list of dicts, Rows, sequences or scalars as a Livy table."""
    rows = value if isinstance(value, list | tuple) else [value]
    headers: dict[object, dict] = {}
    records = []
    for row in rows:
        record = {}
        for name, cell in _row_items(row):
            cell_type, cell = table_cell(cell)
            header = headers.setdefault(name, {"name": str(name), "type": cell_type})
            if header["type"] == "NULL_TYPE":
                header["type"] = cell_type
            elif cell_type not in ("NULL_TYPE", header["type"]):
                raise MagicError("table rows have different types")
            record[name] = cell
        records.append(record)
    data = [[record.get(name) for name in headers] for record in records]
    table = {"headers": list(headers.values()), "data": data}
    return {TABLE_MIMETYPE: table, "text/plain": _table_text(table)}


def magic_matplot(value: object) -> dict:
    """`%matplot expr`: `matplotlib.pyplot` (its current figure) or a Figure, as a PNG."""
    try:
        import matplotlib  # noqa: F401 — optional: only this magic needs it
    except ImportError:
        raise ImportError(
            "matplotlib is not installed in this Spark session's Python, so %matplot "
            "cannot draw; ask your admin to install it"
        ) from None
    figure = value.gcf() if hasattr(value, "gcf") else value
    if not hasattr(figure, "savefig"):
        raise MagicError(
            f"%matplot needs matplotlib.pyplot or a Figure, not {type(value).__name__}"
        )
    png = io.BytesIO()
    figure.savefig(png, format="png")
    return {"image/png": base64.b64encode(png.getvalue()).decode(), "text/plain": repr(figure)}


MAGICS: dict[str, Callable[[object], dict]] = {
    "json": magic_json,
    "table": magic_table,
    "matplot": magic_matplot,
}


def _row_items(row: object) -> list[tuple[object, object]]:
    """(column, value) pairs of one table row, whatever its shape."""
    if type(row).__name__ == "Row" and hasattr(row, "asDict"):
        row = row.asDict()
    if isinstance(row, dict):
        return list(row.items())
    if isinstance(row, list | tuple):
        return list(enumerate(row))
    return [(0, row)]


def _same_type_items(items: list, label: str) -> tuple[str, list]:
    """Convert items of a nested sequence, which must all be of one type (as in Livy)."""
    converted = [table_cell(item) for item in items]
    if len({cell_type for cell_type, _ in converted}) > 1:
        raise MagicError(f"{label} has inconsistent types")
    return "ARRAY_TYPE", [cell for _, cell in converted]


# Exact types, as in Livy: bool must not be read as int, nor datetime as date.
_CELL_TYPES: dict[type, Callable[[object], tuple[str, object]]] = {
    type(None): lambda x: ("NULL_TYPE", None),
    bool: lambda x: ("BOOLEAN_TYPE", x),
    int: lambda x: ("INT_TYPE", x),
    float: lambda x: ("DOUBLE_TYPE", x),
    str: lambda x: ("STRING_TYPE", x),
    datetime.date: lambda x: ("DATE_TYPE", str(x)),
    datetime.datetime: lambda x: ("TIMESTAMP_TYPE", str(x)),
    decimal.Decimal: lambda x: ("DECIMAL_TYPE", str(x)),
    list: lambda x: _same_type_items(x, "value"),
    tuple: lambda x: _same_type_items(list(x), "value"),
    dict: lambda x: ("MAP_TYPE", {str(k): table_cell(v)[1] for k, v in x.items()}),
}


def table_cell(value: object) -> tuple[str, object]:
    """(Livy type name, JSON value) of one table cell; unknown types become strings."""
    convert = _CELL_TYPES.get(type(value))
    return convert(value) if convert else ("STRING_TYPE", str(value))


def _table_text(table: dict) -> str:
    """A tab-separated rendering of a table, for clients that only show text."""
    lines = ["\t".join(h["name"] for h in table["headers"])]
    lines += ["\t".join("" if c is None else str(c) for c in row) for row in table["data"]]
    return "\n".join(lines)


def to_json_value(value: object) -> object:
    """A Spark SQL value (from a collected Row) as JSON, the way Livy's SQL interpreter does.

    Decimals become numbers, dates and times ISO strings, binary a list of byte values,
    structs objects; non-finite floats become null so the output stays strict JSON.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return list(value)
    if hasattr(value, "asDict"):
        return {k: to_json_value(v) for k, v in value.asDict().items()}
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    return str(value)
