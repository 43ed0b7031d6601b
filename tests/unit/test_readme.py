"""The README's configuration table lists every setting."""

from __future__ import annotations

from pathlib import Path

from services.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names = getattr(alias, "choices", None) or [f"PROXY_{name.upper()}"]
        assert any(f"`{env}`" in README for env in names), f"{names} missing from README"


def test_the_two_commands_are_in_the_quickstart() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    assert "./scripts/serve" in quickstart and "./scripts/test" in quickstart
