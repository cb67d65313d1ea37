"""Signals leads sends to the apps above it, which leads must not import."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that stops the leads' dialing (do-not-call, a
# revoked consent), with `lead_ids` and `reason`. A receiver drops whatever it
# still holds for them in that same transaction: calls cancels their queued calls.
lead_dialing_stopped = Signal()

# Sent inside the transaction that records an import's end (completed or failed), with `lead_import`.
# The leads it created carry it in Lead.lead_import; a receiver may act on them in that same
# transaction: calls adds them to the campaign the file was uploaded into.
lead_import_finished = Signal()
