"""The first hour against the real processes: the emulator-mode terminal, and a newcomer's mistakes through the
OpenAI SDK."""

from __future__ import annotations

import openai
import pytest

from tests.e2e.conftest import LLAMA
from tests.e2e.harness import Proxy


def test_emulator_mode_names_the_proxys_url_and_keeps_uvicorns_running_line() -> None:
    proxy = Proxy({})  # no workspace: the built-in emulator
    try:
        output = proxy.wait_for_output("front page")
    finally:
        proxy.stop()
    assert "NO DATABRICKS WORKSPACE CONFIGURED" in output
    assert f"OpenAI base URL {proxy.url}/v1, Anthropic base URL {proxy.url}/anthropic" in output
    assert f"Gemini base URL {proxy.url}/gemini, front page {proxy.url}/" in output
    # uvicorn's own line is there, once: the emulator's server (another port) says nothing on this terminal.
    assert output.count("Uvicorn running on") == 1
    assert f"Uvicorn running on {proxy.url}" in output


def test_a_wrong_model_name_points_to_the_models_list_and_the_nearest_name(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="llama-3", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "model_not_found"
    assert caught.value.body["message"] == (
        "The model 'llama-3' does not exist or you do not have access to it. GET /v1/models lists the models you "
        f"can use. Did you mean '{LLAMA}'?"
    )
    listed = {model.id: model.model_extra for model in client.models.list()}
    assert listed[LLAMA] == {"task": "llm/v1/chat"}  # an extra field the SDK keeps


def test_legacy_completions_sent_to_a_chat_model_say_so(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model=LLAMA, prompt="Say hi")
    assert caught.value.code == "wrong_endpoint_for_model"
    assert caught.value.body["message"].startswith(
        f"'{LLAMA}' is a chat model (Databricks task llm/v1/chat): send it to POST /v1/chat/completions with messages."
    )
