"""Normalise speech-to-text output and keep track of which words a number came from.

Speech-to-text gives lowercase words without punctuation ("about six fifty"),
and the regexes in agents.nlu want digits ("about 6 50"). `Utterance` holds both
views and maps every digit-view token back to the words the lead actually said,
so a slot's evidence is always a quote, never our rewriting.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from text_to_num import alpha2digit  # type: ignore[import-untyped]

_NEGATORS = frozenset({"not", "dont", "never", "no", "arent", "isnt", "wont", "cant", "nothing", "neither", "nor"})
# A negation does not reach past these: "were not selling were buying" is a buyer.
_CLAUSE_STARTS = frozenset({"but", "were", "we", "im", "i", "so", "actually", "and", "though", "its"})


def normalize(text: str) -> str:
    """Return lowercase words: apostrophes dropped ("don't" -> "dont"), punctuation turned into spaces."""
    # "Está bien", "inglés": letters keep their sound without their accents, where dropping them would split words.
    t = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    t = t.replace("\u2019", "'").replace("'", "")
    t = re.sub(r"(?<=\d),(?=\d{3})", "", t)  # 450,000 -> 450000
    t = re.sub(r"\$\s?(\d[\d.]*)", r"\1 dollars", t)
    t = re.sub(r"(\d)(k|m|am|pm)\b", r"\1 \2", t)
    t = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", t)
    t = re.sub(r"[^a-z0-9.%@ ]+", " ", t)
    return " ".join(t.split())


_DIGIT_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_TENS_WORD = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_NOT_A_PRICE_UNIT = r"(?! (?:years?|months?|weeks?|days?|hours?|minutes?|percent|people|kids|acres?|feet|miles?)\b)"


def _heard_numbers(text: str) -> str:
    """Return the words with the numbers speech-to-text misheard put right, for the digit view only.

    "Four" comes out as "for" and "two" as "to" when they are said as numbers
    ("one point for million", "for fifty to five hundred thousand"); "and"
    before a decimal or after tens starts another amount ("nine hundred and one
    point two million" is a range, not 901.2 million).
    """
    text = re.sub(r"\bhundos?\b", "hundred", text)
    text = re.sub(r"\bmill\b", "million", text)
    # "Four fiftys what we paid": a plural figure is the figure.
    text = re.sub(r"\b(twent|thirt|fort|fift|sixt|sevent|eight|ninet)(?:ys|ies)\b", r"\1y", text)
    # "Eight twenty eight fifty", "six fifty six seventy five": two shorthand figures side by side, which the
    # digit view would read as 8 28 50; "seven fifty seven hundred fifty thousand" says one figure twice.
    text = re.sub(rf"\b({_DIGIT_WORD} {_TENS_WORD}) (?={_DIGIT_WORD} (?:{_TENS_WORD}|hundred)\b)", r"\1 to ", text)
    # "Three fifty thousand", "four twenty five k": hundreds of thousands said short, not 3 and 50,000.
    text = re.sub(
        rf"(^|(?<!ty) )({_DIGIT_WORD}) (?={_TENS_WORD}(?: {_DIGIT_WORD})? (?:thousand|grand|k)\b)",
        r"\1\2 hundred ",
        text,
    )
    text = re.sub(r"\bpoint for\b", "point four", text)
    # "Too point five mil", "won point one won point two", "a million to": two and one heard as other words, where
    # a figure must stand.
    text = re.sub(r"\btoo (?=point\b)", "two ", text)
    text = re.sub(r"(^|\b(?:like|about|around|maybe|its|say|probably|um|uh) )to (?=point\b)", r"\1two ", text)
    text = re.sub(r"\bwon (?=point\b|hundred\b|million\b|mil\b)", "one ", text)
    text = re.sub(r"\b(million|mil) (?:to|too)$", r"\1 two", text)
    # "We paid three ten back in oh nine": a year, not nine hundred thousand.
    text = re.sub(rf"\b(in|since|from|of|around) (?:oh|o) {_DIGIT_WORD}\b", r"\1 the year", text)
    # "Between for and for fifty", "to fifty to three hundred", "ate hundred k": the figure's sound, heard as
    # another word where a figure must stand.
    text = re.sub(r"\bbetween for (?=and\b)", "between four ", text)
    text = re.sub(r"\bbetween (?:to|too) (?=and\b)", "between two ", text)
    text = re.sub(
        rf"^(?:to|too) (?={_TENS_WORD} (?:to|or|and|hundred|thousand|grand|k|tops|max|maximum|at most|ish)\b)",
        "two ",
        text,
    )
    text = re.sub(rf"\bate (?=hundred\b|{_TENS_WORD}\b)", "eight ", text)
    # "The low three hundreds", "somewhere in the three hundreds": a band, said as the hundreds it spans.
    text = re.sub(rf"\b(low|lower|mid|middle|high|upper|the) ({_DIGIT_WORD}) hundreds\b", _band_word, text)
    # "Four hundred to for fifty": "for" before tens, where a figure is expected, is four.
    text = re.sub(
        rf"\b(to|and|or|between|maybe|like|about|around|under|over|say) for (?={_TENS_WORD}\b|hundred\b)",
        r"\1 four ",
        text,
    )
    # "One point oh five" is 1.05.
    text = re.sub(rf"\bpoint (?:oh|o) (?={_DIGIT_WORD}\b)", "point zero ", text)
    # "Eight hundred fifty thousand, eight fifty": the same figure said again in shorthand, not 850,008 and 50.
    text = re.sub(rf"\bthousand (?={_DIGIT_WORD} {_TENS_WORD}\b)", "thousand or ", text)
    # "Between five fifty and six": a range whose upper end is said short, not 5 and 56.
    text = re.sub(
        rf"\b({_DIGIT_WORD} {_TENS_WORD}) and (?={_DIGIT_WORD}\b(?! (?:{_TENS_WORD}|hundred|thousand)\b))",
        r"\1 to ",
        text,
    )
    # "Five hundred, five fifty max": two figures, not 505 and 50.
    text = re.sub(rf"\b({_DIGIT_WORD}) hundred (?={_DIGIT_WORD} {_TENS_WORD}\b)", r"\1 hundred to ", text)
    # "Four hundred, four hundred fifty": a second hundreds starts a second figure, not 404 and 150.
    text = re.sub(rf"\b({_DIGIT_WORD}) hundred (?={_DIGIT_WORD} hundred\b)", r"\1 hundred to ", text)
    text = re.sub(r"\bpoint (?:to|too)\b", "point two", text)
    lead_in = r"(?:^|(?<=\blike )|(?<=\babout )|(?<=\baround )|(?<=\bmaybe ))"
    text = re.sub(rf"{lead_in}for (?={_TENS_WORD}\b{_NOT_A_PRICE_UNIT})", "four ", text)
    text = re.sub(rf"\band (?=(?:{_DIGIT_WORD}|a) point\b)", "to ", text)
    # "One point six, one point six to one point seven": a figure said again, whose comma the text lost,
    # would fuse into 1.61.
    text = re.sub(rf"\b(point {_DIGIT_WORD}) (?={_DIGIT_WORD} point\b)", r"\1 or ", text)
    # "Four fifty and five hundred", "four hundred and five hundred": "and" before another hundreds starts
    # another amount ("two hundred and fifty" and "one hundred and five thousand" are one).
    return re.sub(rf"\b({_TENS_WORD}|hundred) and (?={_DIGIT_WORD} (?:hundred|{_TENS_WORD})\b)", r"\1 to ", text)


_DIGIT_VALUE = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}


def _band_word(m: re.Match[str]) -> str:
    return f"{m.group(1)} {_DIGIT_VALUE[m.group(2)]}00s"


def _digits(text: str) -> str:
    """Return normalised words with their numbers as digits."""
    # threshold=0: "one" and "two" matter here ("one or two years").
    num = alpha2digit(_heard_numbers(text), "en", threshold=0)
    # "2 and a half 1000000" is 2.5 million.
    num = re.sub(r"\b(\d+) and a half (?=(1000000|1000|thousand|million|k)\b)", r"\1.5 ", num)
    # "A mil and a half" is 1.5 million.
    return re.sub(r"\b(?:a |1 )?(1000000|million|mil) and a half\b", r"1.5 \1", num)


def quote_in(evidence: str, utterances: list[str]) -> bool:
    """Return whether the evidence is, word for word, part of one of the utterances."""
    needle = normalize(evidence)
    if not needle:
        return False
    return any(f" {needle} " in f" {normalize(u)} " for u in utterances)


_FIGURE_ENDS = re.compile(r"(?<=[?!;])\s+|(?<=[a-z]\.)\s+|(?<!million)(?<!thousand)(?<!mil),\s+")


@dataclass(frozen=True)
class Utterance:
    """One thing the lead said, as words and as digits, with a map from digits back to words."""

    raw: str

    @cached_property
    def text(self) -> str:
        return normalize(self.raw)

    @cached_property
    def words(self) -> list[str]:
        return self.text.split()

    @cached_property
    def num_text(self) -> str:
        if not self.text:
            return ""
        # A sentence's end ends its figures: "maybe two million? two to two point two" is two figures, where the
        # words alone would run on into 2000002.
        # So does a comma, but after a scale word: "seven fifty, eight" is two figures, "a million, two hundred
        # thousand" one.
        sentences = (normalize(s) for s in _FIGURE_ENDS.split(self.raw))
        return " ".join(_digits(s) for s in sentences if s)

    @cached_property
    def _num_spans(self) -> list[tuple[int, int]]:
        """For each digit-view token, the [start, end) range of words it came from."""
        nums = self.num_text.split()
        spans: list[tuple[int, int]] = [(0, 0)] * len(nums)
        matcher = difflib.SequenceMatcher(None, self.words, nums, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            for j in range(j1, j2):
                if tag == "equal":
                    spans[j] = (i1 + j - j1, i1 + j - j1 + 1)
                else:
                    spans[j] = (i1, max(i2, i1 + 1))
        return spans

    def quote_num(self, start: int, end: int) -> str:
        """Return the lead's words behind the num_text characters [start, end)."""
        first = self.num_text.count(" ", 0, start)
        last = self.num_text.count(" ", 0, max(start, end - 1))
        spans = self._num_spans[first : last + 1]
        if not spans:
            return ""
        return " ".join(self.words[min(s[0] for s in spans) : max(s[1] for s in spans)])

    def negated(self, start: int, *, window: int = 3, num: bool = False) -> bool:
        """Return whether one of the few words before character `start` negates what follows."""
        before = (self.num_text if num else self.text)[:start].split()[-window:]
        for word in reversed(before):
            if word in _NEGATORS:
                return True
            if word in _CLAUSE_STARTS:
                return False
        return False


def price_text(value: dict[str, int]) -> str:
    """Say a price slot for a broker: "$650,000", "$600,000-$700,000", "under $400,000" or "over $300,000"."""
    low, high = value.get("min"), value.get("max")
    if low is None or high is None:
        return f"under ${high:,}" if low is None else f"over ${low:,}"
    return f"${low:,}" if low == high else f"${low:,}-${high:,}"
