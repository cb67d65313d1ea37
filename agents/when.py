"""Understand when a lead wants to meet or be called back: "tuesday at 3", "tomorrow afternoon", "the second one".

Calendar words ("tuesday", "next friday", "december 3rd", "day after tomorrow")
go to dateparser, which is maintained and knows the calendar. Times, parts of
the day and week ranges are read here: dateparser reads "tuesday at 3" as
March 24th, and people on the phone never mean 3 AM.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import dateparser  # type: ignore[import-untyped]

from agents.text import Utterance

_ORDINALS = {"first": 0, "1st": 0, "former": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "last": -1, "latter": -1}
_CHOICE = re.compile(
    r"\b(?:the )?(first|1st|second|2nd|third|3rd|last|former|latter)(?: one| 1| option| time| slot| day)?\b"
    r"|\b(?:the )?(earlier|later)(?: one| 1| option| time| slot)\b|\bthe (earlier|later)\b"
    r"|\b(?:whichevers|whichever is|whichever|the) (sooner|soonest|earliest|latest)\b"
)
_NOT_THIS_PICK = re.compile(r"\b(not|dont need|dont want|no need for|never mind|forget|skip)( the| a| an| that)?\s*$")
# "What was the second time again?": asks to hear the times, picks none, and names no second of the month.
_PICK_ASKED_ABOUT = re.compile(
    r"\b((what|when|which) (was|is|were|s|day was|time was)|(say|repeat|tell me) (again )?)( the| a| an| that)?\s*$"
)
_CHOICE_NUMBER = re.compile(r"\b(?:option|number) (1|2|3)\b")
_ANY = re.compile(
    # "Both work" picks either time; "we both work till two" is about the leads.
    r"\b(either|either one|any of (?:those|them)|whichever|doesnt matter|(?<!we )(?<!they )both work|any one|"
    r"anything works|"
    r"any is fine|dont care|whatever works)\b"
)
_WEEKDAY_ABBR = {
    "mon": "monday",
    "tue": "tuesday",
    "tues": "tuesday",
    "wed": "wednesday",
    "weds": "wednesday",
    "thu": "thursday",
    "thur": "thursday",
    "thurs": "thursday",
    "fri": "friday",
}
# Speech-to-text writes "we'd" as "wed" once the apostrophe is gone: "wed just pay cash" names no day.
_WED_AS_DAY_AFTER = frozenset({"on", "next", "this", "say", "how", "about", "till", "until", "by"})
_WED_AS_DAY_BEFORE = frozenset({"at", "or", "and", "morning", "afternoon", "evening", "works", "is", "would"})


def _weekdays_spelled(num_text: str) -> str:
    words = num_text.split()
    out = []
    for i, word in enumerate(words):
        if word == "wed":
            before = words[i - 1] if i else ""
            after = words[i + 1] if i + 1 < len(words) else ""
            if not (before in _WED_AS_DAY_AFTER or after in _WED_AS_DAY_BEFORE or after.isdigit() or not after):
                out.append(word)
                continue
        # "Tomorrow's good" loses its apostrophe too.
        out.append(_WEEKDAY_ABBR.get(word, {"tomorrows": "tomorrow", "todays": "today"}.get(word, word)))
    return " ".join(out)


_WEEKDAY_ORDER = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS = frozenset(_WEEKDAY_ORDER)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DAY = re.compile(
    r"\b(day after tomorrow|tomorrow|today|tonight|"
    r"(?:next |this |coming )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?|"
    rf"(?:{_MONTHS}) \d{{1,2}}(?:st|nd|rd|th)?)\b"
)
_DATE = re.compile(rf"\b((?:{_MONTHS}) \d{{1,2}}(?:st|nd|rd|th)?)\b")
_DAY_OF_MONTH = re.compile(r"\b(?:on )?the (\d{1,2})(?:st|nd|rd|th)\b")
_NOT_THIS_WEEK = re.compile(r"\b(not this week|next week|following week|week after this)\b")
_WEEK_AFTER_NEXT = re.compile(r"\bweek after next\b")
_THIS_WEEK = re.compile(r"\b(later this week|this week)\b")
_NEXT_MONTH = re.compile(r"\b(next month|not this month)\b")
_NOT_DAY = re.compile(r"\b(?<!why )not (today|tomorrow)\b")
# "not" right before a day refuses it; "why not" proposes it.
_NOT_BEFORE = re.compile(r"(?<!why )\bnot $")
_NOON = re.compile(r"\b(noon|midday|lunch ?time|lunch)\b")
# "Half past two", and the British "half ten" (10:30).
_HALF_PAST = re.compile(r"\b(half|quarter) (?:past )?(\d{1,2})\b(?! ?(?:\d|hours?|minutes?|mins?|days?|weeks?|a |an ))")
_TIME = re.compile(
    r"(?:\b(at|around|about|by|say|maybe|how about|like|after|before|the|do|then|so)\s+)?"
    r"\b(\d{1,2})(?:[: ]([0-5]\d))?\s*(am|pm|a m|p m|oclock|o clock)?\b"
)
_DURATION_AFTER = re.compile(r"\s*(?:or \d+ )?(?:minutes?|mins?|hours?|days?|weeks?|months?|years?|yrs?)\b")
_PARTS = {
    "morning": (8, 12),
    "afternoon": (12, 17),
    "evening": (17, 20),
    "tonight": (17, 20),
    "after work": (17, 20),
}
_PART = re.compile(r"\b(morning|afternoon|evening|tonight|after work)s?\b")
# "In an hour", and "give her half an hour", "wait like twenty minutes": from now.
_RELATIVE = re.compile(
    r"\b(?:in|give (?:her|him|them|me|us|it)|wait) (?:like |about |maybe |around |roughly |say |probably )?"
    r"(a|an|1|a couple of|a couple|couple of|a few|\d+|half an) (minute|min|hour)s?\b|\bin a (bit|little while)\b"
)
_RELATIVE_QTY = {"a": 1, "an": 1, "a couple of": 2, "a couple": 2, "couple of": 2, "a few": 3, "half an": 0.5}


@dataclass
class When:
    """What a reply says about a time: a day or a range of days, an hour or a part of the day, or a pick."""

    day: dt.date | None = None
    not_before: dt.date | None = None
    not_after: dt.date | None = None
    hour: int | None = None
    minute: int = 0
    earliest_hour: int | None = None
    latest_hour: int | None = None
    choice: int | None = None
    any_choice: bool = False
    in_minutes: int | None = None
    # The day was a bare weekday name ("tuesday"), which a reply to offers may mean a week later.
    weekday_only: bool = False
    # "After five thirty", "home by five thirty": the minute of the day from which the lead is free, which
    # earliest_hour (a whole hour, for the meeting slots) rounds up; a callback can be made at it.
    free_from: int | None = None

    def is_empty(self) -> bool:
        return (
            self.in_minutes is None
            and self.day is None
            and self.not_before is None
            and self.not_after is None
            and self.hour is None
            and self.earliest_hour is None
            and self.latest_hour is None
            and self.choice is None
            and not self.any_choice
        )

    def names_a_meeting_time(self) -> bool:
        """Whether it names a day and a time on it ("thursday at three", "monday afternoon"), as a meeting has."""
        on_a_day = self.day is not None or self.weekday_only
        return on_a_day and (self.hour is not None or self.earliest_hour is not None or self.latest_hour is not None)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for key, value in self.__dict__.items():
            if value is None or value is False or (key == "minute" and value == 0 and self.hour is None):
                continue
            out[key] = value.isoformat() if isinstance(value, dt.date) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> When:
        kwargs = dict(data)
        for key in ("day", "not_before", "not_after"):
            if isinstance(kwargs.get(key), str):
                kwargs[key] = dt.date.fromisoformat(str(kwargs[key]))
        return cls(**kwargs)  # type: ignore[arg-type]


def parse_when(u: Utterance, *, now: dt.datetime) -> When:
    """Return what the utterance says about a time, relative to `now` in the lead's time zone.

    Args:
        u: what the lead said.
        now: the current time, aware, in the lead's time zone.

    Returns:
        A `When`; `is_empty()` is true when the reply names no time at all.
    """
    when = When()
    today = now.date()
    offer = _AN_OFFER.search(u.text)
    if offer and _PRONOUN_ONE.search(offer.group(0)):
        # "The tomorrow eight thirty one" picks the 8:30 offer: the "one" that closes "the ... one" is
        # the pronoun, not a minute to fuse with the tens before it.
        u = Utterance(u.text[: offer.end()].removesuffix(" one") + u.text[offer.end() :])
    _weeks(u.text, today, when)
    _relative(u.num_text, when)
    num_text = _weekdays_spelled(u.num_text)
    num_text = _choice(num_text, when)
    num_text, refused = _refused_day(num_text)
    num_text = _taken_back(num_text)
    num_text = _day(num_text, now, when)
    if when.day is not None and when.weekday_only and when.not_before is not None:
        # "Wednesday next week": the weekday in the week named, not the one coming first.
        while when.day < when.not_before:
            when.day += dt.timedelta(days=7)
    if when.day is not None and when.not_after is not None and when.day > when.not_after:
        # "I'm traveling the rest of this week, monday at ten?": the day named is the day, whatever the week
        # around it said.
        when.not_after = None
    if refused and when.day is None:
        # "I can't do tomorrow": any day after it, since the lead named none they can do; "not tomorrow,
        # the day after" is the day after it.
        named = When()
        _day(refused, now, named)
        if named.day is not None and re.search(r"\bthe day after\b", num_text):
            when.day, when.not_before = named.day + dt.timedelta(days=1), None
        elif named.day is not None and when.not_before is None:
            when.not_before = named.day + dt.timedelta(days=1)
    _part(num_text, when)
    if when.day is None and when.not_before is None and re.search(r"\bthis (morning|afternoon|evening)\b", num_text):
        when.day = today
    _time(num_text, when)
    if when.hour is None and _FIRST_THING.search(num_text):
        # "First thing monday morning": the start of the working day.
        when.hour, when.minute = 8, 0
    return when


_FIRST_THING = re.compile(r"\b((first|1st) thing|first thing in the morning|as early as (you can|possible))\b")


_AN_OFFER = re.compile(
    r"\b(?:the|that)(?: \w+){0,4}? one\b(?! (?:of|more|thing|time|day|week|month|year|bedroom|story))"
)
_PRONOUN_ONE = re.compile(r"\b(?:twenty|thirty|forty|fifty) one$")
_DAY_WORD = rf"(?:today|tonight|tomorrow|{'|'.join(sorted(_WEEKDAYS))})"
_REFUSED_DAY = re.compile(
    rf"\b(?:cant|can not|cannot|couldnt|wont|(?<!why )not|busy|no more calls|no calls)"
    # "Not well enough for calls today", "not up to talking today".
    r"(?: (?:do|make|it|on|really|be|available|free|going to|well|enough|up|to|for|feeling|able|any|calls|call|"
    r"talking|taking|good|around|home|here|in))* "
    rf"(?:that |this )?(?P<a>{_DAY_WORD})s?\b"
    rf"|\b(?P<b>{_DAY_WORD})s?(?: \w+)? (?:doesnt|does not|dont|do not|wont|will not|isnt|is not) (?:work|good)\b"
    # "Tomorrow is crazy with the kids", "tomorrow's pretty packed".
    rf"|\b(?P<c>{_DAY_WORD})s? (?:is |are )?(?:(?:pretty|really|kinda|kind of|super|totally|just|way too|too|all) )*"
    r"(?:no good|bad|out|booked|full|crazy|hectic|packed|slammed|nuts|insane|rough|impossible|busy|a mess|a zoo)\b"
)


def _refused_day(num_text: str) -> tuple[str, str]:
    """Return the text without a day the lead says they can't do, and that day ("" when none)."""
    match = _REFUSED_DAY.search(num_text)
    if match is None:
        return num_text, ""
    day = match.group("a") or match.group("b") or match.group("c")
    return num_text[: match.start()] + num_text[match.end() :], day


