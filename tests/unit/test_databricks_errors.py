"""Databricks error bodies -> proxy errors (``from_databricks``), statuses, Retry-After, the OpenAI envelope."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from services.databricks.errors import from_databricks, parse_retry_after
from services.dialects.openai import OPENAI, error_body
from services.errors import (
    APIError,
    AuthenticationError,
    InvalidRequestError,
    ModelNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    ProxyError,
    RateLimitError,
    RequestTooLargeError,
    UnprocessableError,
    UnsupportedParameterError,
)


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def openai_body(error: ProxyError) -> dict[str, Any]:
    """The error body, checked to have exactly OpenAI's shape."""
    out = error_body(error)
    assert list(out) == ["error"]
    assert list(out["error"]) == ["message", "type", "param", "code"]
    assert orjson.loads(OPENAI.error_bytes(error)) == out
    fields: dict[str, Any] = out["error"]
    return fields


# --- body variants (reference section 4) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "raw", "message", "code"),
    [
        # 1. {"error_code": "<CODE>", "message": ...} with "Bad request: " prefix and trailing newline (llama-stack)
        (
            400,
            b'{"error_code": "BAD_REQUEST", "message": "Bad request: json: unknown field \\"dimensions\\"\\n"}',
            'json: unknown field "dimensions"',
            "BAD_REQUEST",
        ),
        (
            400,
            body(error_code="BAD_REQUEST", message='Bad request: json: unknown field "stream_options"'),
            'json: unknown field "stream_options"',
            "BAD_REQUEST",
        ),
        # gRPC text leaks into the message; only the leading code/"Bad request" prefix is removed
        (
            400,
            body(
                error_code="BAD_REQUEST",
                message="Bad request: rpc error: code = InvalidArgument desc = Chat message input roles must alternate "
                "(user -> assistant -> u -> a -> ...) with an optional system at the start.\n",
            ),
            "rpc error: code = InvalidArgument desc = Chat message input roles must alternate "
            "(user -> assistant -> u -> a -> ...) with an optional system at the start.",
            "BAD_REQUEST",
        ),
        # 2. message prefixed with its own code
        (
            429,
            body(
                error_code="REQUEST_LIMIT_EXCEEDED",
                message="REQUEST_LIMIT_EXCEEDED: Exceeded workspace input tokens per minute rate limit for "
                "databricks-claude-opus-4-8.",
            ),
            "Exceeded workspace input tokens per minute rate limit for databricks-claude-opus-4-8.",
            "REQUEST_LIMIT_EXCEEDED",
        ),
        (
            403,
            body(
                error_code="PERMISSION_DENIED",
                message="PERMISSION_DENIED: The endpoint is temporarily disabled due to a Databricks-set rate limit of 0.",
            ),
            "The endpoint is temporarily disabled due to a Databricks-set rate limit of 0.",
            "PERMISSION_DENIED",
        ),
        (
            404,
            body(
                error_code="RESOURCE_DOES_NOT_EXIST",
                message="Endpoint with name 'dbdemos_customer_churn_endpoint' does not exist.",
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.RequestInfo",
                        "request_id": "28e113da-9127-4b02-b211-c08df9e8e397",
                        "serving_data": "",
                    }
                ],
            ),
            "Endpoint with name 'dbdemos_customer_churn_endpoint' does not exist.",
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (
            502,
            body(
                error_code="INTERNAL_ERROR", message="The server received an invalid response from an upstream server."
            ),
            "The server received an invalid response from an upstream server.",
            "INTERNAL_ERROR",
        ),
        (
            400,
            body(
                error_code="INVALID_PARAMETER_VALUE",
                message="INVALID_PARAMETER_VALUE: Missing required parameter: 'input'",
            ),
            "Missing required parameter: 'input'",
            "INVALID_PARAMETER_VALUE",
        ),
        # nested upstream JSON as a string (Anthropic, Google)
        (
            400,
            b'{"error_code":"BAD_REQUEST",\n  "message":"{\\"message\\":\\"messages.98.thinking_blocks: Extra inputs are not permitted\\"}"}',
            "messages.98.thinking_blocks: Extra inputs are not permitted",
            "BAD_REQUEST",
        ),
        (
            400,
            body(
                error_code="BAD_REQUEST",
                message=json.dumps(
                    {
                        "error": {
                            "code": 400,
                            "message": 'Invalid JSON payload received. Unknown name "reasoning_effort" at '
                            "'generation_config': Cannot find field.",
                            "status": "INVALID_ARGUMENT",
                        }
                    },
                    indent=2,
                ),
            ),
            "Invalid JSON payload received. Unknown name \"reasoning_effort\" at 'generation_config': Cannot find field.",
            "BAD_REQUEST",
        ),
        # 3. integer error_code (401): no string code, the class default is used
        (
            401,
            body(error_code=401, message="Credential was not sent or was of an unsupported type for this API."),
            "Credential was not sent or was of an unsupported type for this API.",
            "invalid_api_key",
        ),
        # 4. {"error": "..."} and plain text
        (403, body(error="Invalid Token"), "Invalid Token", None),
        (403, b"Invalid Token", "Invalid Token", None),
        (400, b"INVALID_PARAMETER_VALUE: max_tokens must be positive\n", "max_tokens must be positive", None),
        # 5. external model envelope
        (
            400,
            body(
                error="Received error from databricks-model-serving",
                external_model_message={
                    "error_code": "INVALID_PARAMETER_VALUE",
                    "message": "INVALID_PARAMETER_VALUE: Missing required embeddings parameter: 'input'",
                },
            ),
            "Missing required embeddings parameter: 'input'",
            "INVALID_PARAMETER_VALUE",
        ),
        # 6. platform-generic shapes
        (400, body(error={"message": "bad thing", "code": "bad_code", "type": "x"}), "bad thing", "bad_code"),
        (403, body(detail="User is not authorized", status="403", scimType="none"), "User is not authorized", None),
        (
            503,
            b"<html><head><title>503 Service Unavailable</title></head><body><pre>upstream connect error</pre></body></html>",
            "upstream connect error",
            None,
        ),
        (
            504,
            b"<!DOCTYPE html><html><head><TITLE>Gateway Timeout</TITLE></head><body><h1>504</h1></body></html>",
            "Gateway Timeout",
            None,
        ),
        (502, b"<html><body><h1>Bad Gateway</h1></body></html>", "Databricks answered HTTP 502.", None),
        # empty and unusable bodies
        (502, b"", "Databricks answered HTTP 502.", None),
        (500, b"  \n ", "Databricks answered HTTP 500.", None),
        (400, body(error_code="BAD_REQUEST"), "Databricks answered HTTP 400.", "BAD_REQUEST"),
        (
            400,
            body(error_code="BAD_REQUEST", message={"nested": "object"}),
            "Databricks answered HTTP 400.",
            "BAD_REQUEST",
        ),
        (400, body(error_code="BAD_REQUEST", message="   "), "Databricks answered HTTP 400.", "BAD_REQUEST"),
        # an elided (invalid) nested JSON stays as it is
        (
            400,
            body(error_code="BAD_REQUEST", message='{"error": {"code": 400, ...}}'),
            '{"error": {"code": 400, ...}}',
            "BAD_REQUEST",
        ),
    ],
)
def test_body_variants(status: int, raw: bytes, message: str, code: str | None) -> None:
    error = from_databricks(status, raw)
    assert error.status == status
    fields = openai_body(error)
    assert fields["message"] == message
    assert fields["code"] == code
    assert fields["param"] is None


