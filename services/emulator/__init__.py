"""Built-in Databricks Model Serving (FMAPI) emulator: a real HTTP server with deterministic answers."""

from services.emulator.app import EmulatorOptions, create_emulator_app
from services.emulator.server import EmulatorServer

__all__ = ["EmulatorOptions", "EmulatorServer", "create_emulator_app"]