def _relative(num_text: str, when: When) -> None:
    match = _RELATIVE.search(num_text)
    if not match:
        return
    if match.group(3):
        when.in_minutes = 60
        return
    qty_word = match.group(1)
    qty = int(qty_word) if qty_word.isdigit() else _RELATIVE_QTY.get(qty_word, 1)
    when.in_minutes = round(qty * (60 if match.group(2) == "hour" else 1))


def _choice(text: str, when: When) -> str:
    """Read "the second one", "option 2" or "either"; return the text without the pick."""
    if _DAY_OF_MONTH.search(text) and re.search(rf"\b(on|{'|'.join(_WEEKDAYS)}) the \d{{1,2}}(st|nd|rd|th)\b", text):
        return text  # "on the third" or "thursday the third" is a date, not the third option
    if re.search(rf"\b(?:{_MONTHS}) (?:the )?\d{{1,2}}(?:st|nd|rd|th)\b", text):
        return text  # so is "december third"
    asked = [m for m in _CHOICE.finditer(text) if _PICK_ASKED_ABOUT.search(text[: m.start()])]
    for m in reversed(asked):
        text = text[: m.start()] + text[m.end() :]
    # "Don't need a second option, the first one's good": a pick the lead turns down is no pick.
    picks = [m for m in _CHOICE.finditer(text) if not _NOT_THIS_PICK.search(text[: m.start()])]
    match = picks[0] if picks else None
    if len(picks) > 1 and _TAKE_BACK.search(text[picks[0].end() : picks[-1].start()]):
        # "The first, no wait, the second one": the pick after the lead took one back stands.
        match = picks[-1]
    bare = match is not None and match.group(0) == (match.group(1) or "") and len(text.split()) > 3
    if match and not bare:
        # A bare "first" counts only in a short reply ("uh first"): in "i gotta talk to my boyfriend first" it
        # picks nothing.
        word = match.group(1) or match.group(2) or match.group(3) or match.group(4)
        soonest = {"earlier": 0, "sooner": 0, "soonest": 0, "earliest": 0, "later": -1, "latest": -1}
        when.choice = soonest.get(word, _ORDINALS.get(word, 0))
        return text[: match.start()] + text[match.end() :]
    number = _CHOICE_NUMBER.search(text)
    if number:
        when.choice = int(number.group(1)) - 1
    elif _ANY.search(text):
        when.any_choice = True
    return text


