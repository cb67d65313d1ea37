"""Choose which open slots to offer and match a lead's answer ("tuesday at 3", "the second one") to one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Literal
from zoneinfo import ZoneInfo

from agents.prompts import spoken_slot
from agents.selectors import OpenSlot
from agents.when import When

# A broker needs some notice; four weeks out is as far as a call books (offers still start from the earliest).
BOOKING_NOTICE = dt.timedelta(hours=2)
HORIZON = dt.timedelta(days=28)
# Appointments fall within the lead's own waking day, whatever the broker's hours.
LEAD_DAY = (8, 20)
PART_DEFAULT_HOUR = {8: 10, 12: 14, 17: 18}


@dataclass
class Decision:
    """What to do with a lead's answer to an offer."""

    kind: Literal["book", "offer", "which", "none"]
    slot: OpenSlot | None = None
    slots: list[OpenSlot] = field(default_factory=list)
    unavailable: str = ""


def search_window(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Return the instants between which slots may be booked."""
    return now + BOOKING_NOTICE, now + HORIZON


def _local(slot: OpenSlot, tz: ZoneInfo) -> dt.datetime:
    return slot.start.astimezone(tz)


def reachable(slots: list[OpenSlot], tz: ZoneInfo) -> list[OpenSlot]:
    """Keep the slots within the lead's day, one per start time (the first broker free then)."""
    seen: set[dt.datetime] = set()
    out = []
    for slot in slots:
        local = _local(slot, tz)
        if (
            LEAD_DAY[0] <= local.hour
            and (local + (slot.end - slot.start)).hour <= LEAD_DAY[1]
            and slot.start not in seen
        ):
            seen.add(slot.start)
            out.append(slot)
    return out


def pick_offers(slots: list[OpenSlot], tz: ZoneInfo, *, count: int = 2) -> list[OpenSlot]:
    """Return the earliest slot and then the earliest on another day (or at least two hours later)."""
    if not slots:
        return []
    picked = [slots[0]]
    first_day = _local(slots[0], tz).date()
    later = [s for s in slots[1:] if _local(s, tz).date() != first_day]
    later = later or [s for s in slots[1:] if s.start - slots[0].start >= dt.timedelta(hours=2)]
    later = later or slots[1:]
    picked.extend(later[: count - 1])
    return picked


def _in_window(slot: OpenSlot, when: When, tz: ZoneInfo) -> bool:
    local = _local(slot, tz)
    if when.day is not None and local.date() != when.day:
        return False
    if when.not_before is not None and local.date() < when.not_before:
        return False
    if when.not_after is not None and local.date() > when.not_after:
        return False
    if when.earliest_hour is not None and local.hour < when.earliest_hour:
        return False
    return when.latest_hour is None or local.hour < when.latest_hour


def _at_time(slot: OpenSlot, when: When, tz: ZoneInfo) -> bool:
    local = _local(slot, tz)
    return local.hour == when.hour and local.minute == when.minute


def decide(
    when: When | None,
    *,
    answer: bool | None,
    offered: list[OpenSlot],
    open_slots: list[OpenSlot],
    tz: ZoneInfo,
    today: dt.date,
    offers_later: bool = True,
) -> Decision:
    """Match the lead's reply to an offer.

    Args:
        when: what the reply says about a time, if anything.
        answer: a plain yes (True) or no (False), if the reply was one.
        offered: the slots offered last, in the order spoken.
        open_slots: every slot open now, within the lead's day.
        tz: the lead's time zone.
        today: the lead's local date.
        offers_later: the offers start from a later week the lead asked for, so a bare weekday is in it.

    Returns:
        A `Decision`: book a slot, offer others, ask which of the offered, or nothing understood.
    """
    if when is not None and when.choice is not None and offered:
        index = when.choice if when.choice < len(offered) else len(offered) - 1
        return Decision(kind="book", slot=offered[index])
    if when is not None and when.any_choice and offered:
        return Decision(kind="book", slot=offered[0])
    if when is not None and not when.is_empty():
        when = _on_the_offers_day(_among_offers(when, offered, tz) if offers_later else when, offered, tz)
        by_day = when.day is not None and when.hour is None
        picked = [s for s in offered if _in_window(s, when, tz)] if by_day else []
        if len(picked) == 1:
            # "The tomorrow one", "tomorrow works", "tomorrow morning's good": the one offer on the day named.
            return Decision(kind="book", slot=picked[0])
        window = [s for s in open_slots if _in_window(s, when, tz)]
        if answer is True and window and when.day is not None and when.hour is None and when.earliest_hour is not None:
            # "Sure, thursday afternoon works for me" agrees to a time: the first open one then is booked.
            return Decision(kind="book", slot=window[0])
        return _decide_time(when, offered, open_slots, tz, today)
    if answer is True and offered:
        return Decision(kind="book", slot=offered[0]) if len(offered) == 1 else Decision(kind="which", slots=offered)
    if answer is False:
        last = max((s.start for s in offered), default=None)
        rest = [s for s in open_slots if last is None or s.start > last]
        return Decision(kind="offer", slots=pick_offers(rest, tz))
    return Decision(kind="none")


def _among_offers(when: When, offered: list[OpenSlot], tz: ZoneInfo) -> When:
    """Read a bare weekday said in reply to offers that all fall later as that weekday among them.

    Offered next Monday and Tuesday (the lead asked for next week), "tuesday at ten" on a Monday means
    next week's Tuesday, not tomorrow.
    """
    if not (when.weekday_only and when.day is not None and offered):
        return when
    first = min(_local(s, tz).date() for s in offered)
    if when.day >= first:
        return when
    weeks = -(-(first - when.day).days // 7)
    return replace(when, day=when.day + dt.timedelta(weeks=weeks))


def _on_the_offers_day(when: When, offered: list[OpenSlot], tz: ZoneInfo) -> When:
    """Read a bare hour said in reply to offers that all fall on one day as that hour on that day.

    Offered today at 11 or 11:30 after asking for today at ten, "then noon" means today at noon; offered
    two days, an hour alone stays open to both.
    """
    if when.hour is None or when.day is not None or when.not_before is not None or not offered:
        return when
    days = {_local(s, tz).date() for s in offered}
    return replace(when, day=days.pop()) if len(days) == 1 else when


def _decide_time(
    when: When, offered: list[OpenSlot], open_slots: list[OpenSlot], tz: ZoneInfo, today: dt.date
) -> Decision:
    window = [s for s in open_slots if _in_window(s, when, tz)]
    if when.hour is not None:
        pool = [s for s in offered if _in_window(s, when, tz)] + window
        exact = [s for s in pool if _at_time(s, when, tz)]
        if exact and (when.day is not None or exact[0] in offered):
            return Decision(kind="book", slot=exact[0])
        if exact:
            return Decision(kind="offer", slots=exact[:2])
        asked = _describe(when, today)
        target = when.hour * 60 + when.minute
        if not window and when.day is not None:
            # "Tomorrow after work, like six", past the last time open that day: the day's closest times.
            window = [s for s in open_slots if _local(s, tz).date() == when.day]
        nearest = sorted(window, key=lambda s: abs(_local(s, tz).hour * 60 + _local(s, tz).minute - target))
        alternatives = sorted(nearest[:2], key=lambda s: s.start) or pick_offers(_from_day(open_slots, when, tz), tz)
        return Decision(kind="offer", slots=alternatives, unavailable=asked)
    if window:
        return Decision(kind="offer", slots=pick_offers(window, tz) if when.day is None else _spread(window, tz))
    return Decision(
        kind="offer", slots=pick_offers(_from_day(open_slots, when, tz), tz), unavailable=_describe(when, today)
    )


def _spread(slots: list[OpenSlot], tz: ZoneInfo) -> list[OpenSlot]:
    """Two slots on one day, a couple of hours apart where possible."""
    later = [s for s in slots[1:] if s.start - slots[0].start >= dt.timedelta(hours=2)] or slots[1:]
    return [slots[0], *later[:1]]


def _from_day(open_slots: list[OpenSlot], when: When, tz: ZoneInfo) -> list[OpenSlot]:
    start = when.day or when.not_before
    return [s for s in open_slots if start is None or _local(s, tz).date() >= start] or open_slots


def _describe(when: When, today: dt.date) -> str:
    if when.day is not None and when.hour is not None:
        moment = dt.datetime.combine(when.day, dt.time(when.hour, when.minute))
        return spoken_slot(moment, today=today)
    if when.day is not None:
        return (
            "today"
            if when.day == today
            else "tomorrow"
            if when.day == today + dt.timedelta(days=1)
            else f"{when.day:%A}"
        )
    if when.not_before is not None:
        return "that week"
    return "that time"


def callback_time(when: When | None, *, now: dt.datetime) -> dt.datetime | None:
    """Return when to call the lead back, in their time zone, or None when the reply names no time.

    A day without an hour means 10 AM; "afternoon" means 2 PM; times outside 9 AM to 8 PM move into it.
    """
    if when is None or when.is_empty():
        return None
    if when.in_minutes is not None:
        return now + dt.timedelta(minutes=when.in_minutes)
    hour, minute = when.hour, when.minute
    if hour is None and when.free_from is not None:
        # "Try after six" is six, "she's home by five thirty" five thirty.
        hour, minute = divmod(when.free_from, 60)
    elif hour is None:
        # "In the afternoon" is 2 PM; a day alone is 10 AM.
        hour = PART_DEFAULT_HOUR.get(when.earliest_hour, when.earliest_hour) if when.earliest_hour else 10
        minute = 0
    day = when.day or when.not_before
    if day is None:
        candidate = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        day = now.date() if candidate > now + dt.timedelta(minutes=15) else now.date() + dt.timedelta(days=1)
    hour = min(max(hour, 9), 19)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=now.tzinfo)
