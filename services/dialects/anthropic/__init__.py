"""The Anthropic Messages door: pure translation to and from the chat pivot.

- ``requests``: Messages request -> chat request (``to_chat``)
- ``family``: what each Databricks model family takes for thinking and effort
- ``answers``: chat answer -> ``Message``
- ``stream``: chat chunks -> Messages stream events (``MessageStream``)
- ``errors``: the Anthropic error envelope
- ``tokens``: the ``count_tokens`` estimate
- ``model_ids``: Anthropic model ids -> endpoints, and the Anthropic model list
"""

from services.dialects import Dialect
from services.dialects.anthropic.errors import error_body
from services.dialects.framing import named_event

# Anthropic's SDKs read the request id from ``request-id``; its streams end with ``message_stop``.
ANTHROPIC = Dialect("anthropic", error_body, named_event, ping={"type": "ping"}, id_header=b"request-id")
