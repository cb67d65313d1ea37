from __future__ import annotations

import ipaddress

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from common.access import dashboard_user
from reautomation.health import health_checks_run

# Headers a reverse proxy adds to a request it forwards from outside.
_FORWARDED = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
# Loopback and the private ranges (RFC 1918, IPv6 unique-local) that load balancers and
# orchestrators probe from; not ipaddress's is_private, which also counts documentation ranges.
_INTERNAL = [
    ipaddress.ip_network(net)
    for net in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7")
]


def health_details_allowed(request: HttpRequest) -> bool:
    """Return whether the asker may read which backing service failed and why: staff, or a probe from inside.

    A probe from inside is one from a loopback or private address that no proxy forwarded: behind a
    reverse proxy on the same host every request comes from loopback, so a forwarding header marks
    it as from outside. The error texts name hosts, ports and drivers; outsiders get only the status code.
    """
    if dashboard_user(getattr(request, "user", None)):
        return True
    if any(header in request.headers for header in _FORWARDED):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _INTERNAL)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report each configured backing service; 503 when any is down."""
    results = health_checks_run()
    healthy = all(r.ok for r in results)
    body: dict[str, object] = {"status": "ok" if healthy else "error"}
    if health_details_allowed(request):
        body["checks"] = {r.name: {"ok": r.ok, "detail": r.detail, "latency_ms": r.latency_ms} for r in results}
    return JsonResponse(body, status=200 if healthy else 503)
