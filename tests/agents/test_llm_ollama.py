"""OllamaBackend against a local HTTP server replaying Ollama /api/chat payloads: the real client, no network."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from agents import prompts
from agents.context import AgentContext
from agents.graph import invoke
from agents.llm import LLMError, OllamaBackend
from tests.conftest import FIXTURES

OLLAMA = FIXTURES / "ollama"


@dataclass
class Scenario:
    """What the fake server answers next: a fixture file, a status and an optional delay."""

    fixture: str = "chat_extract.json"
    status: int = 200
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Set, the server answers only once it is set: an LLM still thinking until the test says otherwise.
    release: threading.Event | None = None


class _Handler(BaseHTTPRequestHandler):
    scenario: Scenario

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.scenario.requests.append({"path": self.path, **body})
        if self.scenario.delay_s:
            time.sleep(self.scenario.delay_s)
        if self.scenario.release is not None:
            self.scenario.release.wait(timeout=30)
        payload = (OLLAMA / self.scenario.fixture).read_bytes()
        streaming = self.scenario.fixture.endswith(".ndjson")
        self.send_response(self.scenario.status)
        self.send_header("Content-Type", "application/x-ndjson" if streaming else "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        # The client may have given up already (the timeout test).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def ollama_server() -> Iterator[tuple[str, Scenario]]:
    scenario = Scenario()
    handler = type("Handler", (_Handler,), {"scenario": scenario})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", scenario
    finally:
        server.shutdown()
        server.server_close()


def _backend(host: str) -> OllamaBackend:
    return OllamaBackend(host=host, model="qwen2.5:7b")


def test_it_returns_the_message_of_a_non_streaming_answer_and_sends_the_schema(
    ollama_server: tuple[str, Scenario],
) -> None:
    host, scenario = ollama_server
    messages = prompts.extract_messages(slot="timeline", question="When?", answer="after the kids finish school")

    text = asyncio.run(
        _backend(host).complete(messages, timeout_s=5, json_schema=prompts.extract_schema("timeline"), max_tokens=80)
    )

    assert json.loads(text) == {"found": True, "value": "6 months", "evidence": "after the kids finish school"}
    request = scenario.requests[0]
    assert request["path"] == "/api/chat"
    assert request["model"] == "qwen2.5:7b"
    assert request["stream"] is False
    assert request["format"] == prompts.extract_schema("timeline")
    assert request["options"] == {"temperature": 0.2, "num_predict": 80}
    assert request["messages"] == messages


def test_it_streams_the_pieces_of_an_ndjson_answer(ollama_server: tuple[str, Scenario]) -> None:
    host, scenario = ollama_server
    scenario.fixture = "chat_rephrase_stream.ndjson"

    async def collect() -> list[str]:
        return [piece async for piece in _backend(host).stream([{"role": "user", "content": "hi"}], timeout_s=5)]

    pieces = asyncio.run(collect())

    assert "".join(pieces) == "So, are you looking to buy, sell, or both?"
    assert len(pieces) == 13
    assert scenario.requests[0]["stream"] is True


@pytest.mark.parametrize(
    ("fixture", "status", "message"),
    [
        ("error_runner_terminated.json", 500, re.escape("HTTP 500: llama runner process has terminated")),
        ("error_model_not_found.json", 404, re.escape('HTTP 404: model "qwen2.5:7b" not found')),
    ],
)
def test_it_turns_an_error_answer_into_a_clear_llm_error(
    ollama_server: tuple[str, Scenario], fixture: str, status: int, message: str
) -> None:
    host, scenario = ollama_server
    scenario.fixture, scenario.status = fixture, status

    with pytest.raises(LLMError, match=message):
        asyncio.run(_backend(host).complete([{"role": "user", "content": "hi"}], timeout_s=5))


def test_it_gives_up_at_its_timeout(ollama_server: tuple[str, Scenario]) -> None:
    host, scenario = ollama_server
    scenario.delay_s = 1.0

    with pytest.raises(LLMError, match=re.escape("did not answer within 0.1 s")):
        asyncio.run(_backend(host).complete([{"role": "user", "content": "hi"}], timeout_s=0.1))


def test_it_names_the_host_it_cannot_reach() -> None:
    # Port 9 (discard) on loopback: nothing listens there.
    with pytest.raises(LLMError, match=re.escape("127.0.0.1:9")):
        asyncio.run(_backend("http://127.0.0.1:9").complete([{"role": "user", "content": "hi"}], timeout_s=5))


def _context(llm: OllamaBackend, **overrides: Any) -> AgentContext:
    return AgentContext(
        call_id=None,
        lead_id=None,
        lead_first_name="Jane",
        business_name="Bayside Realty",
        callback_number="+14155550100",
        llm=llm,
        **{"rephrase": True, **overrides},
    )


async def _first_question(context: AgentContext) -> dict[str, Any]:
    state = await invoke({"event": "start"}, context=context)
    return await invoke(
        {**state, "event": "turn", "messages": [*state["messages"], HumanMessage("yeah sure")]}, context=context
    )


def test_the_agent_speaks_ollamas_rephrasing_when_it_passes_the_guardrails(ollama_server: tuple[str, Scenario]) -> None:
    host, scenario = ollama_server
    scenario.fixture = "chat_rephrase.json"

    state = asyncio.run(_first_question(_context(_backend(host))))

    assert state["reply_source"] == "llm"
    assert state["reply"] == "Great, so are you looking to buy, sell, or maybe both?"
    assert "Great. Are you thinking about buying, selling, or both?" in scenario.requests[0]["messages"][1]["content"]


@pytest.mark.parametrize(
    ("fixture", "status", "delay_s"),
    [("chat_denies_ai.json", 200, 0.0), ("error_runner_terminated.json", 500, 0.0), ("chat_summary.json", 200, 1.0)],
    ids=["denies-being-an-ai", "http-500", "timeout"],
)
def test_the_agent_speaks_the_template_when_ollama_fails_or_lies(
    ollama_server: tuple[str, Scenario], fixture: str, status: int, delay_s: float
) -> None:
    host, scenario = ollama_server
    scenario.fixture, scenario.status, scenario.delay_s = fixture, status, delay_s

    state = asyncio.run(_first_question(_context(_backend(host), rephrase_timeout_s=0.2)))

    assert state["reply_source"] == "template"
    assert state["reply"] == "Great. Are you thinking about buying, selling, or both?"
    assert state["stage"] == "qualifying"


async def _unreadable_turn(context: AgentContext, line: str = "ask my husband he handles that stuff") -> dict[str, Any]:
    state = await _first_question(context)
    return await invoke(
        {**state, "event": "turn", "messages": [*state["messages"], HumanMessage(line)]}, context=context
    )


def _fallback_context(host: str) -> AgentContext:
    return _context(_backend(host), rephrase=False, llm_fallback=True, llm_fallback_timeout_s=5.0)


def test_a_line_the_rules_cannot_read_goes_to_the_llm_and_the_script_goes_on(
    ollama_server: tuple[str, Scenario],
) -> None:
    host, scenario = ollama_server
    scenario.fixture = "chat_fallback_answer.json"

    state = asyncio.run(_unreadable_turn(_fallback_context(host)))

    assert state["reply"].startswith("That's something one of our agents can go over with you. ")
    assert state["pending"] == "intent"
    assert "buying" in state["reply"]
    assert state["llm_report"]["fallback_turns"] == 1
    request = scenario.requests[-1]
    assert request["format"] == prompts.FALLBACK_SCHEMA
    assert "Lead: ask my husband he handles that stuff" in request["messages"][1]["content"]


def test_what_the_llm_adds_passes_the_guardrails_or_is_left_out(ollama_server: tuple[str, Scenario]) -> None:
    host, scenario = ollama_server
    scenario.fixture = "chat_fallback_says_a_price.json"

    state = asyncio.run(_unreadable_turn(_fallback_context(host)))

    assert "750" not in state["reply"]
    assert state["pending"] == "intent"
    assert "buying" in state["reply"]


@pytest.mark.parametrize(
    ("fixture", "stage", "pending", "end_call", "outcome"),
    [
        ("chat_fallback_opt_out.json", "qualifying", "opt_out_check", False, None),
        ("chat_fallback_end.json", "ended", None, True, "not_interested"),
    ],
    ids=["opt-out-is-asked", "end"],
)
def test_the_llm_picks_the_next_step_and_templates_say_it(
    ollama_server: tuple[str, Scenario],
    fixture: str,
    stage: str,
    pending: str | None,
    end_call: bool,
    outcome: str | None,
) -> None:
    host, scenario = ollama_server
    scenario.fixture = fixture

    state = asyncio.run(_unreadable_turn(_fallback_context(host)))

    assert (state["stage"], state["pending"], state["end_call"]) == (stage, pending, end_call)
    assert state.get("outcome") == outcome
    assert state["reply_source"] == "template"


@pytest.mark.django_db
def test_the_llm_can_send_the_lead_to_scheduling(ollama_server: tuple[str, Scenario]) -> None:
    host, scenario = ollama_server
    scenario.fixture = "chat_fallback_book.json"

    state = asyncio.run(_unreadable_turn(_fallback_context(host)))

    # With no broker, scheduling has no time to offer and says the team will reach out: it ran.
    assert state["asked_to_meet"] is True
    assert state["reply"].startswith("Sure. I don't have an open time")


@pytest.mark.parametrize(
    ("fixture", "status", "delay_s"),
    [
        ("error_runner_terminated.json", 500, 0.0),
        ("chat_fallback_answer.json", 200, 1.0),
        ("chat_summary.json", 200, 0.0),
    ],
    ids=["http-500", "timeout", "not-a-decision"],
)
def test_the_agent_asks_the_lead_to_repeat_when_the_llm_cannot_decide(
    ollama_server: tuple[str, Scenario], fixture: str, status: int, delay_s: float
) -> None:
    host, scenario = ollama_server
    scenario.fixture, scenario.status, scenario.delay_s = fixture, status, delay_s
    context = _context(_backend(host), rephrase=False, llm_fallback=True, llm_fallback_timeout_s=0.3)

    state = asyncio.run(_unreadable_turn(context))

    assert state["reply"].startswith(prompts.NOT_UNDERSTOOD[0])
    assert state["pending"] == "intent"


@pytest.mark.parametrize(
    ("fixture", "status", "reply_start"),
    [
        ("chat_fallback_answer.json", 200, "That's something one of our agents can go over with you. "),
        ("error_runner_terminated.json", 500, prompts.NOT_UNDERSTOOD[0]),
    ],
    ids=["the-llm-answers", "the-llm-fails"],
)
def test_a_filler_covers_an_llm_still_thinking_and_the_reply_goes_on_from_it(
    ollama_server: tuple[str, Scenario], fixture: str, status: int, reply_start: str
) -> None:
    host, scenario = ollama_server
    scenario.fixture, scenario.status, scenario.release = fixture, status, threading.Event()
    said: list[str] = []

    async def hold(words: str) -> None:
        said.append(words)
        scenario.release.set()  # only now may the LLM answer: the filler came while it was thinking

    context = replace(_fallback_context(host), filler_after_s=0.0, hold=hold)
    state = asyncio.run(_unreadable_turn(context))

    assert said == [said[0]] and said[0] in prompts.FILLERS
    # The lead heard the filler already: the reply goes on from it, and the transcript has both.
    assert state["reply"].startswith(reply_start)
    assert state["messages"][-1].content == f"{said[0]} {state['reply']}"
    assert state["pending"] == "intent"


def test_no_filler_is_said_when_fillers_are_off(ollama_server: tuple[str, Scenario]) -> None:
    host, scenario = ollama_server
    scenario.fixture = "chat_fallback_answer.json"
    said: list[str] = []

    async def hold(words: str) -> None:
        said.append(words)

    context = replace(_fallback_context(host), filler_after_s=-1.0, hold=hold)
    state = asyncio.run(_unreadable_turn(context))

    assert said == []
    assert state["messages"][-1].content == state["reply"]
    assert state["reply"].startswith("That's something one of our agents can go over with you. ")
