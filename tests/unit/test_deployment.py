"""The Databricks Apps deployment files: app.yaml and databricks.yml agree with each other and with the code,
and app.yaml's command really starts the proxy the way the Apps runtime runs it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml

from emulator.app import EmulatorOptions
from emulator.server import EmulatorServer
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
APP_KEY = "openai_proxy"  # resources.apps.<key>: what `databricks bundle run <key>` names
PORT = "$DATABRICKS_APP_PORT"  # the one variable the runtime substitutes in `command`
RUNTIME_ENV = ("DATABRICKS_HOST", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET", "DATABRICKS_APP_NAME", PORT[1:])
SIGTERM_TO_KILL_SECONDS = 15
TOKEN = "tok"
CALLER = "someone@example.com"


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / name).read_text())
    assert isinstance(data, dict), f"{name} is not a YAML mapping"
    return data


@pytest.fixture(scope="module")
def app_config() -> dict[str, Any]:
    return _load("app.yaml")


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return _load("databricks.yml")


def _app(bundle: dict[str, Any]) -> dict[str, Any]:
    app: dict[str, Any] = bundle["resources"]["apps"][APP_KEY]
    return app


def _default_target(bundle: dict[str, Any]) -> str:
    defaults = [name for name, target in bundle["targets"].items() if (target or {}).get("default")]
    assert len(defaults) == 1, f"expected exactly one default target, got {defaults}"
    return str(defaults[0])


def _variables(bundle: dict[str, Any], target: str) -> dict[str, str]:
    """Variable values for a target: the defaults, then the target's overrides (shorthand or {default: ...})."""
    values = {name: spec["default"] for name, spec in bundle.get("variables", {}).items() if "default" in spec}
    for name, override in ((bundle["targets"][target] or {}).get("variables") or {}).items():
        values[name] = override["default"] if isinstance(override, dict) else override
    return {name: str(value) for name, value in values.items()}


def _resolve(text: str, variables: dict[str, str]) -> str:
    def lookup(match: re.Match[str]) -> str:
        assert match.group(1) in variables, f"${{var.{match.group(1)}}} has no value"
        return variables[match.group(1)]

    return re.sub(r"\$\{var\.([A-Za-z0-9_-]+)\}", lookup, text)


def _resource_values(bundle: dict[str, Any], target: str) -> dict[str, str]:
    """What `valueFrom: <resource name>` yields for each app resource (a serving endpoint: its name)."""
    variables = _variables(bundle, target)
    return {
        resource["name"]: _resolve(resource["serving_endpoint"]["name"], variables)
        for resource in _app(bundle).get("resources", [])
        if "serving_endpoint" in resource
    }


def _app_env(app_config: dict[str, Any], bundle: dict[str, Any], target: str) -> dict[str, str]:
    """app.yaml's env as the runtime sets it, with every valueFrom resolved from the bundle."""
    resources = _resource_values(bundle, target)
    return {
        entry["name"]: str(entry["value"]) if "value" in entry else resources[entry["valueFrom"]]
        for entry in app_config.get("env", [])
    }


# ------------------------------------------------------------------------------------------ static checks


def test_bundle_declares_the_app(bundle: dict[str, Any]) -> None:
    app = _app(bundle)
    assert app["source_code_path"] == ".", "app.yaml and requirements.txt must be at the root of the uploaded code"
    # What both serving-endpoint calls accept (Databricks REST API reference: invocations and the endpoint list),
    # and Unity Gateway's paths.
    assert app.get("user_api_scopes") == ["model-serving", "ai-gateway"]
    assert bundle["targets"][_default_target(bundle)]["mode"] == "development"
    assert bundle["targets"]["prod"]["mode"] == "production"
    # Production mode refuses to deploy unless the deployment's root path is pinned.
    assert bundle["targets"]["prod"]["workspace"]["root_path"]
    names = {target: _resolve(app["name"], _variables(bundle, target)) for target in bundle["targets"]}
    for target, name in names.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), f"app name {name!r} ({target}) is not a valid app name"
    # Apps are not renamed in development mode: distinct names let dev and prod share a workspace.
    assert len(set(names.values())) == len(names), names


def test_value_from_names_an_app_resource(app_config: dict[str, Any], bundle: dict[str, Any]) -> None:
    resources = _app(bundle).get("resources", [])
    names = [resource["name"] for resource in resources]
    assert len(names) == len(set(names)), f"duplicate app resource names: {names}"
    for entry in app_config.get("env", []):
        if "valueFrom" in entry:
            assert entry["valueFrom"] in names, f"{entry['name']}: no app resource named {entry['valueFrom']!r}"
    endpoints = _resource_values(bundle, _default_target(bundle))
    assert all(r["serving_endpoint"]["permission"] == "CAN_QUERY" for r in resources if "serving_endpoint" in r)
    # A default deploy serves the clients the README promotes: Claude Code needs a Claude endpoint.
    assert any("claude" in name for name in endpoints.values()), endpoints
    # No allow-list narrower than the endpoints declared: each declared endpoint can be called.
    allowed = _app_env(app_config, bundle, _default_target(bundle)).get("PROXY_ALLOWED_MODELS")
    assert allowed is None or set(endpoints.values()) <= set(allowed.split(",")), allowed


