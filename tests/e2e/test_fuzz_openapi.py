"""Schemathesis fuzzes every operation of the live app's own /openapi.json: no answer may be a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis

from tests.e2e.harness import E2E_TOKEN, Emulator, Proxy

EXAMPLES_PER_OPERATION = 30


@pytest.fixture(scope="module")
def live_schema(emulator: Emulator) -> Iterator[Any]:
    proxy = Proxy({"DATABRICKS_HOST": emulator.url, "DATABRICKS_TOKEN": E2E_TOKEN})
    try:
        yield schemathesis.openapi.from_url(f"{proxy.url}/openapi.json")
    finally:
        proxy.stop()


def test_no_server_errors(live_schema: Any) -> None:
    operations = [result.ok() for result in live_schema.get_all_operations()]
    assert len(operations) >= 10
    seen: list[tuple[str, int]] = []
    for operation in operations:
        check(operation, seen)
    assert len(seen) >= len(operations) * 5


def check(operation: Any, seen: list[tuple[str, int]]) -> None:
    label = operation.label

    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        database=None,
    )
    def call(case: Any) -> None:
        response = case.call(timeout=10)
        seen.append((label, response.status_code))
        assert response.status_code < 500, (label, response.status_code, response.text[:300])
        assert response.headers.get("x-request-id")

    call()
