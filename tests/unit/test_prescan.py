"""The price of a body read from its bytes agrees with the values a parse would build."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from services.prescan import more_values_than
from tests.unit.test_app import INVOCATIONS, LLAMA, LLAMA_ANSWER, proxy

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(alphabet=',"\\[]{}: ab\n', max_size=8),
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(st.text(alphabet=',"\\ab', max_size=4), inner, max_size=6)
    ),
    max_leaves=40,
)


def separators(value: Any) -> int:
    if isinstance(value, dict):
        return max(len(value) - 1, 0) + sum(separators(v) for v in value.values())
    if isinstance(value, list):
        return max(len(value) - 1, 0) + sum(separators(v) for v in value)
    return 0


@given(JSON, st.integers(min_value=0, max_value=30))
@settings(max_examples=400, deadline=None)
def test_the_price_is_the_commas_outside_strings(value: Any, limit: int) -> None:
    raw = orjson.dumps(value)
    assert more_values_than(raw, limit) == (separators(value) > limit)


@pytest.mark.parametrize(
    ("raw", "limit", "expected"),
    [
        (b'{"a":"x,\\\\", "b":[1,2]}', 2, False),  # an escaped backslash ends the string before the comma
        (b'{"a":"x,\\\\", "b":[1,2]}', 1, True),
        (b'{"a":"x,\\", ,", "b":[1,2]}', 2, False),  # an escaped quote does not
        (b'{"a":"x,\\", ,", "b":[1,2]}', 1, True),
        (b'["a,""b,","c"]', 0, True),  # adjacent strings: the comma between them counts
        (b'["a,","b,"' + b',"c,"' * 10 + b"]", 10, True),
    ],
)
def test_strings_and_escapes(raw: bytes, limit: int, expected: bool) -> None:
    assert more_values_than(raw, limit) is expected


@pytest.mark.anyio
@pytest.mark.parametrize("door", ["/v1/chat/completions", "/v1/responses", "/anthropic/v1/messages"])
@respx.mock
async def test_a_body_priced_over_the_bound_is_refused_unparsed_on_every_door(door: str) -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    body = b'{"model":"%s","x":[' % LLAMA.encode() + b",".join([b"[]"] * 200_000) + b"]}"
    async with proxy() as client:
        answer = await client.post(door, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert "more than 50000 values" in answer.text
    assert route.call_count == 0


@pytest.mark.anyio
@respx.mock
async def test_a_long_text_full_of_commas_is_not_priced_as_values() -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    text = "a, b, c, " * 100_000
    async with proxy() as client:
        answer = await client.post(
            "/v1/chat/completions", json={"model": LLAMA, "messages": [{"role": "user", "content": text}]}
        )
    assert answer.status_code == 200
    assert route.call_count == 1