def test_command_is_what_the_apps_runtime_can_run(app_config: dict[str, Any]) -> None:
    command = app_config["command"]
    assert isinstance(command, list) and all(isinstance(arg, str) for arg in command), command
    assert command[:2] == ["uvicorn", "app:app"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--port") + 1] == PORT
    # No shell runs the command: any other `$` would reach uvicorn as a literal.
    assert [arg for arg in command if "$" in arg] == [PORT]
    assert "--workers" not in command
    grace = float(command[command.index("--timeout-graceful-shutdown") + 1])
    assert 0 < grace < SIGTERM_TO_KILL_SECONDS
    # Clients drop idle pooled connections first (httpx after 5 s), so none reuses one the server is closing.
    keep_alive = float(command[command.index("--timeout-keep-alive") + 1])
    expiry = httpx.Limits().keepalive_expiry
    assert expiry is not None and keep_alive > expiry


def test_env_entries_are_settings(app_config: dict[str, Any], bundle: dict[str, Any]) -> None:
    entries = app_config.get("env", [])
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names)), f"duplicate env names: {names}"
    for entry in entries:
        assert set(entry) in ({"name", "value"}, {"name", "valueFrom"}), entry
        assert entry["name"] not in RUNTIME_ENV, f"{entry['name']} is set by the Apps runtime"
        if entry["name"].startswith("PROXY_"):
            field = entry["name"].removeprefix("PROXY_").lower()
            assert field in Settings.model_fields, f"{entry['name']} is not a setting (services/settings.py)"
            # Fields read under another name (DATABRICKS_HOST, ...) do not answer to PROXY_<FIELD>.
            assert Settings.model_fields[field].validation_alias is None, f"{entry['name']} is not read"
    # The values parse as settings, too.
    env = _app_env(app_config, bundle, _default_target(bundle))
    fields = {name.removeprefix("PROXY_").lower(): value for name, value in env.items() if name.startswith("PROXY_")}
    settings = Settings.model_validate(fields)
    assert settings.log_format == "json"
    assert settings.allowed_models == ()  # every endpoint the caller may query


def test_docs_name_the_bundle_resource() -> None:
    docs = (ROOT / "README.md").read_text()
    assert f"databricks bundle run {APP_KEY}" in docs
    assert "/api/v1" in docs


# --------------------------------------------------------------------------------- the command, for real


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _log(path: Path) -> str:
    return path.read_text(errors="replace")[-4000:]


def test_app_yaml_command_starts_the_app(app_config: dict[str, Any], bundle: dict[str, Any], tmp_path: Path) -> None:
    target = _default_target(bundle)
    endpoint = bundle["variables"]["serving_endpoint"]["default"]
    port = _free_port()
    command = [arg.replace(PORT, str(port)) for arg in app_config["command"]]
    args = [sys.executable, "-m", "uvicorn", *command[1:]]
    log_path = tmp_path / "app.log"

    with EmulatorServer(EmulatorOptions(tokens=(TOKEN,))) as emulator:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "PROXY_"))}
        env.update(_app_env(app_config, bundle, target))
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "DATABRICKS_APP_PORT": str(port),
                "DATABRICKS_APP_NAME": _resolve(_app(bundle)["name"], _variables(bundle, target)),
                # On Apps these are the service principal's DATABRICKS_CLIENT_ID/SECRET (OAuth M2M);
                # a token keeps the test fast and exercises the same start-up path.
                "DATABRICKS_HOST": emulator.url,
                "DATABRICKS_TOKEN": TOKEN,
                "PROXY_STORE_URL": f"sqlite:///{tmp_path}/proxy.db",  # the default store, outside the checkout
            }
        )
        with log_path.open("wb") as log:
            proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            health = None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                assert proc.poll() is None, f"the app exited with {proc.returncode}:\n{_log(log_path)}"
                try:
                    health = httpx.get(f"{base}/health", timeout=1)
                    if health.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
            assert health is not None and health.status_code == 200, f"no healthy app:\n{_log(log_path)}"
            # The platform's environment reached the settings: a workspace, not the built-in emulator fallback.
            assert health.json()["upstream"] == "databricks", health.text

            models = httpx.get(f"{base}/api/v1/models", timeout=10)
            assert models.status_code == 200, models.text
            listed = [m["id"] for m in models.json()["data"]]
            # no allow-list: every endpoint the caller may query, the declared ones among them
            assert endpoint in listed and bundle["variables"]["claude_endpoint"]["default"] in listed, listed

            # User authorization: the proxy calls upstream with the caller's forwarded token, not its own.
            as_user = {"X-Forwarded-Access-Token": TOKEN, "X-Forwarded-Email": CALLER}
            assert httpx.get(f"{base}/api/v1/models", headers=as_user, timeout=10).status_code == 200
            as_stranger = {**as_user, "X-Forwarded-Access-Token": "not-a-workspace-token"}
            assert httpx.get(f"{base}/api/v1/models", headers=as_stranger, timeout=10).status_code == 401

            proc.send_signal(signal.SIGTERM)
            started = time.monotonic()
            try:
                proc.wait(timeout=SIGTERM_TO_KILL_SECONDS)
            except subprocess.TimeoutExpired:
                pytest.fail(f"still running {SIGTERM_TO_KILL_SECONDS}s after SIGTERM:\n{_log(log_path)}")
            assert time.monotonic() - started < SIGTERM_TO_KILL_SECONDS
            assert proc.returncode in (0, -signal.SIGTERM), f"exit {proc.returncode}:\n{_log(log_path)}"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    output = log_path.read_text(errors="replace")
    assert "Application shutdown complete" in output, output[-4000:]
    # PROXY_LOG_FORMAT=json: the proxy's own lines are JSON objects.
    proxy_lines = [line for line in output.splitlines() if line.startswith("{")]
    assert proxy_lines, output[-4000:]
    assert all(isinstance(orjson.loads(line), dict) for line in proxy_lines)
    assert CALLER in output  # request lines name the caller from X-Forwarded-Email
