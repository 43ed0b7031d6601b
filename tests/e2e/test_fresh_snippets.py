"""Every recipe run as a user runs it: in a fresh environment holding exactly what its install line names, at the
newest releases (not this project's pins), pasted as written, against the app.

Python: the README's Python blocks that carry a ``# pip install`` line and the front page's Python snippets in each
mode (OAuth behind Apps, an API key, no key). One virtual environment per distinct install line, created once per
test session; pip's download cache is shared, so later sessions download nothing that has not changed. Node: the
front page's OpenAI Node snippet in a fresh npm folder (``npm install openai``). A snippet whose imports or install
line go stale fails here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import venv
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from routes.pages.snippets import KEY_VARIABLE, Auth, snippets
from tests.e2e.conftest import CLAUDE, LLAMA
from tests.e2e.harness import E2E_TOKEN, Emulator, Proxy

ROOT = Path(__file__).resolve().parents[2]
KEY = "fresh-venv-oauth-token-0123456789"
CLI = f"""#!/bin/sh
# Stands in for the Databricks CLI: `databricks auth token --host <workspace>` prints the cached OAuth token.
echo '{{"access_token": "{KEY}", "token_type": "Bearer", "expiry": "2099-01-01T00:00:00Z"}}'
"""
SP = {"DATABRICKS_CLIENT_ID": "sp-client", "DATABRICKS_CLIENT_SECRET": "sp-secret"}
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
_INSTALL = re.compile(r"^# pip install (.+)$", re.MULTILINE)


def install_line(code: str) -> tuple[str, ...]:
    found = _INSTALL.search(code)
    assert found is not None, f"a recipe without its install line:\n{code}"
    return tuple(sorted(found.group(1).split()))


def readme_python_recipes() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [block for block in _BLOCK.findall(text) if _INSTALL.search(block)]


@pytest.fixture(scope="module")
def keyed_proxy(emulator: Emulator) -> Iterator[Proxy]:
    server = Proxy({"DATABRICKS_HOST": emulator.url, "DATABRICKS_TOKEN": E2E_TOKEN, "PROXY_API_KEYS": f"user:{KEY}"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def workspace_oauth() -> Iterator[Emulator]:
    """A workspace whose OAuth endpoint knows the service principal (the M2M recipes get their token here)."""
    emu = Emulator("--client-id", SP["DATABRICKS_CLIENT_ID"], "--client-secret", SP["DATABRICKS_CLIENT_SECRET"])
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def fresh_python(tmp_path_factory: pytest.TempPathFactory) -> Callable[[tuple[str, ...]], Path]:
    """The interpreter of a fresh venv holding exactly ``packages`` (newest releases), one per install line."""
    made: dict[tuple[str, ...], Path] = {}
    root = tmp_path_factory.mktemp("fresh-venvs")

    def python(packages: tuple[str, ...]) -> Path:
        if packages not in made:
            folder = root / "-".join(packages)
            venv.create(folder, with_pip=True, clear=True)
            interpreter = folder / "bin" / "python"
            print(f"\nfresh venv: pip install {' '.join(packages)} (newest releases, as a user would)", flush=True)
            subprocess.run(
                [str(interpreter), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages],
                check=True,
                timeout=600,
            )
            made[packages] = interpreter
        return made[packages]

    return python


@pytest.fixture(scope="module")
def user_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A user's shell: no project venv, no Databricks settings, a stand-in ``databricks`` CLI on PATH."""
    bin_dir = tmp_path_factory.mktemp("cli-bin")
    (bin_dir / "databricks").write_text(CLI)
    (bin_dir / "databricks").chmod(0o755)
    home = tmp_path_factory.mktemp("user-home")
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if ".venv" not in p)
    return {"PATH": f"{bin_dir}{os.pathsep}{path}", "HOME": str(home)}


