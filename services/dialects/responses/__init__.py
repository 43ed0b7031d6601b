"""The OpenAI Responses API door: pure translation to and from the chat pivot.

``requests.to_chat`` turns a Responses request into a chat pivot request plus what the answer needs
(:class:`ChatTranslation`, as every door names it); ``answers.from_chat`` renders a pivot answer as a Response object;
``stream.ResponsesStream`` turns pivot chunks into Responses stream events. The proxy keeps no
responses itself (``services/store`` does): reasoning survives a round trip inside ``encrypted_content`` (see
``reasoning``). ``native`` is the request sent as is to Databricks' own Responses API, for GPT endpoints.
"""

from services.dialects import Dialect
from services.dialects.framing import named_event
from services.dialects.openai import error_body
from services.dialects.responses.answers import from_chat
from services.dialects.responses.common import ChatTranslation
from services.dialects.responses.requests import to_chat
from services.dialects.responses.stream import ResponsesStream

# Errors before the first byte are OpenAI's envelope; streams are named events ending with the door's own last event.
RESPONSES = Dialect("responses", error_body, named_event)

__all__ = ["RESPONSES", "ChatTranslation", "ResponsesStream", "from_chat", "to_chat"]
