"""The one module that sends our webhooks: a signed JSON POST with a timeout, and what came back.

Redirects are not followed: an endpoint that moved must be edited in the
admin, not silently sent elsewhere with the lead's details.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

# Enough of an endpoint's answer to see why it refused; the rest is not read.
BODY_EXCERPT_BYTES = 1024
USER_AGENT = "REAutomation-Webhooks/1.0"


class WebhookTransportError(RuntimeError):
    """No HTTP answer: the endpoint timed out, refused the connection or could not be resolved."""


@dataclass(frozen=True)
class WebhookResponse:
    status_code: int
    body: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


def webhook_post(*, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> WebhookResponse:
    """POST a JSON body and return the status with the start of the answer.

    Raises:
        WebhookTransportError: when no answer came within `timeout_s` or the connection failed.
    """
    request_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    try:
        with (
            httpx.Client(timeout=timeout_s, follow_redirects=False) as client,
            client.stream("POST", url, content=body, headers=request_headers) as response,
        ):
            excerpt = b""
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= BODY_EXCERPT_BYTES:
                    break
    except httpx.TimeoutException as exc:
        raise WebhookTransportError(f"no answer within {timeout_s:g} s ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise WebhookTransportError(f"{type(exc).__name__}: {exc}") from exc
    return WebhookResponse(
        status_code=response.status_code, body=excerpt[:BODY_EXCERPT_BYTES].decode("utf-8", errors="replace")
    )