def run(interpreter: Path, code: str, env: dict[str, str], cwd: Path) -> str:
    script = cwd / "recipe.py"
    script.write_text(code)
    done = subprocess.run(
        [str(interpreter), script.name], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, code + "\n---\n" + done.stdout + done.stderr
    return done.stdout


def test_readme_python_recipes_run_in_a_fresh_venv(
    fresh_python: Callable[[tuple[str, ...]], Path],
    keyed_proxy: Proxy,
    proxy: Proxy,
    emulator: Emulator,
    workspace_oauth: Emulator,
    user_env: dict[str, str],
    tmp_path: Path,
) -> None:
    recipes = readme_python_recipes()
    assert len(recipes) >= 3  # the OpenAI SDK, LangChain and service-principal recipes at least
    for code in recipes:
        service_principal = "DATABRICKS_CLIENT_SECRET" in code
        # A service principal's token comes from the workspace's OAuth endpoint: the unkeyed app takes it.
        app = proxy if service_principal else keyed_proxy
        workspace = workspace_oauth if service_principal else emulator
        pasted = code.replace("https://<app-url>", app.url).replace("https://<workspace-host>", workspace.url)
        # DATABRICKS_TOKEN: databricks-sdk's unified auth, standing for the user's CLI login.
        creds = SP if service_principal else {"DATABRICKS_TOKEN": KEY}
        out = run(fresh_python(install_line(code)), pasted, {**user_env, **creds}, tmp_path)
        assert ("Echo:" in out) or (LLAMA in out), code + "\n---\n" + out


@pytest.mark.parametrize("auth", ["oauth", "key", "none"])
def test_front_page_python_snippets_run_in_a_fresh_venv(
    auth: Auth,
    fresh_python: Callable[[tuple[str, ...]], Path],
    keyed_proxy: Proxy,
    proxy: Proxy,
    emulator: Emulator,
    workspace_oauth: Emulator,
    user_env: dict[str, str],
    tmp_path: Path,
) -> None:
    app = proxy if auth == "none" else keyed_proxy
    page = snippets(app.url, emulator.url, LLAMA, CLAUDE, auth)
    python = [s for s in page if s.language == "python" and s.key != "m2m"]
    assert {s.key for s in python} == {"python", "langchain", "genai"}
    env = {**user_env, "DATABRICKS_TOKEN": KEY} if auth == "oauth" else {**user_env, KEY_VARIABLE: KEY}
    for snippet in python:
        out = run(fresh_python(install_line(snippet.code)), snippet.code, env, tmp_path)
        assert out == "Echo: Say hello in one sentence.\n", snippet.key
    m2m = [s for s in snippets(proxy.url, workspace_oauth.url, LLAMA, CLAUDE, auth) if s.key == "m2m"]
    assert len(m2m) == (1 if auth == "oauth" else 0)
    for snippet in m2m:
        assert LLAMA in run(fresh_python(install_line(snippet.code)), snippet.code, {**user_env, **SP}, tmp_path)


@pytest.mark.parametrize("auth", ["oauth", "key"])
def test_front_page_node_snippet_runs_in_a_fresh_npm_folder(
    auth: Auth, keyed_proxy: Proxy, emulator: Emulator, user_env: dict[str, str], tmp_path: Path
) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed on this machine")
    (snippet,) = [s for s in snippets(keyed_proxy.url, emulator.url, LLAMA, CLAUDE, auth) if s.key == "node"]
    install = re.match(r"// npm install (\S+)", snippet.code)
    assert install is not None
    (tmp_path / "package.json").write_text('{"name": "recipe", "private": true, "type": "module"}\n')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", install.group(1)],
        cwd=tmp_path,
        check=True,
        timeout=300,
    )
    (tmp_path / "recipe.mjs").write_text(snippet.code)
    env = {**user_env, KEY_VARIABLE: KEY, "HOME": os.environ.get("HOME", user_env["HOME"])}
    done = subprocess.run(["node", "recipe.mjs"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Echo: Count to five."