def test_non_json_and_odd_json_bodies() -> None:
    assert from_databricks(500, b"\xff\xfe broken \x80 bytes").message == "\ufffd\ufffd broken \ufffd bytes"
    assert from_databricks(400, b'["a", "b"]').message == '["a", "b"]'
    assert from_databricks(400, b'"Invalid Token"').message == '"Invalid Token"'


def test_long_messages_are_cut() -> None:
    error = from_databricks(400, body(error_code="BAD_REQUEST", message="x" * 10_000))
    assert error.message == "x" * 2000
    html = from_databricks(502, b"<pre>" + b"y" * 5000 + b"</pre>")
    assert html.message == "y" * 2000


@pytest.mark.parametrize("nested", ['{"error": "Invalid Token"}', '{"message": "m", "error": ["x"]}'])
def test_nested_json_with_a_non_object_error(nested: str) -> None:
    error = from_databricks(400, body(error_code="BAD_REQUEST", message=nested))
    assert isinstance(error, InvalidRequestError)


# --- status -> class and OpenAI type ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        (400, InvalidRequestError, "invalid_request_error"),
        (401, AuthenticationError, "authentication_error"),
        (403, PermissionDeniedError, "permission_error"),
        (404, NotFoundError, "not_found_error"),
        (413, RequestTooLargeError, "invalid_request_error"),
        (422, UnprocessableError, "invalid_request_error"),
        (429, RateLimitError, "rate_limit_error"),
        (500, APIError, "api_error"),
        (502, APIError, "api_error"),
        (503, APIError, "api_error"),
        (504, APIError, "api_error"),
        (418, InvalidRequestError, "invalid_request_error"),
        (409, InvalidRequestError, "invalid_request_error"),
        (599, APIError, "api_error"),
    ],
)
def test_status_mapping(status: int, error_class: type[ProxyError], error_type: str) -> None:
    error = from_databricks(status, b'{"error_code":"X_CODE","message":"m"}')
    assert type(error) is error_class
    assert error.status == status
    assert openai_body(error) == {"message": "m", "type": error_type, "param": None, "code": "X_CODE"}


