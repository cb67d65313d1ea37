"""The post-call analysis runs in a Celery task, from what the media socket stored, not in the socket.

The socket's session stores the conversation, transcript, recording and costs
(fast), then enqueues agents.tasks.call_conversation_finish; the task writes
the outcome, summary and final score. The last test runs the task on a real
`celery worker` process (PostgreSQL and Redis only).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import redis
from asgiref.sync import async_to_sync
from django.db import OperationalError
from time_machine import travel

from agents import brain
from agents.brain import Conversation, conversation_for_call
from agents.models import ConversationSnapshot
from agents.tasks import call_conversation_finish
from billing.models import Component, CostEntry
from calls.models import Call
from reautomation.celery import app as celery_app
from tests.agents.personas import NOW, PERSONAS, persona_setup
from tests.worker_process import wait_until, worker_broker_url, worker_database_url
from voice.session import CallSession
from voice.transport import SocketBridge

ROOT = Path(__file__).resolve().parents[2]
LINES = ["sure", "selling", "uh after the kids are done with their stuff i guess"]
EXTRACTION = {"found": True, "value": "6 months", "evidence": "after the kids are done with their stuff"}
SUMMARY = "Jane wants to sell after the school year."
SUMMARY_THINKING_S = 0.02  # what writing the summary takes this LLM, as work the worker is billed for


class ScriptedLLM:
    """An LLM backend that answers extractions and summaries from a script; held, it never answers an extraction."""

    name = "scripted"

    def __init__(self, *, hold_extractions: bool = False) -> None:
        self.hold_extractions = hold_extractions
        self.extractions = 0
        self.summaries = 0

    async def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        timeout_s: float,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 256,
    ) -> str:
        if json_schema is None:
            self.summaries += 1
            await asyncio.sleep(SUMMARY_THINKING_S)
            return SUMMARY
        self.extractions += 1
        if self.hold_extractions:
            await asyncio.Event().wait()  # the lead hangs up before the LLM answers
        return json.dumps(EXTRACTION)

    async def stream(
        self, messages: Sequence[Mapping[str, str]], *, timeout_s: float, max_tokens: int = 256
    ) -> AsyncIterator[str]:
        yield await self.complete(messages, timeout_s=timeout_s, max_tokens=max_tokens)


async def _talk(conversation: Conversation) -> None:
    await conversation.opening()
    for line in LINES:
        await conversation.respond(line)


def _call_as_the_socket_left_it(llm: ScriptedLLM) -> Call:
    call = persona_setup(PERSONAS[0])

    async def socket() -> None:
        conversation = await conversation_for_call(call_id=call.pk, llm=llm)
        await _talk(conversation)
        await conversation.close()

    async_to_sync(socket)()
    return call


@pytest.fixture(autouse=True)
def _no_fallback(settings: Any) -> None:
    # The scripted LLM counts every JSON request as an extraction; a turn the rules can't read would add one.
    settings.LLM_FALLBACK = False


@pytest.fixture
def worker_llm(monkeypatch: pytest.MonkeyPatch) -> ScriptedLLM:
    """The LLM the worker builds from settings (agents.brain.llm_backend, the one place it is made)."""
    llm = ScriptedLLM()
    monkeypatch.setattr(brain, "llm_backend", lambda: llm)
    return llm


@pytest.mark.django_db(transaction=True)
def test_the_socket_stores_the_conversation_and_the_task_writes_outcome_and_summary(
    time_machine: Any, worker_llm: ScriptedLLM
) -> None:
    time_machine.move_to(NOW, tick=False)
    call = _call_as_the_socket_left_it(ScriptedLLM())

    call.refresh_from_db()
    assert (call.outcome, call.summary) == ("", "")
    assert call.qualification["slots"]["intent"]["value"] == "sell"  # the per-turn save
    snapshot = ConversationSnapshot.objects.get(call=call)
    assert snapshot.finished_at is None and snapshot.state["state"]["turn"] == len(LINES)

    assert call_conversation_finish(call.pk) is True

    call.refresh_from_db()
    assert call.outcome == Call.Outcome.HUNG_UP
    assert call.summary.startswith(SUMMARY)
    assert call.score is not None and call.score == call.lead.__class__.objects.get(pk=call.lead_id).score
    assert ConversationSnapshot.objects.get(call=call).finished_at is not None
    # The worker's own compute is billed on its own line, beside what the session metered.
    post_call = CostEntry.objects.get(call=call, component=Component.POST_CALL)
    assert post_call.quantity >= Decimal(str(SUMMARY_THINKING_S)) and post_call.unit_price > 0
    # A few hundredths of a second cost well under a microdollar, so the amount is checked as priced, not as > 0.
    priced = (post_call.quantity * post_call.unit_price).quantize(Decimal("0.000001"), ROUND_HALF_UP)
    assert post_call.amount_usd == priced


@pytest.mark.django_db(transaction=True)
def test_the_task_runs_the_llm_extraction_the_hang_up_cut_off(time_machine: Any, worker_llm: ScriptedLLM) -> None:
    time_machine.move_to(NOW, tick=False)
    on_the_call = ScriptedLLM(hold_extractions=True)
    call = _call_as_the_socket_left_it(on_the_call)
    stored = ConversationSnapshot.objects.get(call=call).state
    assert stored["extractions"] == [
        {"slot": "timeline", "question": stored["extractions"][0]["question"], "answer": LINES[-1], "turn": 3}
    ]

    call_conversation_finish(call.pk)

    call.refresh_from_db()
    assert worker_llm.extractions == 1
    assert call.qualification["slots"]["timeline"] == {
        "value": 6, "evidence": "after the kids are done with their stuff", "source": "llm", "turn": 3
    }  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_redelivered_task_changes_nothing(time_machine: Any, worker_llm: ScriptedLLM) -> None:
    time_machine.move_to(NOW, tick=False)
    call = _call_as_the_socket_left_it(ScriptedLLM())
    call_conversation_finish(call.pk)
    Call.objects.filter(pk=call.pk).update(summary="edited by a broker")

    assert call_conversation_finish(call.pk) is False

    call.refresh_from_db()
    assert call.summary == "edited by a broker"
    assert worker_llm.summaries == 1


@pytest.mark.django_db(transaction=True)
def test_the_task_retries_when_the_database_connection_drops(time_machine: Any, worker_llm: ScriptedLLM) -> None:
    time_machine.move_to(NOW, tick=False)
    call = _call_as_the_socket_left_it(ScriptedLLM())
    real = brain.call_conversation_finish
    attempts: list[int] = []

    def flaky(*, call_id: int) -> bool:
        attempts.append(call_id)
        if len(attempts) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(call_id=call_id)

    with patch.object(brain, "call_conversation_finish", autospec=True, side_effect=flaky):
        # As a worker runs it: a retry is a new run, not an exception for the caller.
        call_conversation_finish.apply(args=(call.pk,), throw=False)

    assert attempts == [call.pk, call.pk]
    call.refresh_from_db()
    assert call.summary.startswith(SUMMARY)


@pytest.mark.django_db(transaction=True)
def test_the_session_saves_fast_then_enqueues_the_analysis(
    time_machine: Any, worker_llm: ScriptedLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    time_machine.move_to(NOW, tick=False)
    # The embedded default: the task runs in this process. Celery's own config, which it reads from the
    # settings once per process, so a settings override would not reach it after another test used Celery.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    call = persona_setup(PERSONAS[0])

    async def build(call_id: int) -> Conversation:
        return await conversation_for_call(call_id=call_id, llm=ScriptedLLM())

    async def closed() -> None:
        return None

    async def sent(_message: str) -> None:
        return None

    session = CallSession(
        call_id=call.pk,
        call_sid="CA" + "7" * 32,
        stream_sid="MZ" + "7" * 32,
        bridge=SocketBridge(send=sent, close=closed),
        conversation_factory=build,
    )

    async def hang_up() -> None:
        session._conversation = await session._build_conversation()
        await _talk(session._conversation)
        session.hung_up_by_lead = True
        await session._save()

    async_to_sync(hang_up)()
    call.refresh_from_db()
    assert (call.outcome, call.summary) == (Call.Outcome.HUNG_UP, "")  # call_stream_ended, no analysis yet
    assert worker_llm.summaries == 0

    async_to_sync(session._analyse_later)()

    call.refresh_from_db()
    assert call.summary.startswith(SUMMARY)
    assert ConversationSnapshot.objects.get(call=call).finished_at is not None


# --- on a real worker ----------------------------------------------------------------------------------------------


@pytest.fixture
def worker_queue(transactional_db: None, tmp_path: Path) -> Iterator[str]:
    """Run a `celery worker` on a queue of its own, on this test's database; yield the queue's name."""
    broker = worker_broker_url()
    queue = f"post-call-test-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": broker,
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "False",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "LLM_BACKEND": "none",
        "VOICE_WARM_UP": "False",
        "LOG_LEVEL": "INFO",
    }
    log = tmp_path / "worker.log"
    command = [
        sys.executable, "-m", "celery", "-A", "reautomation", "worker", "--pool=solo", "--without-heartbeat",
        "--without-gossip", "--without-mingle", "--loglevel=INFO", f"--hostname=post-call-{uuid.uuid4().hex[:8]}@%h",
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: " ready." in log.read_text() or process.poll() is not None, timeout=60, what="the worker")
        assert process.poll() is None, log.read_text()[-3000:]
        yield queue
    finally:
        process.terminate()
        process.wait(timeout=30)
        redis.Redis.from_url(broker).delete(queue)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_writes_the_outcome_and_summary(worker_queue: str) -> None:
    # Only the call on NOW's clock: the worker runs on the real one, and so must the wait below.
    with travel(NOW, tick=False):
        call = _call_as_the_socket_left_it(ScriptedLLM())

    call_conversation_finish.apply_async((call.pk,), queue=worker_queue)

    wait_until(
        lambda: ConversationSnapshot.objects.filter(call=call, finished_at__isnull=False).exists(),
        timeout=60,
        what="the post-call analysis",
    )
    call.refresh_from_db()
    assert call.outcome == Call.Outcome.HUNG_UP
    assert call.summary.startswith("Outcome: hung up")  # the worker has no LLM: the template summary