# "Check back in a few days": a callback day, the first of them that it could mean.
_IN_DAYS = re.compile(r"\bin (a few|a couple of|a couple|couple of|two|three|2|3|a) days?\b")
_A_WEEK_FROM = re.compile(r"\b(a|1|one) week (from|after) $")
_DAYS_QTY = {"a": 1, "a couple of": 2, "a couple": 2, "couple of": 2, "two": 2, "2": 2, "three": 3, "3": 3}


def _weeks(text: str, today: dt.date, when: When) -> None:
    monday = today + dt.timedelta(days=7 - today.weekday())
    if _WEEK_AFTER_NEXT.search(text):
        when.not_before, when.not_after = monday + dt.timedelta(days=7), monday + dt.timedelta(days=13)
    elif _NOT_THIS_WEEK.search(text):
        when.not_before = monday
        if "next week" in text:
            when.not_after = monday + dt.timedelta(days=6)
    elif _THIS_WEEK.search(text):
        when.not_after = monday - dt.timedelta(days=1)
        if "later" in text:
            when.not_before = today + dt.timedelta(days=1)
    elif _NEXT_MONTH.search(text):
        when.not_before = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    elif days := _IN_DAYS.search(text):
        when.day = today + dt.timedelta(days=_DAYS_QTY.get(days.group(1), 3))
    not_day = _NOT_DAY.search(text)
    if not_day:
        when.not_before = today + dt.timedelta(days=1 if not_day.group(1) == "today" else 2)


