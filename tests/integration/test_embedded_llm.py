"""The bundled Qwen2.5-Coder-1.5B through LlamaCppBackend: real model, real prompts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from django.conf import settings
from langchain_core.messages import HumanMessage

from agents import prompts
from agents.context import AgentContext
from agents.graph import guard_facts, invoke
from agents.guardrails import check_reply
from agents.llm import EMBEDDED_MODEL_SHA256, LlamaCppBackend, LLMError, embedded_model_path
from agents.nlu import slot_from_llm
from agents.state import ConversationState
from tests.agents.personas import NOW


@pytest.fixture(scope="module")
def backend() -> LlamaCppBackend:
    # settings.VAR_DIR, not the test's tmp_path: the 1.1 GB model is assembled once per checkout.
    backend = LlamaCppBackend(model_path=embedded_model_path(settings.VAR_DIR / "models"), n_threads=2)
    backend.load()
    return backend


def test_the_model_is_assembled_from_its_part_packages_with_the_right_checksum() -> None:
    import hashlib

    path = embedded_model_path(settings.VAR_DIR / "models")
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)

    assert digest.hexdigest() == EMBEDDED_MODEL_SHA256


def test_it_answers_a_one_slot_extraction_with_json_that_our_checks_can_judge(backend: LlamaCppBackend) -> None:
    answer = "um we want to be in before the baby comes in march"
    raw = asyncio.run(
        backend.complete(
            prompts.extract_messages(
                slot="timeline", question="What kind of timeline are you looking at?", answer=answer
            ),
            json_schema=prompts.extract_schema("timeline"),
            timeout_s=120,
            max_tokens=80,
        )
    )

    item = json.loads(raw)
    assert set(item) == {"found", "value", "evidence"}
    slot = slot_from_llm({**item, "name": "timeline"}, utterance=answer, now=NOW)
    # Whatever the model said, a kept slot quotes the lead.
    if slot is not None:
        assert slot.evidence in answer


def test_what_the_agent_speaks_after_a_real_rephrasing_passes_the_guardrails(backend: LlamaCppBackend) -> None:
    context = AgentContext(
        call_id=None, lead_id=None, lead_first_name="Jane", business_name="Bayside Realty", llm=backend, rephrase=True,
        rephrase_timeout_s=60,
    )  # fmt: skip

    async def two_turns() -> dict[str, Any]:
        state = await invoke({"event": "start"}, context=context)
        messages = [*state["messages"], HumanMessage("yeah sure")]
        return await invoke({**state, "event": "turn", "messages": messages}, context=context)

    state = asyncio.run(two_turns())

    assert check_reply(state["reply"], guard_facts(ConversationState(**state), context)).ok
    assert state["reply_source"] in {"llm", "template"}


def test_it_times_out_into_an_llm_error(backend: LlamaCppBackend) -> None:
    with pytest.raises(LLMError, match="did not answer"):
        asyncio.run(backend.complete([{"role": "user", "content": "Write a story."}], timeout_s=0.01, max_tokens=16))
