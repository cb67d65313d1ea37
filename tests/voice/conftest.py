"""The voice tests use `live_app` and `emulator_port` from tests/conftest.py (the browser tests share them)."""
