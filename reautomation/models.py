from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class LoginLockout(models.Model):
    """A username or client address whose sign-ins were locked after repeated wrong passwords.

    The counters themselves live in the cache (reautomation.login_throttle);
    this row is what an administrator sees of a lockout, and where one is lifted.
    """

    class Kind(models.TextChoices):
        USER = "user", "Username"
        ADDRESS = "address", "Client address"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Stripped and lowercased, as the counter's key is built from it.
    value = models.CharField(max_length=255)
    failures = models.PositiveIntegerField()
    locked_at = models.DateTimeField()
    locked_until = models.DateTimeField()
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-locked_at"]
        indexes = [models.Index(fields=["kind", "value"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"

    @property
    def is_active(self) -> bool:
        return self.unlocked_at is None and self.locked_until > timezone.now()
