"""Which errors mean "no breakpoints here", and how long an endpoint is remembered for."""

from __future__ import annotations

from services.caching.refusals import RefusalMemory, is_refusal
from services.errors import InvalidRequestError, ProxyError


def test_only_a_400_naming_the_field_is_a_refusal() -> None:
    assert is_refusal(InvalidRequestError('json: unknown field "cache_control"'))
    assert is_refusal(InvalidRequestError("messages.0.content.0.cache_control: Extra inputs are not permitted"))
    assert not is_refusal(InvalidRequestError("max_tokens must be at least 1"))
    assert not is_refusal(ProxyError("cache_control overloaded", status=503))


def test_an_endpoint_is_remembered_until_the_expiry() -> None:
    now = [100.0]
    memory = RefusalMemory(ttl=60, clock=lambda: now[0])
    assert not memory.refuses("e")
    memory.remember("e")
    assert memory.refuses("e") and not memory.refuses("other")
    now[0] = 159.0
    assert memory.refuses("e")
    now[0] = 160.0
    assert not memory.refuses("e")
