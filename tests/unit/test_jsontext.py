"""The CLI's JSON text is byte for byte ``json.dumps(data, indent=2, default=str)`` whatever the data,
and plain data (what the views hold) takes the fast path."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import uuid
from collections import namedtuple
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from failover.cli.jsontext import _orjson, indented_json


def standard(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str)


class Plain(enum.Enum):
    A = "a"


class Text(enum.StrEnum):
    B = "b"


class Number(enum.IntEnum):
    C = 3


class Ratio(float):
    pass


@dataclasses.dataclass
class Point:
    x: int


Pair = namedtuple("Pair", "left right")


def nested(depth: int) -> Any:
    data: Any = 1
    for _ in range(depth):
        data = [data]
    return data


CASES = {
    "empty containers": {"a": [], "b": {}, "c": [[], {}]},
    "non-ASCII, beyond the BMP, separators": {"name": "café ☃ 😀 \u2028\u2029 ß"},
    "control characters and DEL": {"text": '\x00\x01\x1b\x1f\x7f\b\f\n\r\t"\\/'},
    "keys needing escapes": {"é\x7f\n": 1, '"': 2},
    "NaN and infinities": {"a": math.nan, "b": math.inf, "c": -math.inf},
    "tiny floats": [1e-5, 1.2345e-05, -3.3e-6, 1e-9, 1e-10, 5e-324, 0.0001, 0.00012],
    "large and exact floats": [1e15, 1e16, 1e22, 123456789012345.6, -0.0, 0.0, 69.6, 1 / 3],
    "integers past 64 bits": [2**63 - 1, -(2**63), 2**64 - 1, 2**64, -(2**63) - 1, 10**30],
    "non-string keys": {7: "a", 2.5: "b", True: "c", None: "d"},
    "datetimes and dates": {"at": datetime(2026, 12, 1, 3, 4, 5, tzinfo=UTC), "day": date(2026, 12, 1)},
    "enums": {"plain": Plain.A, "text": Text.B, "number": Number.C, "key": {Text.B: 1}},
    "a float subclass": [Ratio(0.5)],
    "a dataclass, a namedtuple, a tuple": [Point(1), Pair(1, 2), (1, 2)],
    "uuid and decimal": [uuid.UUID(int=7), Decimal("1.10")],
    "a string that looks like a tiny float": {"note": "x 1e-5 y", "id": "322859fa-3f78-44fe-8a2f"},
    "deeper than orjson nests": nested(300),
    "booleans and null": [True, False, None],
}


@pytest.mark.parametrize("data", list(CASES.values()), ids=list(CASES))
def test_the_text_is_the_standard_librarys(data: Any) -> None:
    assert indented_json(data) == standard(data)


def test_a_lone_surrogate_is_written_as_the_standard_library_writes_it() -> None:
    assert indented_json({"s": "a\ud800b"}) == standard({"s": "a\ud800b"})


def test_a_circular_document_fails_as_with_the_standard_library() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        indented_json(loop)


def test_plain_data_takes_the_fast_path() -> None:
    data = {"workload": "w0", "readiness": 69.6, "reasons": [{"check": "dns.ttl", "points": 5.2}], "ok": None}
    assert _orjson(data) == standard(data)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_document_is_written_as_the_standard_library_writes_it(data: Any) -> None:
    assert indented_json(data) == standard(data)
