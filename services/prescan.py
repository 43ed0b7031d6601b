"""A body's structure priced from its raw bytes, before it is parsed.

Parsing is the one step whose cost a client chooses before any bound is checked: 16 MB of empty arrays
(``[[],[],...]``, 5.5 million of them) hold the event loop for seconds while they are built. Every value after
the first in an array or object is preceded by a comma, so the commas outside strings never outnumber the
values ``services.bounds`` counts in a body's arrays and objects; a body with more of them than that bound is
refused unparsed, and whatever is parsed stays small.

Every step is a pass of C code over the bytes (a few milliseconds a megabyte), with no Python work per value:

1. the commas in the raw bytes; when they are within the bound, strings cannot change the answer;
2. escapes removed (escaped backslashes, then escaped quotes): what is left of a string has no quote inside;
3. only quotes and commas kept, and adjacent quote pairs dropped (an empty string, or the end of one string
   and the start of the next: dropping two adjacent quotes changes no comma's side). Between one remaining
   string and the next there is now at least one comma outside strings, so more remaining strings than the
   bound means more commas than the bound;
4. otherwise the commas between a closing and the next opening quote are counted.
"""

from __future__ import annotations

from services.errors import InvalidRequestError

_NOT_QUOTE_OR_COMMA = bytes(b for b in range(256) if b not in b'",')


def more_values_than(raw: bytes, limit: int) -> bool:
    """True when ``raw`` (JSON text) has more than ``limit`` commas outside its strings."""
    if raw.count(b",") <= limit:
        return False
    marks = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_QUOTE_OR_COMMA)
    while b'""' in marks:
        marks = marks.replace(b'""', b"")
    if marks.count(b'"') // 2 > limit + 1:
        return True
    outside = marks.split(b'"')[::2]
    return sum(map(len, outside)) > limit


def check_price(raw: bytes, max_values: int) -> None:
    """Refuse, unparsed, a body holding more values than ``max_values`` in its arrays and objects."""
    if more_values_than(raw, max_values):
        raise InvalidRequestError(
            f"The request holds more than {max_values} values in its arrays and objects.",
            code="request_too_complex",
        )
