"""A local Twilio emulator with simulated leads on the line; see README.md here."""
