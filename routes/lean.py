"""A route class for handlers that take the ``Request`` and return a ``Response`` themselves.

FastAPI still documents them (``/docs``), but requests skip its dependency and body machinery,
which the handlers do not use: they read and validate the raw body once, themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response


class LeanRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            response: Response = await endpoint(request=request, **request.path_params)
            return response

        return handler
