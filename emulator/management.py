"""The serving-endpoints management API (list and get) and the answer to any other path."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response

from emulator import catalog
from emulator.state import EmulatorState, json_response, no_such_path, unauthorized


class Management:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def list_endpoints(self, request: Request) -> Response:
        self.state.record(request, None)
        if not self.state.authorized(request):
            return unauthorized()
        return json_response(200, {"endpoints": [catalog.describe(e) for e in catalog.listed_endpoints()]})

    async def get_endpoint(self, request: Request) -> Response:
        self.state.record(request, None)
        if not self.state.authorized(request):
            return unauthorized()
        name = request.path_params["name"]
        endpoint = catalog.lookup(name)
        if endpoint is None:
            return json_response(
                404,
                {
                    "error_code": "RESOURCE_DOES_NOT_EXIST",
                    "message": f"Endpoint with name '{name}' does not exist.",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.rpc.RequestInfo",
                            "request_id": str(uuid.uuid4()),
                            "serving_data": "",
                        }
                    ],
                },
            )
        return json_response(
            200, {**catalog.describe(endpoint), "permission_level": "CAN_QUERY", "route_optimized": False}
        )

    async def fallback(self, request: Request) -> Response:
        self.state.record(request, None)
        path = request.scope["path"]
        if path.startswith(("/serving-endpoints", "/api/2.0/")) and not self.state.authorized(request):
            return unauthorized()
        return no_such_path(request)

    # ---------------------------------------------------------------------------------------- invocations
