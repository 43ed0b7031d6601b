"""Errors the proxy answers with, in no dialect: status, kind, message, param, code, headers.

Each front door renders them in its own envelope (``services/dialects/``). ``kind`` is the shared
vocabulary of the OpenAI and Anthropic error types; a door maps the few kinds it names differently.

    ProxyError                       kind                 status
    ├── InvalidRequestError          invalid_request_error  400
    │   └── UnsupportedParameterError                       400, code unsupported_parameter, names the parameter
    ├── AuthenticationError          authentication_error   401
    ├── PermissionDeniedError        permission_error       403
    ├── NotFoundError                not_found_error        404
    │   └── ModelNotFoundError       model_not_found        404, code model_not_found, param model
    ├── RequestTimeoutError          invalid_request_error  408, a body that did not arrive in time
    ├── RequestTooLargeError         request_too_large      413
    ├── UnsupportedMediaTypeError    invalid_request_error  415, a body that is not JSON, or is encoded
    ├── UnprocessableError           invalid_request_error  422
    ├── RateLimitError               rate_limit_error       429 (carries Retry-After)
    │   └── OverloadedError                                 429, the proxy's own concurrency bound
    └── APIError                     api_error              5xx
        ├── UpstreamConnectionError                         502
        ├── UpstreamInvalidResponseError                    502, Databricks answered with a body that is not JSON
        ├── UpstreamCredentialError                         502, Databricks refused the proxy's own credential
        ├── UpstreamStreamError                             502, Databricks failed inside a started stream
        ├── ShuttingDownError                               503, a stream ended by the proxy's shutdown
        └── UpstreamTimeoutError                            504

Databricks error bodies become these in ``services/databricks/errors.py``.
"""

from __future__ import annotations

from collections.abc import Sequence


class ProxyError(Exception):
    status: int = 500
    kind: str = "api_error"
    default_code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        status: int | None = None,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        if status is not None:
            self.status = status
        if kind is not None:
            self.kind = kind
        self.headers = headers or {}


class InvalidRequestError(ProxyError):
    status = 400
    kind = "invalid_request_error"


class UnsupportedParameterError(InvalidRequestError):
    default_code = "unsupported_parameter"


class AuthenticationError(ProxyError):
    status = 401
    kind = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDeniedError(ProxyError):
    status = 403
    kind = "permission_error"


class NotFoundError(ProxyError):
    status = 404
    kind = "not_found_error"


class ModelNotFoundError(NotFoundError):
    kind = "model_not_found"
    default_code = "model_not_found"

    def __init__(self, model: str, models_path: str, suggestions: Sequence[str] = ()) -> None:
        """``models_path``: the list of models of the door the request came through (each door says where)."""
        hint = f" Did you mean {' or '.join(repr(name) for name in suggestions)}?" if suggestions else ""
        super().__init__(
            f"The model '{model}' does not exist or you do not have access to it. "
            f"GET {models_path} lists the models you can use.{hint}",
            param="model",
        )


class RequestTimeoutError(ProxyError):
    status = 408
    kind = "invalid_request_error"
    default_code = "request_timeout"


class RequestTooLargeError(ProxyError):
    status = 413
    kind = "request_too_large"
    default_code = "request_too_large"


class UnsupportedMediaTypeError(ProxyError):
    status = 415
    kind = "invalid_request_error"
    default_code = "unsupported_media_type"


class UnprocessableError(ProxyError):
    status = 422
    kind = "invalid_request_error"


class RateLimitError(ProxyError):
    status = 429
    kind = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class OverloadedError(RateLimitError):
    default_code = "proxy_overloaded"


class APIError(ProxyError):
    status = 500
    kind = "api_error"


class UpstreamConnectionError(APIError):
    status = 502
    default_code = "upstream_unreachable"


class UpstreamInvalidResponseError(APIError):
    """Databricks was reached and answered, but with something that is not the JSON it promises."""

    status = 502
    default_code = "upstream_invalid_response"


class UpstreamCredentialError(APIError):
    """Databricks answered 401/403 to the proxy's own workspace credential: the proxy's configuration is at
    fault, not the caller (whose own token, when forwarded, gets Databricks' 401/403 as it is)."""

    status = 502
    default_code = "upstream_credential_rejected"


class UpstreamStreamError(APIError):
    """Databricks reported an error inside an already started stream."""

    status = 502
    default_code = "upstream_stream_error"


class ShuttingDownError(APIError):
    status = 503
    default_code = "server_shutting_down"

    def __init__(self) -> None:
        super().__init__("The proxy is shutting down; this stream was ended early. Retry the request.")


class UpstreamTimeoutError(APIError):
    status = 504
    default_code = "upstream_timeout"


_BY_STATUS: dict[int, type[ProxyError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: RequestTooLargeError,
    422: UnprocessableError,
    429: RateLimitError,
}


def error_class_for(status: int) -> type[ProxyError]:
    """The error an HTTP status stands for (any other 4xx is an invalid request, any 5xx an API error)."""
    error_class = _BY_STATUS.get(status)
    if error_class is None:
        error_class = APIError if status >= 500 else InvalidRequestError
    return error_class
