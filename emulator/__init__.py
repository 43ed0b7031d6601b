"""Built-in Databricks Model Serving (FMAPI) emulator: a real HTTP server with deterministic answers."""

from emulator.app import EmulatorOptions, create_emulator_app
from emulator.server import EmulatorServer

__all__ = ["EmulatorOptions", "EmulatorServer", "create_emulator_app"]
