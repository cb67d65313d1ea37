"""Lead endpoints. The CRM issue fills this router out; for now it can report import results."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["leads"])
