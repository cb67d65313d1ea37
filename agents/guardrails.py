"""Check every reply before it is spoken.

A reply must not deny being an AI, must not invent facts about the lead or the
company, and must not promise a price or a result. The checks are deliberately
strict: a false alarm costs only the LLM's phrasing (the template is spoken
instead), a miss could be a lie on a recorded call.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from text_to_num import alpha2digit  # type: ignore[import-untyped]

from agents.text import normalize

logger = logging.getLogger(__name__)

MAX_WORDS = 70

_DENIES_AI = re.compile(
    r"\b(i am|i'm|im|this is) (a |an )?(real|live|actual|genuine) (person|human|agent|man|woman|people)\b"
    r"|\b(i am|i'm|im) (a |an )?(human|person|man|woman|realtor|real estate agent|broker)\b"
    r"|\bnot (a |an )?(robot|bot|ai|a\.i\.|machine|computer|automated|recording|program|artificial)\b"
    r"|\b(i am|i'm|im) not (an? )?(ai|a\.i\.|artificial|assistant|automated)\b"
    r"|\bhuman being\b|\bflesh and blood\b",
    re.IGNORECASE,
)
_PROMISE = re.compile(
    r"\bguarantee\w*|\bpromise\w*|\bwill (definitely|certainly|surely)\b|\bfor sure\b"
    r"|\b(sell|sold) (your |the )?(home|house|place|property|it) "
    r"(fast|quickly|in \d+|within|for (over|more|at least|top))"
    r"|\bget you (the )?(best|top|highest|more|most|a great|a better)\b"
    r"|\btop dollar\b|\babove asking\b|\bover asking\b|\bhighest price\b"
    r"|\blowest (rate|price|commission|fee)s?\b"
    r"|\b(home|house|place|property) (is|would be|will be|could be) worth\b"
    r"|\bworth (at least|about|around|over|more than)\b"
    r"|\d+(\.\d+)? ?(%|percent)"
    r"|\bno (fees|commission)\b|\bsave you\b",
    re.IGNORECASE,
)
_COMPANY_CLAIM = re.compile(
    r"\b(years of experience|award.winning|awards?|top.rated|top.producing|number one|#1|the best in|"
    r"best in town|leading|largest|five.star|5.star|have sold|sold over|hundreds of|thousands of|"
    r"happy (clients|customers)|specialize)\b",
    re.IGNORECASE,
)
_LEAD_CLAIM = re.compile(r"\byou (said|told me|mentioned|stated|agreed)\b", re.IGNORECASE)
_MARKUP = re.compile(r"[*#_`<>{}\[\]]|https?://|www\.|[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_COMMON_CAPITALS = frozenset(
    ["i", "ai", "am", "pm", "ok", "okay", "goodbye", "english", "spanish"]
    + [name.lower() for name in (*calendar.day_name, *calendar.month_name) if name]
)


@dataclass(frozen=True)
class GuardFacts:
    """What a reply may mention: numbers and names from the campaign, the lead's words and the calendar.

    `phrases` are names said verbatim (the business, the agent, the lead, a
    broker). They are facts, not claims: "Top Rated Realty" or an agent called
    "Sunny Guarantee" must not read as a boast, so the content rules skip them.
    """

    numbers: frozenset[str] = field(default_factory=frozenset)
    names: frozenset[str] = field(default_factory=frozenset)
    phrases: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(cls, *, texts: Iterable[str], names: Iterable[str], phrases: Iterable[str] = ()) -> GuardFacts:
        numbers: set[str] = set()
        for text in texts:
            numbers.update(_numbers(text))
        words = {w.lower() for name in names for w in re.findall(r"[A-Za-z']+", name)}
        kept = frozenset(p.strip() for p in phrases if p.strip())
        return cls(numbers=frozenset(numbers), names=frozenset(words), phrases=kept)

    def mask(self, text: str) -> str:
        """Return the text with each known phrase replaced by a neutral word."""
        for phrase in sorted(self.phrases, key=len, reverse=True):
            text = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", "them", text, flags=re.IGNORECASE)
        return text


@dataclass(frozen=True)
class Verdict:
    ok: bool
    violations: tuple[str, ...] = ()


def _numbers(text: str) -> set[str]:
    # The default threshold leaves "one" and "two" as words: "one of our agents" is not a number claim.
    spoken = alpha2digit(normalize(text.replace(":", " ").replace("-", " ")), "en")
    return {n.lstrip("0") or "0" for n in re.findall(r"\d+", spoken)}


def _invented_names(text: str, facts: GuardFacts) -> list[str]:
    """Return capitalised words mid-sentence that are no name we know.

    A name opening a sentence ("Sarah will call you") is not caught: every first
    word is capitalised, and there is no dictionary here to tell the two apart.
    """
    invented = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        # "I'm" and "I'll" are "I"; a possessive is its noun.
        words = [w.split("'")[0] for w in re.findall(r"[A-Za-z][A-Za-z']*", sentence)]
        for word in words[1:]:
            if word[0].isupper() and word.lower() not in facts.names and word.lower() not in _COMMON_CAPITALS:
                invented.append(word)
    return invented


def check_reply(text: str, facts: GuardFacts) -> Verdict:
    """Return whether the reply may be spoken, and if not, which rules it breaks.

    Args:
        text: the reply to check.
        facts: the numbers and names it may mention.

    Returns:
        A `Verdict`; `violations` names each broken rule.
    """
    violations = []
    if not text.strip() or len(text.split()) > MAX_WORDS or _MARKUP.search(text):
        violations.append("format")
    text = facts.mask(text)
    if _DENIES_AI.search(text):
        violations.append("denies_ai")
    if _PROMISE.search(text):
        violations.append("promise")
    if _COMPANY_CLAIM.search(text):
        violations.append("company_claim")
    if _LEAD_CLAIM.search(text):
        violations.append("lead_claim")
    if _numbers(text) - facts.numbers:
        violations.append("invented_number")
    if _invented_names(text, facts):
        violations.append("invented_name")
    return Verdict(ok=not violations, violations=tuple(violations))


def first_safe(candidates: Sequence[str], facts: GuardFacts, *, what: str) -> str:
    """Return the first candidate that passes the guard; the last one when none does.

    For lines that must be said whatever happens (the disclosure, the opt-out
    confirmation, a voicemail): the last candidate is a fixed text with no
    variables, spoken even if a rule objects, and the failure is logged as an
    error with the reasons.

    Args:
        candidates: renderings from the fullest to the fixed one.
        facts: the numbers and names they may mention.
        what: which line, for the log.
    """
    for index, text in enumerate(candidates):
        verdict = check_reply(text, facts)
        if verdict.ok:
            return text
        logger.error(
            "a compliance line failed the guard; speaking the next version",
            extra={"line": what, "version": index, "violations": list(verdict.violations), "text": text},
        )
    return candidates[-1]


# Words that address the reader: a broker's note speaks of the lead, never to them.
_SECOND_PERSON = re.compile(r"\b(you|your|yours|youre|you're|you've|you'll)\b", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(i|i'm|im|i've|i'll|me|my)\b", re.IGNORECASE)
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”")
_NOT_MOVING = re.compile(
    r"\b(not ready|not interested|no plans?|isn't planning|is not planning|not planning|not looking|"
    r"doesn't want|does not want|declined)\b",
    re.IGNORECASE,
)


def summary_problems(text: str, *, facts: dict[str, Any], first_name: str = "") -> list[str]:
    """Return what is wrong with an LLM's post-call note for the broker (empty when it may stand).

    The note is about the lead, in the third person, for the broker: it may quote the lead, but not speak
    to them or as the assistant, and it may not say the lead is not moving when the call's facts say
    otherwise (a booked meeting, a timeline, a callback asked for).
    """
    problems = []
    unquoted = _QUOTED.sub(" ", text)
    if _SECOND_PERSON.search(unquoted):
        problems.append("addressed to the lead")
    if _FIRST_PERSON.search(unquoted):
        problems.append("written as the assistant")
    opening = unquoted.strip().lower()
    if first_name and opening.startswith((f"{first_name.lower()},", f"hi {first_name.lower()}", "dear ")):
        problems.append("addressed to the lead")
    moving = facts.get("outcome") in {"appointment", "qualified", "callback"} or "timeline" in facts.get("slots", {})
    if moving and _NOT_MOVING.search(unquoted) and facts.get("outcome") != "not_interested":
        problems.append("says the lead is not moving, against the facts")
    return list(dict.fromkeys(problems))
