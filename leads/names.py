"""Names fit to be spoken: lead names cleaned on the way in, campaign names checked when saved.

The agent reads these names aloud in the AI disclosure, so what reaches it
must be something a text-to-speech voice can say. CRMs hand over names such as
"N/A", "Sam (cell)", "Jane #2" or "[Unknown]"; a spreadsheet may shout
"MARY ANN". Lead names are cleaned (and the change reported), because a lead
is worth calling whatever its name says; a campaign's business and agent
names are refused instead, because a broker can fix them once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError

# What a CRM writes when it has no name. Compared after cleaning, case-folded.
_PLACEHOLDERS = frozenset(
    {
        "n a", "na", "none", "null", "nil", "unknown", "unk", "no name", "noname", "not provided", "not given",
        "not available", "tbd", "test", "x", "xx", "xxx", "lead", "customer", "client", "homeowner", "owner",
        "resident", "occupant", "current resident", "first", "first name", "firstname", "last", "last name",
        "lastname", "name", "undefined", "blank", "empty", "anonymous", "unnamed", "no", "nobody",
    }
)  # fmt: skip
# "(cell)", "[home]", "{2}", "<spouse>": an annotation, not part of the name.
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|\{[^}]*\}|<[^>]*>")
# "#2", "no. 3", trailing record numbers and stray digits.
_NUMBERED = re.compile(r"#\s*\d*|\bno\.?\s*\d+\b|\d+", re.IGNORECASE)
# A spreadsheet formula, a link or an e-mail address pasted into a name cell.
_NOT_A_NAME = re.compile(r"^\s*[=+@]|://|www\.|\S@\S")
_SEPARATORS = re.compile(r"[_/\\|+*=~^]+")
_MAX_NAME_WORDS = 4

# Business and agent names: letters (any Latin script), digits, spaces and the
# punctuation a name can be read with. Anything else is refused with its character.
_LABEL_PUNCTUATION = frozenset(" &'.,-")
LABEL_MAX_WORDS = {"business_name": 10, "agent_name": 3, "call_purpose": 30}


@dataclass(frozen=True)
class CleanName:
    """A name as it will be spoken, and a note for the import report when it differs from the input."""

    value: str
    note: str = ""


def _is_latin_letter(char: str) -> bool:
    return char.isalpha() and "LATIN" in unicodedata.name(char, "")


def _speakable_chars(text: str) -> str:
    # Letters of other scripts and symbols can't be read by the English voice; apostrophes and hyphens
    # belong to names such as O'Brien and Mary-Jane.
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u2018", "'")
    kept = [c if _is_latin_letter(c) or c in "'-. " else " " for c in text]
    return " ".join("".join(kept).split())


def _title(word: str) -> str:
    return re.sub(r"[^'.-]+", lambda m: m.group()[:1].upper() + m.group()[1:].lower(), word)


def person_name_clean(raw: str) -> str:
    """Return a lead's first or last name as it can be spoken, or "" when nothing speakable is left.

    Args:
        raw: the name as a CRM, a spreadsheet or an API client gave it.

    Returns:
        The name without annotations, numbers, placeholders or symbols, in normal capitals.
    """
    if _NOT_A_NAME.search(raw or ""):
        return ""
    text = _BRACKETED.sub(" ", raw or "")
    text = _NUMBERED.sub(" ", text)
    text = _SEPARATORS.sub(" ", text)
    text = _speakable_chars(text)
    words = [w for w in (w.strip("'-.") for w in text.split()) if w]
    if len("".join(words)) > 1 and "".join(words).isupper():
        # A spreadsheet that shouts "MARY ANN"; "McDonald" and "DeShawn" keep their own capitals.
        words = [_title(w) for w in words]
    if not words or " ".join(words).casefold().replace(".", " ").strip() in _PLACEHOLDERS:
        return ""
    if " ".join(w.casefold() for w in words) in _PLACEHOLDERS:
        return ""
    return " ".join(words[:_MAX_NAME_WORDS])


def person_name_checked(raw: str, *, field: str) -> CleanName:
    """Return the cleaned name with a note saying what changed, for the import report.

    Args:
        raw: the name as given.
        field: the field's name as a person reads it, e.g. "first name".
    """
    given = " ".join((raw or "").split())
    value = person_name_clean(given)
    if value == given:
        return CleanName(value)
    if not value:
        return CleanName("", f"{field} {given!r} is not a name that can be spoken and was left blank")
    return CleanName(value, f"{field} {given!r} was cleaned to {value!r} so it can be spoken")


def spoken_label_problem(value: str, *, field: str) -> str:
    """Return why a business name, agent name or call purpose can't be read aloud, or "" when it can.

    Args:
        value: the text as the broker typed it.
        field: "business_name", "agent_name" or "call_purpose".
    """
    text = " ".join((value or "").split())
    if not any(_is_latin_letter(c) for c in text):
        return "needs letters the voice can read"
    bad = sorted({c for c in text if not (_is_latin_letter(c) or c.isdigit() or c in _LABEL_PUNCTUATION)})
    if bad:
        shown = " ".join(repr(c) for c in bad[:5])
        return f"can't be read aloud: remove {shown} (letters, digits, spaces and & ' . , - only)"
    limit = LABEL_MAX_WORDS[field]
    if len(text.split()) > limit:
        return f"is too long to say in the opening: at most {limit} words"
    return ""


def _refuse_unspoken(value: str, field: str) -> None:
    problem = spoken_label_problem(value, field=field)
    if problem:
        raise ValidationError(f"This {field.replace('_', ' ')} {problem}.", code="unspeakable")


def validate_spoken_business_name(value: str) -> None:
    """Refuse a business name the voice can't read aloud in the disclosure."""
    _refuse_unspoken(value, "business_name")


def validate_spoken_agent_name(value: str) -> None:
    """Refuse an agent persona name the voice can't read aloud in the disclosure."""
    _refuse_unspoken(value, "agent_name")


def validate_spoken_call_purpose(value: str) -> None:
    """Refuse a call purpose the voice can't read aloud in the opening."""
    _refuse_unspoken(value, "call_purpose")


def label_for_speech(value: str) -> str:
    """Return a campaign label with the characters the voice can't read taken out (for rows saved before checks)."""
    text = unicodedata.normalize("NFC", value or "")
    kept = [c if _is_latin_letter(c) or c.isdigit() or c in _LABEL_PUNCTUATION else " " for c in text]
    return " ".join("".join(kept).split())
