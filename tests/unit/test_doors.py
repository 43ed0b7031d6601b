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


def test_openapi_declares_the_key_so_docs_can_authorize() -> None:
    from app import create_app
    from services.settings import Settings

    schema = create_app(Settings(log_level="WARNING")).openapi()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["x-api-key"] == {**schemes["x-api-key"], "type": "apiKey", "in": "header", "name": "x-api-key"}
    either: list[dict[str, list[str]]] = [{"bearer": []}, {"x-api-key": []}]
    for path in ("/v1/chat/completions", "/api/v1/responses", "/api/anthropic/v1/messages"):
        assert schema["paths"][path]["post"]["security"] == either, path
    assert schema["paths"]["/v1/models/{model}"]["get"]["security"] == either
    assert "security" not in schema["paths"]["/health"]["get"]  # liveness takes no key
