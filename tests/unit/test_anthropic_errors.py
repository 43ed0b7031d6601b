"""The Anthropic error envelope for every status a client can see."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from models.anthropic import MessagesRequest
from services.databricks.errors import from_databricks
from services.dialects.anthropic.errors import error_body, validation_error


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (402, "billing_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (409, "invalid_request_error"),
        (413, "request_too_large"),
        (422, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (502, "api_error"),
        (503, "overloaded_error"),
        (504, "timeout_error"),
        (529, "overloaded_error"),
    ],
)
def test_status_to_type(status: int, kind: str) -> None:
    error = from_databricks(status, b'{"error_code":"X","message":"went wrong"}')
    assert error.status == status
    assert error_body(error, "req_1") == {
        "type": "error",
        "error": {"type": kind, "message": "went wrong"},
        "request_id": "req_1",
    }


def test_rate_limit_keeps_retry_after() -> None:
    error = from_databricks(429, b'{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}', "7")
    assert dict(error.headers) == {"Retry-After": "7"}
    assert error_body(error) == {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}


def errors_of(payload: object) -> list[dict[str, object]]:
    with pytest.raises(ValidationError) as caught:
        MessagesRequest.model_validate(payload)
    return list(caught.value.errors(include_url=False, include_input=False))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"model": "m", "messages": [{"role": "user", "content": "x"}]}, "max_tokens: Field required"),
        (
            {"model": "m", "max_tokens": 5, "messages": []},
            "messages: List should have at least 1 item after validation, not 0",
        ),
        (
            {"model": "m", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]},
            "max_tokens: Input should be greater than or equal to 1",
        ),
        (
            {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "text"}]}]},
            "messages.0.content.0.text: Field required",
        ),
        (
            {"model": "m", "max_tokens": 5, "messages": [{"role": "bot", "content": "x"}]},
            "messages.0.role: Input should be 'user', 'assistant' or 'system'",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [
                    {"role": "assistant", "content": [{"type": "thinking", "thinking": "t"}]},
                ],
            },
            "messages.0.content.0.signature: Field required",
        ),
        (
            {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [{"text": "x"}]}]},
            "messages.0.content.0.type: Field required",
        ),
        (
            {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [5]}]},
            "messages.0.content.0: Input should be an object",
        ),
        (
            {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": 5}]},
            "messages.0.content: Input should be a string or a list",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [
                    {"role": "assistant", "content": [{"type": "tool_use", "id": "", "name": "f", "input": {}}]}
                ],
            },
            "messages.0.content.0.id: String should have at least 1 character",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": [{"type": "document", "source": "x"}]}],
            },
            "messages.0.content.0.source: Input should be an object",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "url"}}]}],
            },
            "messages.0.content.0.source.url: Field required",
        ),
        (
            {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "thinking": {"type": "x"}},
            "thinking.type: Input should be 'enabled', 'adaptive' or 'disabled'",
        ),
    ],
)
def test_validation_errors_name_the_field(payload: object, message: str) -> None:
    error = validation_error(errors_of(payload))
    assert (error.status, error.message) == (400, message)
    assert error_body(error) == {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
