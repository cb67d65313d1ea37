"""Reading times ("tuesday at 3", "tomorrow afternoon", "the second one", "not this week") and matching slots."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from agents.scheduling import callback_time, decide, pick_offers, reachable
from agents.selectors import OpenSlot
from agents.text import Utterance
from agents.when import parse_when

LA = ZoneInfo("America/Los_Angeles")
# A Monday, so "tuesday" is tomorrow and "not this week" is a week away.
MONDAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=LA)


def _when(text: str):  # type: ignore[no-untyped-def]
    # Frozen so nothing in the parse can depend on the real clock.
    with time_machine.travel(MONDAY, tick=False):
        return parse_when(Utterance(text), now=timezone.now().astimezone(LA))


@pytest.mark.parametrize(
    ("text", "day", "hour", "minute"),
    [
        ("tuesday at 3", dt.date(2026, 11, 24), 15, 0),
        ("um tuesday at three", dt.date(2026, 11, 24), 15, 0),
        ("thursday at ten", dt.date(2026, 11, 26), 10, 0),
        ("thurs at 10 am", dt.date(2026, 11, 26), 10, 0),
        ("friday at three thirty", dt.date(2026, 11, 27), 15, 30),
        ("how about wednesday at noon", dt.date(2026, 11, 25), 12, 0),
        ("december third at 9", dt.date(2026, 12, 3), 9, 0),
        ("on the third at 2 pm", dt.date(2026, 12, 3), 14, 0),
        ("tomorrow at 5", dt.date(2026, 11, 24), 17, 0),
        ("day after tomorrow at half past 4", dt.date(2026, 11, 25), 16, 30),
        ("why not tomorrow at ten", dt.date(2026, 11, 24), 10, 0),
        ("well why not thursday at ten then", dt.date(2026, 11, 26), 10, 0),
    ],
)
def test_it_reads_a_day_and_a_time(text: str, day: dt.date, hour: int, minute: int) -> None:
    when = _when(text)

    assert (when.day, when.hour, when.minute) == (day, hour, minute)


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [
        ("ok got one sorry. the tomorrow eight thirty one", 8, 30),
        ("uh the two thirty one please", 14, 30),
        ("i'll take that ten thirty one", 10, 30),
        ("yeah the thursday three thirty one works", 15, 30),
        # Without "the ... one" around it, the minute is the minute.
        ("tomorrow at eight thirty one", 8, 31),
        ("how about two twenty one tomorrow", 14, 21),
    ],
)
def test_the_one_that_picks_an_offer_is_not_a_minute(text: str, hour: int, minute: int) -> None:
    when = _when(text)

    assert (when.hour, when.minute) == (hour, minute)


def test_it_reads_tomorrow_afternoon_as_a_day_and_a_window() -> None:
    when = _when("tomorrow afternoon")

    assert (when.day, when.earliest_hour, when.latest_hour, when.hour) == (dt.date(2026, 11, 24), 12, 17, None)


@pytest.mark.parametrize(
    ("text", "choice"),
    [("the second one", 1), ("the first one", 0), ("um the last one", -1), ("option two", 1), ("the later one", -1)],
)
def test_it_reads_which_offered_slot_was_picked(text: str, choice: int) -> None:
    when = _when(text)

    assert when.choice == choice
    assert when.day is None and when.hour is None


def test_it_reads_not_this_week_as_from_next_monday() -> None:
    when = _when("not this week")

    assert when.not_before == dt.date(2026, 11, 30)
    assert when.day is None


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("i cant do tomorrow", dt.date(2026, 11, 25)),
        ("tomorrow doesnt work for me", dt.date(2026, 11, 25)),
        ("im busy wednesday", dt.date(2026, 11, 26)),
    ],
)
def test_a_day_the_lead_cannot_do_is_never_offered_again(text: str, after: dt.date) -> None:
    when = _when(text)

    assert (when.day, when.not_before) == (None, after)


@pytest.mark.parametrize(
    ("text", "day", "hour"),
    [
        ("cant make it today maybe tomorrow at ten", dt.date(2026, 11, 24), 10),
        ("not tuesday but thursday at two works", dt.date(2026, 11, 26), 14),
    ],
)
def test_the_day_named_after_one_refused_stands(text: str, day: dt.date, hour: int) -> None:
    when = _when(text)

    assert (when.day, when.hour) == (day, hour)


def test_it_reads_next_week_as_next_monday_to_sunday() -> None:
    when = _when("sometime next week")

    assert (when.not_before, when.not_after) == (dt.date(2026, 11, 30), dt.date(2026, 12, 6))


@pytest.mark.parametrize("text", ["um yeah", "sounds good", "no thanks"])
def test_it_finds_no_time_where_none_was_said(text: str) -> None:
    assert _when(text).is_empty()


def _slot(day: int, hour: int, minute: int = 0, broker: int = 1) -> OpenSlot:
    start = dt.datetime(2026, 11, day, hour, minute, tzinfo=LA).astimezone(dt.UTC)
    return OpenSlot(broker_id=broker, broker_name="Dana", start=start, end=start + dt.timedelta(minutes=30))


OPEN = [_slot(d, h, m) for d in (24, 25, 30) for h in range(9, 17) for m in (0, 30)]


def test_it_books_the_exact_slot_asked_for() -> None:
    decision = decide(_when("tuesday at 3"), answer=None, offered=[], open_slots=OPEN, tz=LA, today=MONDAY.date())

    assert decision.kind == "book"
    assert decision.slot == _slot(24, 15)


def test_it_offers_the_nearest_times_when_the_asked_one_is_taken() -> None:
    open_slots = [s for s in OPEN if s != _slot(24, 15)]

    decision = decide(_when("tuesday at 3"), answer=None, offered=[], open_slots=open_slots, tz=LA, today=MONDAY.date())

    assert decision.kind == "offer"
    assert decision.slots == [_slot(24, 14, 30), _slot(24, 15, 30)]
    assert decision.unavailable == "tomorrow at 3 PM"


def test_it_offers_two_times_within_tomorrow_afternoon() -> None:
    decision = decide(_when("tomorrow afternoon"), answer=None, offered=[], open_slots=OPEN, tz=LA, today=MONDAY.date())

    assert decision.kind == "offer"
    assert decision.slots == [_slot(24, 12), _slot(24, 14)]


def test_it_books_the_second_of_the_offered_slots() -> None:
    offered = [_slot(24, 12), _slot(24, 14)]

    decision = decide(
        _when("the second one"), answer=None, offered=offered, open_slots=OPEN, tz=LA, today=MONDAY.date()
    )

    assert decision == type(decision)(kind="book", slot=_slot(24, 14))


def test_it_offers_slots_from_next_week_when_not_this_week() -> None:
    decision = decide(_when("not this week"), answer=None, offered=[], open_slots=OPEN, tz=LA, today=MONDAY.date())

    assert decision.kind == "offer"
    assert decision.slots[0] == _slot(30, 9)


def test_a_plain_no_offers_later_slots_and_a_plain_yes_asks_which() -> None:
    offered = [_slot(24, 9), _slot(25, 9)]

    no = decide(None, answer=False, offered=offered, open_slots=OPEN, tz=LA, today=MONDAY.date())
    yes = decide(None, answer=True, offered=offered, open_slots=OPEN, tz=LA, today=MONDAY.date())

    assert all(s.start > _slot(25, 9).start for s in no.slots)
    assert yes.kind == "which"


def test_it_offers_one_slot_per_time_within_the_leads_day() -> None:
    early = OpenSlot(broker_id=2, broker_name="Max", start=_slot(24, 7).start, end=_slot(24, 7, 30).start)
    twin = _slot(24, 9, broker=2)

    kept = reachable([early, _slot(24, 9), twin, _slot(24, 10)], LA)

    assert kept == [_slot(24, 9), _slot(24, 10)]
    assert pick_offers(kept, LA) == [_slot(24, 9), _slot(24, 10)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me back tomorrow at 5", dt.datetime(2026, 11, 24, 17, 0, tzinfo=LA)),
        ("try me thursday morning", dt.datetime(2026, 11, 26, 10, 0, tzinfo=LA)),
        ("in an hour", dt.datetime(2026, 11, 23, 11, 0, tzinfo=LA)),
        ("at 3", dt.datetime(2026, 11, 23, 15, 0, tzinfo=LA)),
        ("next week", dt.datetime(2026, 11, 30, 10, 0, tzinfo=LA)),
    ],
)
def test_it_books_the_callback_time_the_lead_names(text: str, expected: dt.datetime) -> None:
    assert callback_time(_when(text), now=MONDAY) == expected


def test_it_has_no_callback_time_when_none_was_named() -> None:
    assert callback_time(_when("later"), now=MONDAY) is None


def test_a_bare_weekday_in_reply_to_next_weeks_offers_means_next_week() -> None:
    # Asked for next week on a Monday, offered next Monday: "tuesday at ten" is not tomorrow.
    start = dt.datetime(2026, 12, 1, 10, 0, tzinfo=LA).astimezone(dt.UTC)
    next_tuesday = OpenSlot(broker_id=1, broker_name="Dana", start=start, end=start + dt.timedelta(minutes=30))
    offered = [_slot(30, 9), _slot(30, 14)]

    decision = decide(
        _when("tuesday at ten"),
        answer=None,
        offered=offered,
        open_slots=[*OPEN, next_tuesday],
        tz=LA,
        today=MONDAY.date(),
    )

    assert decision == type(decision)(kind="book", slot=next_tuesday)
    # After offers that include this week the same words mean tomorrow; "december 1st" is a date, not a weekday.
    this_week = decide(
        _when("tuesday at ten"), answer=None, offered=[_slot(24, 9)], open_slots=OPEN, tz=LA, today=MONDAY.date()
    )
    assert this_week == type(this_week)(kind="book", slot=_slot(24, 10))
    assert _when("tuesday at ten").weekday_only and not _when("december 1st at ten").weekday_only


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("call back in like an hour shell be out by then", 60), ("try again in about half an hour", 30)],
)
def test_a_call_back_in_a_while_is_counted_from_now(text: str, minutes: int) -> None:
    assert _when(text).in_minutes == minutes


def test_a_clock_time_says_more_than_lunch() -> None:
    when = _when("call her monday after lunch maybe one oclock")

    assert (when.day, when.hour) == (dt.date(2026, 11, 30), 13)


def test_we_both_work_is_no_pick_of_either_time() -> None:
    when = _when("can we do monday at three instead we both work till two")

    assert (when.day, when.hour, when.any_choice) == (dt.date(2026, 11, 30), 15, False)


@pytest.mark.parametrize(
    ("text", "day", "hour", "minute"),
    [
        ("try her tuesday at one, she's usually home for lunch", dt.date(2026, 11, 24), 13, 0),
        ("those dont work, anytime wednesday after lunch like one thirty", dt.date(2026, 11, 25), 13, 30),
        ("wednesdays no good but um how about thursday at three", dt.date(2026, 11, 26), 15, 0),
        ("monday no wait tuesday at ten", dt.date(2026, 11, 24), 10, 0),
        ("not tomorrow the day after in the morning maybe nine", dt.date(2026, 11, 25), 9, 0),
    ],
)
def test_the_clock_and_the_day_the_lead_settles_on_stand(text: str, day: dt.date, hour: int, minute: int) -> None:
    when = _when(text)

    assert (when.day, when.hour, when.minute) == (day, hour, minute)


def test_after_and_before_lunch_are_windows() -> None:
    after, before = _when("thursday after lunch"), _when("thursday before lunch")

    assert (after.hour, after.earliest_hour, after.latest_hour) == (None, 13, 17)
    assert (before.hour, before.earliest_hour, before.latest_hour) == (None, 8, 12)
    assert _when("how about lunch on thursday").hour == 12


@pytest.mark.parametrize(("text", "picked"), [("uh the tomorrow one", (24, 9)), ("lets do the one today", (23, 15))])
def test_the_one_offer_on_the_day_named_is_booked(text: str, picked: tuple[int, int]) -> None:
    offered = [_slot(23, 15), _slot(24, 9)]
    open_slots = [*offered, _slot(24, 11), _slot(23, 16)]

    decision = decide(_when(text), answer=None, offered=offered, open_slots=open_slots, tz=LA, today=MONDAY.date())

    assert decision == type(decision)(kind="book", slot=_slot(*picked))


@pytest.mark.parametrize("text", ["tomorrow", "tomorrow works", "tomorrow mornings good"])
def test_a_day_with_one_offer_on_it_takes_that_offer(text: str) -> None:
    offered = [_slot(23, 15), _slot(24, 9)]
    open_slots = [*offered, _slot(24, 11), _slot(24, 14)]

    decision = decide(_when(text), answer=None, offered=offered, open_slots=open_slots, tz=LA, today=MONDAY.date())

    assert decision == type(decision)(kind="book", slot=_slot(24, 9))


def test_a_day_with_no_offer_on_it_offers_its_times() -> None:
    offered = [_slot(23, 15), _slot(24, 9)]
    open_slots = [*offered, _slot(25, 11), _slot(25, 14)]

    decision = decide(
        _when("wednesday"), answer=None, offered=offered, open_slots=open_slots, tz=LA, today=MONDAY.date()
    )

    assert decision == type(decision)(kind="offer", slots=[_slot(25, 11), _slot(25, 14)])


@pytest.mark.parametrize("text", ["then noon", "how about one thirty", "ok uh 3 pm then", "ok eleven", "yeah 2 then"])
def test_a_bare_hour_in_reply_to_offers_on_one_day_is_on_that_day(text: str) -> None:
    # Asked for tomorrow at a time that was taken, offered two others tomorrow: the next hour named is tomorrow's.
    offered = [_slot(24, 11), _slot(24, 11, 30)]
    when = _when(text)
    asked = (when.hour, when.minute)

    decision = decide(when, answer=None, offered=offered, open_slots=OPEN, tz=LA, today=MONDAY.date())

    assert decision == type(decision)(kind="book", slot=_slot(24, *asked))


def test_a_bare_hour_in_reply_to_offers_on_two_days_stays_open_to_both() -> None:
    offered = [_slot(24, 11), _slot(25, 9)]

    decision = decide(_when("noon"), answer=None, offered=offered, open_slots=OPEN, tz=LA, today=MONDAY.date())

    assert decision.kind == "offer"
    assert decision.slots == [_slot(24, 12), _slot(25, 12)]


def test_a_time_past_the_days_last_opening_offers_that_days_closest_times() -> None:
    decision = decide(
        _when("can she do tomorrow after work like six"), answer=None, offered=[], open_slots=OPEN, tz=LA,
        today=MONDAY.date(),
    )  # fmt: skip

    assert decision.kind == "offer"
    assert decision.slots == [_slot(24, 16), _slot(24, 16, 30)]
    assert decision.unavailable == "tomorrow at 6 PM"


def test_the_leads_own_routine_is_no_time_to_meet() -> None:
    when = _when("oh tomorrow morning would be lovely im up at five anyway")

    assert when.hour is None
    assert when.day == dt.date(2026, 11, 24)


def test_a_pick_taken_back_gives_way_to_the_next() -> None:
    assert _when("uh the the first no wait the second one tomorrow").choice == 1


def test_a_bare_weekday_after_offers_moved_past_a_taken_day_is_this_week() -> None:
    # Asked for Saturday, which is closed, and offered next Monday: "fine, friday at noon" is this Friday. Only
    # offers that start from a later week the lead asked for move a bare weekday into that week.
    friday_noon = _slot(27, 12)
    offered = [_slot(30, 9), _slot(30, 14)]

    decision = decide(
        _when("ugh fine friday at noon"),
        answer=None,
        offered=offered,
        open_slots=[*OPEN, friday_noon],
        tz=LA,
        today=MONDAY.date(),
        offers_later=False,
    )

    assert decision == type(decision)(kind="book", slot=friday_noon)


@pytest.mark.parametrize(
    ("text", "day", "hour", "minute"),
    [
        # A time turned down is no pick; the one asked for after it is.
        ("oh nine is way too early for me could she do eleven on wednesday", dt.date(2026, 11, 25), 11, 0),
        # When the lead is free ("I get off at three") bounds the time asked for after it.
        ("thursday i get off at three so can she do three thirty", dt.date(2026, 11, 26), 15, 30),
        # A day of the month after a holiday named is the one after it.
        ("after christmas, try me the twenty ninth around two", dt.date(2026, 12, 29), 14, 0),
    ],
)
def test_a_time_refused_or_lived_by_gives_way_to_the_one_asked_for(
    text: str, day: dt.date, hour: int, minute: int
) -> None:
    when = _when(text)

    assert (when.day, when.hour, when.minute) == (day, hour, minute)


def test_when_someone_gets_home_is_when_to_call() -> None:
    when = _when("she gets home around six thirty")

    assert callback_time(when, now=MONDAY) == dt.datetime(2026, 11, 23, 18, 30, tzinfo=LA)
