from __future__ import annotations

import io
import logging

from services.banner import EmulatorTerminal
from services.doors import DOORS


def test_the_banner_names_every_door() -> None:
    out = io.StringIO()
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, "Uvicorn running on %s://%s:%d", ("http", "0.0.0.0", 8000), None
    )
    assert EmulatorTerminal(out).filter(record)
    line = out.getvalue()
    assert {door.dialect for door in DOORS} == {"OpenAI", "Anthropic", "Gemini"}
    for door in DOORS:
        assert f"{door.dialect} base URL http://127.0.0.1:8000{door.prefix}" in line
    assert line.endswith("front page http://127.0.0.1:8000/\n")