def _day(num_text: str, now: dt.datetime, when: When) -> str:
    today = now.date()
    # A date named in full outranks the weekday said with it ("friday december fourth").
    match = _DATE.search(num_text) or _day_meant(num_text)
    dom = _DAY_OF_MONTH.search(num_text)
    if match and dom and match.group(1).split()[-1].rstrip("s") in _WEEKDAYS:
        match = None  # "thursday the third": the date says which thursday
    if match and not _NOT_BEFORE.search(num_text[: match.start()]):
        phrase = match.group(1)
        if phrase == "tonight":
            when.day, when.earliest_hour, when.latest_hour = today, 17, 20
        elif phrase.startswith("next ") and phrase[5:].rstrip("s") in _WEEKDAYS:
            # "Next friday" said on a Tuesday is the friday of next week; "this friday" is this week's.
            monday = today + dt.timedelta(days=7 - today.weekday())
            when.day = monday + dt.timedelta(days=_WEEKDAY_ORDER.index(phrase[5:].rstrip("s")))
        else:
            when.day = _dateparse(phrase.rstrip("s") if phrase.endswith("days") else phrase, now)
            when.weekday_only = when.day is not None and phrase.rstrip("s") in _WEEKDAYS
            if when.weekday_only and when.day is not None and _THE_ONE_AFTER.match(num_text, match.end()):
                when.day += dt.timedelta(days=7)  # "the thursday after": a week on from the one coming
            if when.day is not None and _A_WEEK_FROM.search(num_text[: match.start()]):
                when.day += dt.timedelta(days=7)  # "a week from today", "a week from thursday"
                when.weekday_only = False
        return num_text[: match.start()] + num_text[match.end() :]
    if dom and 1 <= int(dom.group(1)) <= 31:
        # "Monday the fourth": the next fourth that is a Monday.
        named = _DAY.search(num_text[: dom.start()].rstrip().rsplit(" ", 1)[-1] + " ")
        weekday = named.group(1).removeprefix("next ").removeprefix("this ").rstrip("s") if named else None
        # "After christmas, call me the twenty eighth": the next twenty eighth after the holiday.
        start = _after_holiday(num_text[: dom.start()], today) or today
        when.day = _next_day_of_month(start, int(dom.group(1)), weekday=weekday if weekday in _WEEKDAYS else None)
        return num_text[: dom.start()] + num_text[dom.end() :]
    return num_text


