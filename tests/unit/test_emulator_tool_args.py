"""The emulator's tool calls are valid against the tool offered (agents validate them before running the tool)."""

from __future__ import annotations

import json
from typing import Any

from emulator import answers
from emulator.tool_args import choose_tool, tool_arguments


def tool(name: str, parameters: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


# Shapes of the tools Claude Code, Codex and the Agents SDK offer (their own schemas, trimmed).
TASK = tool(
    "Task",
    {
        "type": "object",
        "properties": {"description": {"type": "string"}, "prompt": {"type": "string"}},
        "required": ["description", "prompt"],
    },
    "Launch a new agent to handle complex tasks",
)
BASH = tool(
    "Bash",
    {
        "type": "object",
        "properties": {"command": {"type": "string"}, "timeout": {"type": "number"}},
        "required": ["command"],
    },
    "Executes a given bash command, for example to list files in a directory",
)
GLOB = tool(
    "Glob",
    {
        "type": "object",
        "properties": {"pattern": {"type": "string"}, "path": {"type": "string"}},
        "required": ["pattern"],
    },
    "Fast file pattern matching tool",
)
EXEC = tool(
    "exec_command",
    {
        "type": "object",
        "properties": {"cmd": {"type": "string"}, "yield_time_ms": {"type": "integer", "minimum": 0}},
        "required": ["cmd"],
        "additionalProperties": False,
    },
    "Runs a command in a PTY",
)
SHELL = tool(
    "shell",
    {
        "type": "object",
        "properties": {"command": {"type": "array", "items": {"type": "string"}}, "workdir": {"type": "string"}},
        "required": ["command"],
    },
)
WEATHER = tool(
    "get_weather",
    {
        "type": "object",
        "properties": {"city": {"title": "City", "type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
)


def test_the_tool_the_prompt_names_is_chosen() -> None:
    assert choose_tool([TASK, BASH, GLOB], "Use Glob to find the Python files")["name"] == "Glob"
    assert choose_tool([TASK, BASH], "Launch a task")["name"] == "Task"
    reminder = "<system-reminder>Use the Task tool often</system-reminder>List the files"
    assert choose_tool([TASK, BASH], reminder)["name"] == "Bash"
    assert choose_tool([EXEC], "What is here?")["name"] == "exec_command"
    assert choose_tool([TASK, WEATHER], "What's the weather in Lisbon?")["name"] == "get_weather"


def test_else_a_shell_tool_else_the_tool_whose_description_matches_else_the_first() -> None:
    assert choose_tool([TASK, GLOB, BASH], "List the files in this directory")["name"] == "Bash"
    assert choose_tool([TASK, GLOB], "Match a file pattern")["name"] == "Glob"
    assert choose_tool([TASK, GLOB], "Hello")["name"] == "Task"


def test_required_properties_are_filled_by_type_and_name() -> None:
    assert json.loads(tool_arguments(BASH["function"], "List the files")) == {"command": "ls"}
    assert json.loads(tool_arguments(EXEC["function"], "x")) == {"cmd": "ls"}
    assert json.loads(tool_arguments(SHELL["function"], "x")) == {"command": ["ls"]}
    assert json.loads(tool_arguments(GLOB["function"], "x")) == {"pattern": "*"}
    assert json.loads(tool_arguments(WEATHER["function"], "Weather in Lisbon?")) == {"city": "Weather in Lisbon?"}


def test_enum_format_numbers_nesting_and_unions() -> None:
    schema = {
        "type": "object",
        "properties": {
            "unit": {"enum": ["celsius", "fahrenheit"]},
            "when": {"type": "string", "format": "date"},
            "count": {"type": "integer", "minimum": 3},
            "ratio": {"type": "number"},
            "flag": {"type": "boolean"},
            "place": {"type": "object", "properties": {"lat": {"type": "number"}}, "required": ["lat"]},
            "maybe": {"anyOf": [{"type": "null"}, {"type": "integer"}]},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "optional": {"type": "string"},
        },
        "required": ["unit", "when", "count", "ratio", "flag", "place", "maybe", "tags"],
    }
    assert json.loads(tool_arguments({"name": "f", "parameters": schema}, "hi")) == {
        "unit": "celsius",
        "when": "2025-01-01",
        "count": 3,
        "ratio": 1.0,
        "flag": False,
        "place": {"lat": 1.0},
        "maybe": 1,
        "tags": ["hi", "hi"],
    }


def test_a_chat_request_gets_a_call_valid_for_the_offered_tool() -> None:
    body = {"messages": [{"role": "user", "content": "List the files in this directory"}], "tools": [TASK, BASH]}
    plan = answers.plan_chat(body, "claude")
    assert plan.tool_call == answers.ToolCallPlan(name="Bash", arguments='{"command":"ls"}')
    forced = {**body, "tool_choice": {"type": "function", "function": {"name": "Task"}}}
    plan = answers.plan_chat(forced, "llama")
    assert plan.tool_call is not None and plan.tool_call.name == "Task"
    assert set(json.loads(plan.tool_call.arguments)) == {"description", "prompt"}


def test_test_fixtures_exist_only_when_switched_on(monkeypatch: Any) -> None:
    from emulator import catalog

    monkeypatch.delenv("EMULATOR_FIXTURES", raising=False)
    listed = {endpoint.name for endpoint in catalog.listed_endpoints()}
    assert not listed & catalog.FIXTURE_NAMES
    assert {"databricks-claude-sonnet-4-5", "databricks-gpt-5-2", "databricks-gemini-2-5-pro"} <= listed
    assert catalog.lookup("emulator-null-id-chat") is None and catalog.lookup("fault-status-500") is None
    monkeypatch.setenv("EMULATOR_FIXTURES", "1")
    assert {endpoint.name for endpoint in catalog.listed_endpoints()} >= catalog.FIXTURE_NAMES
    assert catalog.lookup("fault-status-500") is not None
