"""Copy-ready set-up for the front page: pure text, filled in with this app's URL and a model it serves.

Databricks Apps accept only OAuth tokens on ``/api/...`` paths, and those last about an hour, so every
snippet gets its token from something that refreshes it (databricks-sdk, the Databricks CLI) rather
than from a pasted value.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

WORKSPACE_PLACEHOLDER = "https://<workspace-host>"
DEFAULT_CHAT_MODEL = "databricks-meta-llama-3-3-70b-instruct"
DEFAULT_CLAUDE_MODEL = "databricks-claude-sonnet-4-5"
# Names that can go into every snippet's quoting (Python, JSON, TOML, shell) as they are.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")

# Prints the CLI's current OAuth token for the workspace (the CLI refreshes it); no jq needed.
_CLI_BEARER_COMMAND = (
    "databricks auth token --host {workspace} "
    "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
)


@dataclass(frozen=True, slots=True)
class Snippet:
    key: str
    title: str
    note: str
    language: str
    code: str


@dataclass(frozen=True, slots=True)
class Door:
    name: str
    base_url: str
    routes: str


def plain_name(name: str | None, default: str) -> str:
    return name if name is not None and _PLAIN_NAME.fullmatch(name) else default


def doors(app_url: str) -> list[Door]:
    return [
        Door(
            "OpenAI chat, completions, embeddings, models",
            f"{app_url}/api/v1",
            "chat/completions, completions, embeddings, models",
        ),
        Door("OpenAI Responses (Codex CLI, Agents SDK)", f"{app_url}/api/v1", "responses"),
        Door(
            "Anthropic Messages (Claude Code, Anthropic SDK)",
            f"{app_url}/api/anthropic",
            "v1/messages, v1/messages/count_tokens, v1/models",
        ),
        Door(
            "Gemini API (Gemini CLI, Google Gen AI SDK)",
            f"{app_url}/api/gemini",
            "v1beta/models/{model}:generateContent, :streamGenerateContent, :countTokens, v1beta/models",
        ),
    ]


def token_command(workspace: str) -> str:
    return _CLI_BEARER_COMMAND.format(workspace=workspace)


_AUTH_CLASS = '''class DatabricksAuth(httpx.Auth):
    """A current OAuth token on every request: databricks-sdk refreshes it before it expires."""

    def auth_flow(self, request):
        request.headers.update(config.authenticate())
        yield request'''


def snippets(app_url: str, workspace: str, chat_model: str, claude_model: str) -> list[Snippet]:
    base = f"{app_url}/api/v1"
    python = f'''# pip install openai databricks-sdk
import httpx
from databricks.sdk.core import Config
from openai import OpenAI

# Your Databricks login (run `databricks auth login --host {workspace}` once).
config = Config(host="{workspace}")


{_AUTH_CLASS}


client = OpenAI(
    base_url="{base}",
    api_key="unused",  # DatabricksAuth sends the Authorization header
    http_client=httpx.Client(auth=DatabricksAuth()),
)
answer = client.chat.completions.create(
    model="{chat_model}",
    messages=[{{"role": "user", "content": "Say hello in one sentence."}}],
)
print(answer.choices[0].message.content)
'''
    node = f'''// npm install openai   (Node 20+, ES module)
import OpenAI from "openai";
import {{ execFile }} from "node:child_process";
import {{ promisify }} from "node:util";

const run = promisify(execFile);
let cached = {{ token: "", expires: 0 }};

// The Databricks CLI's OAuth token for the workspace, fetched again a minute before it expires.
async function databricksToken() {{
  if (Date.now() < cached.expires - 60_000) return cached.token;
  const {{ stdout }} = await run("databricks", ["auth", "token", "--host", "{workspace}"]);
  const {{ access_token, expiry }} = JSON.parse(stdout);
  cached = {{ token: access_token, expires: Date.parse(expiry) }};
  return access_token;
}}

const client = new OpenAI({{ baseURL: "{base}", apiKey: databricksToken }});
const stream = await client.chat.completions.create({{
  model: "{chat_model}",
  messages: [{{ role: "user", content: "Count to five." }}],
  stream: true,
}});
for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
'''
    body = json.dumps({"model": chat_model, "messages": [{"role": "user", "content": "Say hello in one sentence."}]})
    curl = f"""TOKEN=$({token_command(workspace)})

curl -sS {base}/models -H "Authorization: Bearer $TOKEN"

curl -sS {base}/chat/completions \\
  -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\
  -d '{body}'
