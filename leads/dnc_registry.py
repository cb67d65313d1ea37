"""Reading the national do-not-call registry's area-code files, one number at a time.

The FTC gives subscribers one file per area code: plain text with one
10-digit number a line, some with a header line, some in an "area code,phone"
CSV layout ("212,5550123"). `registry_lines` turns any of those into E.164
numbers and says why any other line was not one; leads.services writes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# A North American number: neither the area code nor the exchange starts with 0 or 1.
_NANP = re.compile(r"[2-9]\d{2}[2-9]\d{6}")
# What may surround the digits of one number written out: "(212) 555-0123", "+1 212.555.0123".
_NUMBER_PUNCTUATION = re.compile(r"[\s()\-.+]")


@dataclass(frozen=True)
class RegistryLine:
    """One non-blank line of a registry file: its number in E.164, or why it has none."""

    line: int  # 1-based, as an editor shows it
    phone: str = ""
    problem: str = ""


def registry_lines(lines: Iterable[str]) -> Iterator[RegistryLine]:
    """Yield each non-blank line's number, or its problem; a first line with no digits is a header and skipped."""
    data_seen = False
    for number, raw in enumerate(lines, start=1):
        text = raw.strip().lstrip("\ufeff").strip()
        if not text:
            continue
        has_digits = any(ch.isdigit() for ch in text)
        if not data_seen and not has_digits:
            data_seen = True  # only the first line may be a header
            continue
        data_seen = True
        digits, problem = _digits(text) if has_digits else ("", f"{_shown(text)} is not a phone number")
        if problem:
            yield RegistryLine(number, problem=problem)
            continue
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        if not _NANP.fullmatch(digits):
            yield RegistryLine(number, problem=f"{_shown(text)} is not a 10-digit US number")
            continue
        yield RegistryLine(number, phone="+1" + digits)


def _digits(text: str) -> tuple[str, str]:
    cells = [cell.strip().strip('"').strip() for cell in text.split(",")]
    if len(cells) == 2 and len(cells[0]) == 3 and cells[0].isdigit():
        # "area code,phone": the phone is the other seven digits.
        rest = _NUMBER_PUNCTUATION.sub("", cells[1])
        if not (rest.isdigit() and len(rest) == 7):
            return "", f"{_shown(text)} has area code {cells[0]} but not a 7-digit number after it"
        return cells[0] + rest, ""
    if len(cells) != 1:
        return "", f"{_shown(text)} is not one number, nor an area code and a number"
    digits = _NUMBER_PUNCTUATION.sub("", cells[0])
    if not digits.isdigit():
        return "", f"{_shown(text)} is not a phone number"
    return digits, ""


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")
