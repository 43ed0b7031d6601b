"""Metric labels come from a bounded set, whatever names clients send."""

from __future__ import annotations

import random
import string
import time

import httpx
import pytest
import respx

from services.call import CallRecord
from services.metrics import Metrics, ModelLabels
from tests.unit.test_app import HOST, INVOCATIONS, LLAMA, LLAMA_ANSWER, chat, proxy


def finished(metrics: Metrics, endpoint: str | None, status: int) -> None:
    record = CallRecord(
        request_id="r", route="/v1/chat/completions", started=time.perf_counter(), label="chat/completions"
    )
    record.endpoint, record.status = endpoint, status
    record.usage = {"prompt_tokens": 3, "completion_tokens": 2}
    metrics.started()
    metrics.finished(record, 0.01)


def test_twenty_thousand_random_model_names_leave_the_metrics_small_and_fast() -> None:
    metrics = Metrics(by_caller=False, models={LLAMA})
    names = ["m-" + "".join(random.choices(string.ascii_lowercase, k=12)) for _ in range(20_000)]
    for name in names:
        finished(metrics, name, 404)
    finished(metrics, LLAMA, 200)
    started = time.perf_counter()
    text = metrics.render()[0].decode()
    assert time.perf_counter() - started < 0.5  # about 2 ms on an idle machine; 25 s before labels were bounded
    assert not any(name in text for name in names[:100])
    assert 'proxy_requests_total{model="other",route="chat/completions",status_class="4xx"} 20000.0' in text
    assert f'proxy_requests_total{{model="{LLAMA}",route="chat/completions",status_class="2xx"}} 1.0' in text
    assert len(text) < 50_000


def test_a_name_becomes_a_label_once_known_and_only_up_to_the_limit() -> None:
    labels = ModelLabels(["configured"], limit=3)
    assert labels.label("configured", answered=False) == "configured"
    assert labels.label("guess", answered=False) == "other"  # refused or failed: not proof it exists
    assert labels.label("real", answered=True) == "real"
    labels.learn(["listed", "beyond-the-limit"])
    assert labels.label("listed", answered=False) == "listed"
    assert labels.label("beyond-the-limit", answered=True) == "other"
    assert labels.label(None, answered=False) == "none"


@pytest.mark.anyio
@respx.mock
async def test_names_databricks_does_not_know_are_counted_as_other() -> None:
    respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=LLAMA_ANSWER))
    respx.get(f"{HOST}/api/2.0/serving-endpoints").mock(return_value=httpx.Response(200, json={"endpoints": []}))
    respx.post(url__regex=rf"{HOST}/serving-endpoints/guess-\d+/invocations").mock(
        return_value=httpx.Response(404, json={"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no"})
    )
    async with proxy() as client:
        for number in range(5):
            assert (await client.post("/v1/chat/completions", json=chat(model=f"guess-{number}"))).status_code == 404
        assert (await client.post("/v1/chat/completions", json=chat())).status_code == 200
        text = (await client.get("/metrics")).text
    assert "guess-" not in text
    assert 'proxy_requests_total{model="other",route="chat/completions",status_class="4xx"} 5.0' in text
    assert f'proxy_requests_total{{model="{LLAMA}",route="chat/completions",status_class="2xx"}} 1.0' in text


@pytest.mark.anyio
async def test_metrics_are_under_api_too_for_a_scraper_behind_databricks_apps() -> None:
    async with proxy(api_keys="scrape-key", metrics_require_key=True) as client:
        refused = await client.get("/api/metrics")
        scraped = await client.get("/api/metrics", headers={"Authorization": "Bearer scrape-key"})
    assert refused.status_code == 401
    assert scraped.status_code == 200 and "proxy_requests_total" in scraped.text
