"""How routes are declared: a lean route class, and what each route needs from the middleware.

``LeanRoute`` is for handlers that take the ``Request`` and return a ``Response`` themselves. FastAPI
still documents them (``/docs``), but requests skip its dependency and body machinery, which the
handlers do not use: they read and validate the raw body once, themselves.

``@needs(...)`` (under the router decorator) declares whether the route wants an API key and its metric
label; the middleware reads the declarations of every mounted route once, at start.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

E = TypeVar("E", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Needs:
    key: bool | str = True  # an API key (when keys are configured); a str names the bool setting that decides
    label: str = "other"  # the bounded ``route`` label of the metrics


def needs(*, key: bool | str = True, label: str) -> Callable[[E], E]:
    def declare(endpoint: E) -> E:
        endpoint.needs = Needs(key, label)  # type: ignore[attr-defined]
        return endpoint

    return declare


def needs_of(endpoint: Callable[..., Any]) -> Needs:
    declared = getattr(endpoint, "needs", None)
    return declared if isinstance(declared, Needs) else Needs()


class LeanRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            response: Response = await endpoint(request=request, **request.path_params)
            return response

        return handler