def test_status_defaults_codes_when_databricks_gives_none() -> None:
    assert from_databricks(429, b"").code == "rate_limit_exceeded"
    assert from_databricks(413, b"").code == "request_too_large"
    assert from_databricks(401, b"").code == "invalid_api_key"
    assert from_databricks(400, b"").code is None


# --- Retry-After ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", "7"),
        (" 12 ", "12"),
        ("2.5", "2"),
        ("0", "0"),
        ("-3", "0"),
        ("60", "60"),
        ("3600", "60"),
        ("Wed, 21 Oct 2015 07:28:00 GMT", "0"),
        ("soon", "1"),
        ("", "1"),
        (None, "1"),
    ],
)
def test_retry_after_is_passed_on_capped_and_defaulted(status: int, header: str | None, expected: str) -> None:
    error = from_databricks(status, b'{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}', header)
    assert error.headers == {"Retry-After": expected}


def test_retry_after_cap_is_configurable() -> None:
    assert from_databricks(429, b"", "100", retry_after_cap=30).headers == {"Retry-After": "30"}
    assert from_databricks(503, b"", "10", retry_after_cap=30).headers == {"Retry-After": "10"}


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500, 502, 504])
def test_no_retry_after_for_other_statuses(status: int) -> None:
    assert from_databricks(status, b"", "5").headers == {}


def test_retry_after_as_an_http_date_is_the_seconds_until_then() -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:07 GMT", 60, now=now) == 7
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 60, now=now + 0.5) == 0
    assert parse_retry_after("Wed, 21 Oct 2015 09:00:00 GMT", 60, now=now) == 60
    assert parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", 60, now=now) == 0
    assert parse_retry_after("Wed, 99 Foo 2015 07:28:00 GMT", 60, now=now) == 1


def test_parse_retry_after() -> None:
    assert parse_retry_after(None, 60) is None
    assert parse_retry_after("5", 60) == 5
    assert parse_retry_after("500", 60) == 60
    assert parse_retry_after("nan", 60) == 1


@pytest.mark.parametrize("header", ["inf", "1e999"])
def test_parse_retry_after_with_an_infinite_value(header: str) -> None:
    assert parse_retry_after(header, 60) == 60


# --- the proxy's own errors -------------------------------------------------------------------------------------


def test_body_shape_of_the_proxys_own_errors() -> None:
    assert error_body(UnsupportedParameterError("no", param="logit_bias")) == {
        "error": {
            "message": "no",
            "type": "invalid_request_error",
            "param": "logit_bias",
            "code": "unsupported_parameter",
        }
    }
    missing = ModelNotFoundError("gpt-9", "/v1/models")
    assert missing.status == 404
    assert error_body(missing) == {
        "error": {
            "message": "The model 'gpt-9' does not exist or you do not have access to it. GET /v1/models lists the models you can use.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    limited = RateLimitError("slow", headers={"Retry-After": "3"})
    assert (limited.status, limited.headers, limited.code) == (429, {"Retry-After": "3"}, "rate_limit_exceeded")
    assert str(limited) == "slow"
