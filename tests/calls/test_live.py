"""The live monitor's feed (calls.live) and its socket (dashboard.consumers), through the project's ASGI app
with a real session cookie."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.core.cache import cache, caches
from django.db import connections
from django.test import Client

from calls.live import LiveCallFeed, live_call_card, live_key
from calls.models import Call
from dashboard.consumers import CLOSE_FORBIDDEN
from reautomation.roles import AGENTS
from tests.calls.live_helpers import live_call, monitor, session_cookie
from tests.factories import CallFactory, team_member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest_asyncio.fixture(autouse=True)
async def _clean() -> AsyncIterator[None]:
    await sync_to_async(cache.clear)()
    yield
    await sync_to_async(connections.close_all)()


async def test_it_refuses_anonymous_viewers_non_staff_and_other_origins() -> None:
    staff = await sync_to_async(session_cookie)(is_staff=True)
    other = await sync_to_async(session_cookie)(is_staff=False)
    for cookie, origin in ((None, "http://127.0.0.1:8000"), (other, "http://127.0.0.1:8000")):
        communicator = await monitor(cookie, origin)
        connected, code = await communicator.connect()
        assert not connected and code == CLOSE_FORBIDDEN
    # A page on another site cannot open the socket with the broker's cookie.
    communicator = await monitor(staff, "http://evil.example")
    connected, _ = await communicator.connect()
    assert not connected


async def test_a_viewer_gets_the_calls_in_progress_then_each_event_in_order() -> None:
    call = await sync_to_async(live_call)(campaign__name="Oakland sellers")
    await sync_to_async(CallFactory)(status=Call.Status.COMPLETED)  # finished calls are not live
    feed = LiveCallFeed(call_id=call.pk)
    feed.start(await sync_to_async(live_call_card)(call_id=call.pk))
    assert feed.turn(speaker="agent", text="Hi Riley, this is Alex.") == 0
    await feed.flush()

    communicator = await monitor(await sync_to_async(session_cookie)(is_staff=True))
    connected, _ = await communicator.connect()
    assert connected
    snapshot = await communicator.receive_json_from(timeout=5)
    assert snapshot["event"] == "snapshot"
    [live] = snapshot["calls"]
    assert live["card"]["lead"].startswith("Riley") and live["card"]["campaign"] == "Oakland sellers"
    assert live["card"]["call_url"] == f"/dashboard/calls/{call.pk}/"
    assert [t["text"] for t in live["turns"]] == ["Hi Riley, this is Alex."]

    assert feed.turn(speaker="lead", text="No thanks.") == 1
    assert feed.turn(speaker="agent", text="Understood.") == 2
    assert feed.turn(speaker="agent", text="") is None  # nothing to show
    feed.latency(index=2, latency_ms=640)
    await feed.end(outcome="not_interested")
    events = [await communicator.receive_json_from(timeout=5) for _ in range(4)]
    assert [e["event"] for e in events] == ["call.turn", "call.turn", "call.latency", "call.ended"]
    assert [events[0]["turn"]["text"], events[1]["turn"]["index"]] == ["No thanks.", 2]
    assert events[2] == {"event": "call.latency", "call_id": call.pk, "index": 2, "latency_ms": 640}
    assert (events[3]["outcome"], events[3]["outcome_label"]) == ("not_interested", "Not interested")
    # An ended call leaves nothing behind for the next viewer.
    assert await sync_to_async(cache.get)(live_key(call.pk)) is None
    await communicator.disconnect()


async def test_a_call_in_progress_without_a_feed_still_shows() -> None:
    call = await sync_to_async(live_call)()
    communicator = await monitor(await sync_to_async(session_cookie)(is_staff=True))
    await communicator.connect()
    snapshot = await communicator.receive_json_from(timeout=5)
    assert [c["card"]["call_id"] for c in snapshot["calls"]] == [call.pk]
    assert snapshot["calls"][0]["turns"] == []
    # The monitor only listens, and says so.
    await communicator.send_json_to({"event": "hello"})
    assert (await communicator.receive_json_from(timeout=5))["event"] == "error"
    await communicator.disconnect()


async def test_a_feed_that_cannot_publish_never_raises_into_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    call = await sync_to_async(live_call)()
    feed = LiveCallFeed(call_id=call.pk)

    async def broken(*_args: Any, **_kwargs: Any) -> None:
        raise ConnectionError("redis is down")

    # On the class: the cache object is per async context, and teardown runs in another one.
    monkeypatch.setattr(type(caches["default"]), "aset", broken)
    feed.start(await sync_to_async(live_call_card)(call_id=call.pk))
    feed.turn(speaker="agent", text="Hi.")
    await feed.end(outcome="")  # drains without raising


def _agent_with_cookie(username: str) -> tuple[Any, str]:
    user = team_member(username, role=AGENTS)
    client = Client()
    client.force_login(user)
    return user, client.cookies[django_settings.SESSION_COOKIE_NAME].value


async def test_an_agent_follows_only_their_own_calls() -> None:
    ann, cookie = await sync_to_async(_agent_with_cookie)("ann")
    ben = await sync_to_async(team_member)("ben", role=AGENTS)
    anns = await sync_to_async(live_call)(campaign__owner=ann, campaign__name="Ann's sellers")
    bens = await sync_to_async(live_call)(campaign__owner=ben, campaign__name="Ben's sellers")

    communicator = await monitor(cookie)
    assert (await communicator.connect())[0]
    snapshot = await communicator.receive_json_from(timeout=5)
    assert [c["card"]["call_id"] for c in snapshot["calls"]] == [anns.pk]

    # Ben's call speaks first; the first event Ann's monitor gets is still from her own call.
    bens_feed = LiveCallFeed(call_id=bens.pk)
    bens_feed.start(await sync_to_async(live_call_card)(call_id=bens.pk))
    bens_feed.turn(speaker="lead", text="my address is 12 elm street")
    await bens_feed.end(outcome="qualified")
    anns_feed = LiveCallFeed(call_id=anns.pk)
    anns_feed.start(await sync_to_async(live_call_card)(call_id=anns.pk))
    anns_feed.turn(speaker="lead", text="hello?")
    await anns_feed.flush()
    events = [await communicator.receive_json_from(timeout=5) for _ in range(2)]
    assert [(e["event"], e["call_id"]) for e in events] == [("call.started", anns.pk), ("call.turn", anns.pk)]
    await anns_feed.end(outcome="")
    await communicator.disconnect()


async def test_staff_without_the_calls_permission_cannot_open_the_monitor() -> None:
    cookie = await sync_to_async(session_cookie)(is_staff=True, role="nobody")
    connected, code = await (await monitor(cookie)).connect()
    assert not connected and code == CLOSE_FORBIDDEN
