"""Exceptions the apps raise and the shared helpers answer for them.

The API answers each of these with its own error (common.api_errors), so they
sit below every app that raises them.
"""

from __future__ import annotations


class InvalidPhoneNumber(ValueError):
    """The text is not a dialable phone number; the message says why (raised by leads.phones)."""