# "Thursday's thanksgiving, but how about wednesday": the day after a turn like this one is the one meant.
_CORRECTION = re.compile(r"\b(but|how about|what about|actually|instead|rather|wait|or maybe|make it|sorry|no)\b")
# "Out of town till thursday, try her friday": a day that bounds the absence is not the day meant.
_UNTIL = re.compile(r"\b(till|until|til|through|thru)\s*$")
# "Thursday at ten, oh wait, that's thanksgiving, okay friday at ten then", "she's done at five, fine, four
# thirty then": a time taken back, or a limit said before the pick, gives way to the time after the turn.
_TAKE_BACK = re.compile(r"\b(wait|actually|i mean|scratch that|fine|okay|ok|alright|sorry|no)\b")


def _taken_back(num_text: str) -> str:
    """Return the part of the line after its last turn when a time is named on both sides of it."""
    for mark in reversed(list(_TAKE_BACK.finditer(num_text))):
        head, tail = num_text[: mark.start()], num_text[mark.end() :]
        if _names_a_time(head) and _names_a_time(tail):
            said = When()
            _clock(head, said)
            if said.hour is not None and re.search(r"\bsame time\b", tail):
                # "Monday at two, no sorry, tuesday same time": the day changes, the hour stays.
                tail += f" at {said.hour % 12 or 12} {said.minute or 0:02d} {'pm' if said.hour >= 12 else 'am'}"
            days = list(_DAY.finditer(head))
            if days and not _DAY.search(tail) and not _DAY_OF_MONTH.search(tail):
                # "Tomorrow at ten, no, eleven": the hour changes, the day stays.
                tail = f"{days[-1].group(0)} {tail}"
            return tail
    return num_text


