"""Shared by every test suite: the emulator's test fixtures (retired names, fault endpoints) are switched on here,
in this process and in every emulator a test starts (they inherit the environment)."""

from __future__ import annotations

import os

os.environ["EMULATOR_FIXTURES"] = "1"
