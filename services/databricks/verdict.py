"""What Databricks last said about the proxy's own credential: the truth behind ``/ready``."""

from __future__ import annotations

import time
from dataclasses import dataclass

_REFUSED = (401, 403)


@dataclass(slots=True)
class CredentialVerdict:
    """The latest answer Databricks gave to a request carrying the proxy's own credential.

    Only answers that say something about the credential count: a 401/403 refuses it; any other answer below
    500 accepted it (Databricks checks the token before anything else). A 5xx or a transport failure says
    nothing either way, and requests made with a caller's own token say nothing about the proxy's.
    """

    accepted_at: float | None = None
    refused_at: float | None = None
    refusal: str = ""

    def record(self, status: int, refusal: str = "") -> None:
        if status in _REFUSED:
            self.refused_at = time.monotonic()
            self.refusal = refusal or f"HTTP {status}"
        elif status < 500:
            self.accepted_at = time.monotonic()

    @property
    def refused(self) -> bool:
        """True when the latest word on the credential was a refusal."""
        if self.refused_at is None:
            return False
        return self.accepted_at is None or self.refused_at >= self.accepted_at

    def fresh(self, within_seconds: float) -> bool:
        """True when Databricks said something about the credential within the last ``within_seconds``."""
        latest = max(self.accepted_at or -1e18, self.refused_at or -1e18)
        return time.monotonic() - latest < within_seconds
