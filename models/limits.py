"""How long the lists of a request may be, the same at every door.

``services.bounds`` reads each limit from the request model's JSON schema and refuses a longer list
with a 400 naming it before any item is validated, so a door states a limit once, here.
"""

MAX_MESSAGES = 2048  # a conversation: chat messages, Responses input items, Anthropic messages
MAX_TOOLS = 128  # tools offered to the model, counted after namespaces are flattened
MAX_CONTENT_PARTS = 2048  # content parts of one message or tool output, summaries of one reasoning item
MAX_STOP = 16  # stop sequences
MAX_METADATA_KEYS = 16
MAX_METADATA_KEY_CHARS = 64
MAX_METADATA_VALUE_CHARS = 512
MAX_INCLUDE = 64  # names in a Responses request's ``include``