def _names_a_time(num_text: str) -> bool:
    if _DAY.search(num_text) or _DAY_OF_MONTH.search(num_text):
        return True
    probe = When()
    _clock(num_text, probe)
    return probe.hour is not None


def _day_meant(num_text: str) -> re.Match[str] | None:
    days = [d for d in _DAY.finditer(num_text) if not _UNTIL.search(num_text[: d.start()])] or list(
        _DAY.finditer(num_text)
    )
    if len(days) > 1 and _CORRECTION.search(num_text, days[0].end(), days[-1].start()):
        return days[-1]
    return days[0] if days else None


def _dateparse(phrase: str, now: dt.datetime) -> dt.date | None:
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    parsed = dateparser.parse(phrase, languages=["en"], settings=settings)
    if parsed is None:
        return None
    day = parsed.date()
    # "this tuesday" said on a Tuesday is today; dateparser returns a past date for a passed month-day.
    return day if day >= now.date() else None


_THE_ONE_AFTER = re.compile(r"\s+after\b(?!\s+(?:\d|lunch|work|noon|school|that|dinner|the|my|\w+ing))")


_AFTER_HOLIDAY = re.compile(
    r"\b(after|past|following) (the )?(christmas|xmas|the holidays|holidays|new years?|new years day|fourth of july|"
    r"halloween|valentines( day)?)\b"
)
_HOLIDAY_DATE = {
    "christmas": (12, 25), "xmas": (12, 25), "the holidays": (12, 25), "holidays": (12, 25), "new year": (1, 1),
    "new years": (1, 1), "new years day": (1, 1), "fourth of july": (7, 4), "halloween": (10, 31),
    "valentines": (2, 14), "valentines day": (2, 14),
}  # fmt: skip


def _after_holiday(before: str, today: dt.date) -> dt.date | None:
    """Return the next date of a holiday the words say "after", or None."""
    match = _AFTER_HOLIDAY.search(before)
    if match is None:
        return None
    month, day = _HOLIDAY_DATE[match.group(3)]
    holiday = dt.date(today.year, month, day)
    return holiday if holiday >= today else dt.date(today.year + 1, month, day)


def _next_day_of_month(today: dt.date, dom: int, *, weekday: str | None = None) -> dt.date | None:
    year, month = today.year, today.month
    for _ in range(12 if weekday else 3):
        try:
            candidate = dt.date(year, month, dom)
        except ValueError:
            candidate = None
        fits = weekday is None or (candidate is not None and _WEEKDAY_ORDER[candidate.weekday()] == weekday)
        if candidate is not None and candidate >= today and fits:
            return candidate
        month, year = (1, year + 1) if month == 12 else (month + 1, year)
    return None


# "Mornings are bad, I do drop off", "not mornings": a part of the day ruled out is no time asked for.
_PART_RULED_OUT_AFTER = re.compile(
    r"^s? (are|is) (bad|no good|tough|hard|rough|out|busy|crazy|impossible|not good)\b"
    r"|^s? (arent|isnt|dont|wont) (work|good|great|possible)\b"
)
_PART_RULED_OUT_BEFORE = re.compile(r"\b(not|no|except|but not|anything but|never)( in the| the)? $")


def _part(num_text: str, when: When) -> None:
    for match in _PART.finditer(num_text):
        after, before = num_text[match.end() - (match.group(0).endswith("s")) :], num_text[: match.start()]
        if _PART_RULED_OUT_AFTER.match(after) or _PART_RULED_OUT_BEFORE.search(before):
            continue
        when.earliest_hour, when.latest_hour = _PARTS[match.group(1)]
        return


def _time(num_text: str, when: When) -> None:
    # "After lunch, maybe one thirty", "tomorrow at one, she's home for lunch": the clock says more than the meal.
    if _clock(num_text, when):
        return
    meal = _NOON.search(num_text)
    if meal is None:
        return
    before = num_text[: meal.start()].split()[-1:]
    if before == ["after"]:
        when.earliest_hour, when.latest_hour = 13, max(when.latest_hour or 17, 14)
    elif before == ["before"]:
        when.earliest_hour, when.latest_hour = min(when.earliest_hour or 8, 11), 12
    else:
        when.hour, when.minute = 12, 0


