from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from reautomation.health import health_checks_run


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report each configured backing service; 503 when any is down."""
    results = health_checks_run()
    healthy = all(r.ok for r in results)
    body = {
        "status": "ok" if healthy else "error",
        "checks": {r.name: {"ok": r.ok, "detail": r.detail, "latency_ms": r.latency_ms} for r in results},
    }
    return JsonResponse(body, status=200 if healthy else 503)
