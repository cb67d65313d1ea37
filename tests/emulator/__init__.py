"""The emulator's own tests: its Twilio REST API, media streams and personas, the demo runner and `manage.py serve`.

They use `live_app` and `emulator_port` from tests/conftest.py.
"""