def _clock(num_text: str, when: When) -> bool:
    """Read a clock time ("at 3", "ten thirty", "half past two", "after 5") into `when`; return whether one was."""
    if (military := _TWENTY_FOUR.search(num_text)) and _is_twenty_four(military):
        hour = int(military.group(1) or military.group(2))
        when.hour, when.minute = hour, int(military.group(3) or 0)
        return True
    half = _HALF_PAST.search(num_text)
    if half:
        hour, minute = int(half.group(2)), 30 if half.group(1) == "half" else 15
        when.hour, when.minute = _afternoon_guess(hour, None, when), minute
        return True
    bounded = False
    after_minutes = 24 * 60
    for match in _TIME.finditer(num_text):
        lead_word, hour_s, minute_s, suffix = match.group(1), match.group(2), match.group(3), match.group(4)
        hour = int(hour_s)
        # "Ok eleven", "yeah 3 then": an hour said with nothing but a yes around it is still said alone.
        alone = _AGREED_AROUND.sub("", num_text).strip() == match.group(0).strip()
        # "Eight thirty" is a time of day whatever comes before it.
        on_the_half = minute_s in {"15", "30", "45"}
        after_a_day = bool(_DAY_BEFORE.search(num_text[: match.start()]))
        if not (
            lead_word or suffix or alone or on_the_half or after_a_day or _followed_by_time_word(num_text, match.end())
        ):
            continue
        if lead_word in {"the", "do", "so"} and not (minute_s or suffix) and _counts_something(num_text, match.end()):
            continue  # "the 3 of us", "we do 2 showings"
        if lead_word == "the" and hour == 1 and not (minute_s or suffix):
            continue  # "the one tomorrow" picks an offer
        if (
            lead_word == "like"
            and hour == 1
            and not (minute_s or suffix)
            and _LIKE_ONE.search(num_text[: match.end()].rstrip())
        ):
            continue  # "you sound kinda like one": a bot, not one o'clock
        if _DURATION_AFTER.match(num_text, match.end()):
            continue  # "like 6 months" is how long, not when
        if _BUSY_AT.search(num_text[: match.start(2)]) or _ROUTINE_AT.search(num_text[: match.start(2)]):
            continue  # "I have the dentist at eleven", "I'm up at five anyway": the lead's day, not a time to meet
        if _TIME_REFUSED.match(num_text, match.end()):
            continue  # "8 30 is awful early for me, could she come at ten": the time turned down is no pick
        if not 1 <= hour <= 12 or (minute_s is not None and int(minute_s) > 59):
            continue
        hour24 = _afternoon_guess(hour, suffix, when)
        before = num_text[: match.start()]
        if (lead_word == "by" and _FREE_BY.search(before)) or (lead_word in _AROUND and _FREE_AT.search(before)):
            lead_word = "after"  # "I'm home by three fifteen, so like three thirty": free from then on
        if lead_word == "after" and not bounded:
            after_minutes = when.free_from = hour24 * 60 + int(minute_s or 0)
            when.earliest_hour = hour24 + (1 if minute_s else 0)
            when.latest_hour = max(when.latest_hour or 20, when.earliest_hour + 1)
        elif lead_word == "before" and not bounded:
            when.latest_hour = hour24
            when.earliest_hour = min(when.earliest_hour or 8, hour24 - 1)
        elif lead_word not in {"after", "before"}:
            when.hour, when.minute = hour24, int(minute_s or 0)
            if bounded and hour24 * 60 + when.minute >= after_minutes:
                when.earliest_hour = when.latest_hour = None  # the time named inside the bound is the time
            return True
        # "After five, like five thirty": the bound, then perhaps the time within it.
        bounded = True
    return bounded


