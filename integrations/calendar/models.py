"""Private calendar feeds: one secret address per broker."""

from __future__ import annotations

import secrets

from django.db import models


def calendar_token_new() -> str:
    """Return a fresh feed token (256 bits), the only secret protecting the feed."""
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A broker's private ICS feed of appointments; rotating the token retires the old address."""

    broker = models.OneToOneField("agents.Broker", on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=calendar_token_new, editable=False)
    rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "broker calendar feed"
        ordering = ["broker__name"]

    def __str__(self) -> str:
        return f"Calendar feed of {self.broker}"
