"""The README's configuration table lists every setting."""

from __future__ import annotations

import re
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


def test_where_things_are_names_files_that_exist() -> None:
    root = Path(__file__).resolve().parents[2]
    table = README.split("## Where things are", 1)[1].split("\n## ", 1)[0]
    paths = set(re.findall(r"`((?:app|routes|services|models|emulator)[\w/]*(?:\.py|/))`", table))
    assert len(paths) > 20
    for path in paths:
        assert (root / path).exists(), path
    assert "(`_with_fallbacks`)" in table and "def _with_fallbacks" in (root / "services/pipeline.py").read_text()
    assert "def check_endpoint_name" in (root / "services/databricks/client.py").read_text()
