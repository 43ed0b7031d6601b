"""OAuth M2M as a Databricks workspace serves it: host metadata, OIDC discovery, client-credentials tokens."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from emulator.state import EmulatorState, json_response


def base_url(request: Request) -> str:
    host = request.headers.get("host")
    if not host:
        server = request.scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{request.url.scheme}://{host}"


class OAuth:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def host_metadata(self, request: Request) -> Response:
        # databricks-sdk >= 0.7x resolves its OIDC discovery URL from this document.
        self.state.record(request, None)
        base = base_url(request)
        return json_response(200, {"oidc_endpoint": f"{base}/oidc", "workspace_id": "1234567890123456"})

    async def oidc_discovery(self, request: Request) -> Response:
        self.state.record(request, None)
        base = base_url(request)
        return json_response(
            200,
            {
                "issuer": f"{base}/oidc",
                "authorization_endpoint": f"{base}/oidc/v1/authorize",
                "token_endpoint": f"{base}/oidc/v1/token",
                "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["all-apis", "offline_access"],
            },
        )

    def _client_ok(self, client_id: str | None, client_secret: str | None) -> bool:
        expected_id = self.state.options.client_id
        if expected_id is None:
            # No service principal configured: open mode accepts anyone, token-only mode nobody.
            return not self.state.strict and bool(client_id)
        if client_id is None or not hmac.compare_digest(client_id, expected_id):
            return False
        expected_secret = self.state.options.client_secret
        return expected_secret is None or (
            client_secret is not None and hmac.compare_digest(client_secret, expected_secret)
        )

    async def token(self, request: Request) -> Response:
        raw = await request.body()
        self.state.record(request, None)
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            if ":" in decoded:
                client_id, _, client_secret = decoded.partition(":")
        if form.get("grant_type") != "client_credentials":
            return json_response(
                400,
                {"error": "unsupported_grant_type", "error_description": "Only client_credentials is supported."},
            )
        if not self._client_ok(client_id, client_secret):
            return json_response(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        ttl = self.state.options.token_ttl_seconds
        now = time.monotonic()
        if len(self.state.issued) > 1000:
            self.state.issued = {t: e for t, e in self.state.issued.items() if e > now}
        access_token = "emu-" + secrets.token_urlsafe(24)
        self.state.issued[access_token] = now + ttl
        self.state.stats.tokens_issued += 1
        return json_response(
            200, {"access_token": access_token, "token_type": "Bearer", "expires_in": ttl, "scope": "all-apis"}
        )

    # ---------------------------------------------------------------------------------------- management