"""
    langchain = f'''# pip install langchain-openai databricks-sdk
import httpx
from databricks.sdk.core import Config
from langchain_openai import ChatOpenAI

config = Config(host="{workspace}")


{_AUTH_CLASS}


llm = ChatOpenAI(
    base_url="{base}",
    api_key="unused",
    model="{chat_model}",
    http_client=httpx.Client(auth=DatabricksAuth()),
    http_async_client=httpx.AsyncClient(auth=DatabricksAuth()),
)
print(llm.invoke("Say hello in one sentence.").content)
'''
    command_args = json.dumps(["-c", token_command(workspace)])
    codex = f'''# ~/.codex/config.toml
model = "{chat_model}"
model_provider = "databricks"

[model_providers.databricks]
name = "Databricks Model Serving"
base_url = "{base}"
wire_api = "responses"

# Codex runs this for a bearer token and runs it again every 5 minutes (and after a 401).
[model_providers.databricks.auth]
command = "sh"
args = {command_args}
refresh_interval_ms = 300000
'''
    claude_settings = {
        "apiKeyHelper": token_command(workspace),
        "env": {
            "ANTHROPIC_BASE_URL": f"{app_url}/api/anthropic",
            "ANTHROPIC_MODEL": claude_model,
            "ANTHROPIC_DEFAULT_HAIKU_MODEL": claude_model,
            "CLAUDE_CODE_API_KEY_HELPER_TTL_MS": "1800000",
        },
    }
    claude = json.dumps(claude_settings, indent=2) + "\n"
    genai = f'''# pip install google-genai databricks-sdk
import httpx
from databricks.sdk.core import Config
from google import genai
from google.genai import types

config = Config(host="{workspace}")


{_AUTH_CLASS}


client = genai.Client(
    api_key="unused",  # DatabricksAuth sends the Authorization header
    http_options=types.HttpOptions(
        base_url="{app_url}/api/gemini", httpx_client=httpx.Client(auth=DatabricksAuth())
    ),
)
answer = client.models.generate_content(model="{chat_model}", contents="Say hello in one sentence.")
print(answer.text)
'''
    gemini_settings = json.dumps({"security": {"auth": {"selectedType": "gemini-api-key"}}})
    gemini_cli = f"""# npm install -g @google/gemini-cli
# ~/.gemini/settings.json must select API-key auth: {gemini_settings}
APP={app_url}
export GOOGLE_GEMINI_BASE_URL="$APP/api/gemini"
export GEMINI_API_KEY_AUTH_MECHANISM=bearer
# A fresh token at each start (Gemini CLI reads it once; it lasts about an hour).
export GEMINI_API_KEY="$({token_command(workspace)})"
gemini -m {claude_model}
"""
    m2m = f'''# For jobs and services: a Databricks service principal with CAN USE on this app.
# pip install openai databricks-sdk
import os

import httpx
from databricks.sdk.core import Config
from openai import OpenAI

config = Config(
    host="{workspace}",
    client_id=os.environ["DATABRICKS_CLIENT_ID"],
    client_secret=os.environ["DATABRICKS_CLIENT_SECRET"],
)


{_AUTH_CLASS}


client = OpenAI(base_url="{base}", api_key="unused", http_client=httpx.Client(auth=DatabricksAuth()))
print(client.models.list())
'''
    return [
        Snippet("python", "OpenAI Python", "The OpenAI SDK with a token that refreshes itself.", "python", python),
        Snippet(
            "node",
            "OpenAI Node",
            "The OpenAI npm package; the API key is a function, asked before each request.",
            "javascript",
            node,
        ),
        Snippet("curl", "curl", "A token from the Databricks CLI (valid for about an hour).", "bash", curl),
        Snippet("langchain", "LangChain", "ChatOpenAI pointed at this app, sync and async.", "python", langchain),
        Snippet("codex", "Codex CLI", "Codex over the Responses API; Codex fetches its own token.", "toml", codex),
        Snippet(
            "genai", "Google Gen AI", "The google-genai SDK over the Gemini API, its token refreshed.", "python", genai
        ),
        Snippet(
            "gemini",
            "Gemini CLI",
            "Gemini CLI over the Gemini API: API-key auth selected, the key sent as a bearer token.",
            "bash",
            gemini_cli,
        ),
        Snippet(
            "claude",
            "Claude Code",
            "In ~/.claude/settings.json: Claude Code over the Anthropic Messages API; apiKeyHelper fetches the token.",
            "json",
            claude,
        ),
        Snippet("m2m", "Service principal", "Machine-to-machine OAuth for automation.", "python", m2m),
    ]
