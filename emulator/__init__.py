"""Development tooling: a local Twilio emulator with simulated leads on the line, and the runners built on it.

`make demo` (demo.py), `make serve` (serve.py) and the `twilio_emulator` command stand in for the
telephone network where Twilio can't be reached. No product module imports this package; see README.md here.
"""