_AGREED_AROUND = re.compile(r"^(?:(?:ok|okay|yeah|yes|yep|sure|fine|alright|all right) )+|(?: (?:then|please))+$")
_BUSY_AT = re.compile(
    r"\b(i have|ive got|i got|we have|weve got|theres|there is|i am at|im at) (the |a |an |my |our )?(\w+ ){0,2}"
    r"(at|until|till|til) $"
)
_ROUTINE_AT = re.compile(
    r"\b(im|i am|i get|i wake|i woke|were|we get|we wake|i go|we go|she gets|he gets) (up|awake|to bed|to sleep|"
    r"asleep) (at|by|around|about|from|before) (like |about |around )?$"
)
_TIME_REFUSED = re.compile(
    r"\s*(?:am|pm)?\s*(?:is|s|would be|will be|seems)\s+(?:(?:awful|awfully|way|too|kind of|kinda|a bit|a little|"
    r"pretty|really|super|so)\s+)*(?:early|late|soon)\b"
    r"|\s*(?:am|pm)?\s*(?:doesnt|does not|wont|will not|isnt|is not) (?:work|good)\b"
)
_FREE_BY = re.compile(r"\b(home|back|off|done|free|finished|out|there|up) $")
# "She gets home around six thirty", "I get off at four thirty": free from then. ("She's done at five" is said of the
# agent as often as of the lead, and stays a time.)
_FREE_AT = re.compile(r"\b(gets?|got|is|s|im|i am) (home|back|off|off work) $")
_AROUND = frozenset({"at", "around", "about"})
# "Thursday morning, nine?": a number said straight after a day or a part of one is its hour.
_DAY_BEFORE = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow|morning|afternoon|evening) $"
)
_LIKE_ONE = re.compile(r"\b(sound|sounds|look|looks|seem|seems|feel|feels|kinda|kind of|sort of|just) like 1$")


def _is_twenty_four(match: re.Match[str]) -> bool:
    """Whether a "1400" or "16 30" is a time on the 24-hour clock: an hour past noon, or written with its 0."""
    written = match.group(0)
    hour = int(match.group(1) or match.group(2))
    return (13 <= hour <= 23 or written.startswith("0")) and 8 <= hour <= 20


def _counts_something(num_text: str, end: int) -> bool:
    rest = num_text[end:].split()
    if not rest or _followed_by_time_word(num_text, end):
        return False
    word = rest[0]
    plural = word.endswith("s") and word not in {"this", "is", "its", "thats", "was", "has", "does", "works", "yes"}
    return word == "of" or plural or word in {"bedroom", "bed", "bath", "car", "story", "unit"}


def _followed_by_time_word(num_text: str, end: int) -> bool:
    rest = num_text[end:].split()
    return bool(rest) and rest[0] in _TIME_WORDS_AFTER


# Words after a bare number that make it a clock time: "eleven today fine", "nine that same day".
_TIME_WORDS_AFTER = frozenset(
    {"works", "is", "would", "sounds", "please", "then", "tomorrow", "today", "on", "fine", "ok", "okay", "good",
     "great", "perfect", "that", "same", "sharp"}
)  # fmt: skip
# The 24-hour clock, as some leads say it: "fourteen hundred", "sixteen thirty", "0900".
_TWENTY_FOUR = re.compile(
    r"\b(?:0?([0-9])|(1[0-9]|2[0-3]))(?: ?([0-5]\d)|00| hundred)(?: hours)?\b"
    r"(?! ?(dollars|bucks|a month|per|k\b|thousand|square|sq|feet|ft|a year))"
)


def _afternoon_guess(hour: int, suffix: str | None, when: When) -> int:
    """Return the 24-hour clock hour people mean on a business call: "at 3" is 3 PM, "at 9" is 9 AM."""
    suffix = (suffix or "").replace(" ", "")
    if suffix == "am":
        return 0 if hour == 12 else hour
    if suffix == "pm":
        return hour if hour == 12 else hour + 12
    if when.earliest_hour is not None and when.earliest_hour >= 12 and hour < 12:
        return hour + 12
    if when.latest_hour is not None and when.latest_hour <= 12:
        return hour
    return hour + 12 if 1 <= hour <= 7 else hour
