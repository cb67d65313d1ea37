"""Seed the states whose telemarketing laws are stricter than the federal 8:00-21:00, with their statutes.

Researched from the statutes as we understand them, not a legal opinion:
every seeded rule names its statute, and the notes say what counsel must
confirm. Where the law was uncertain the rule is the stricter reading, since a
rule too strict costs calls and one too loose costs lawsuits. Rules a broker
has already edited are only tightened, never loosened, and keep their notes.
"""

import datetime as dt

from django.db import migrations

# Weekdays as date.weekday() counts them.
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
CONFIRM = "Counsel to confirm the citation and that it covers these calls."


def fixed(name, month, day):
    return {"name": name, "kind": "fixed", "month": month, "day": day, "also_observed": True}


def nth(name, month, weekday, n):
    return {"name": name, "kind": "nth_weekday", "month": month, "weekday": weekday, "nth": n}


def easter(name, offset):
    return {"name": name, "kind": "easter", "easter_offset": offset}


NEW_YEAR = fixed("New Year's Day", 1, 1)
MLK = nth("Martin Luther King Jr. Day", 1, MON, 3)
WASHINGTON = nth("Washington's Birthday / Presidents' Day", 2, MON, 3)
MEMORIAL = nth("Memorial Day", 5, MON, -1)
JUNETEENTH = fixed("Juneteenth", 6, 19)
INDEPENDENCE = fixed("Independence Day", 7, 4)
LABOR = nth("Labor Day", 9, MON, 1)
COLUMBUS = nth("Columbus Day", 10, MON, 2)
VETERANS = fixed("Veterans Day", 11, 11)
THANKSGIVING = nth("Thanksgiving Day", 11, THU, 4)
CHRISTMAS = fixed("Christmas Day", 12, 25)
COMMON = [NEW_YEAR, MLK, MEMORIAL, INDEPENDENCE, LABOR, VETERANS, THANKSGIVING, CHRISTMAS]

# state: window, max calls per 24 hours, weekday windows (None = no calls), holidays, statute, notes.
RULES = {
    "FL": {
        "window": (dt.time(8), dt.time(20)),
        "max_calls": 3,
        "statute": "Fla. Stat. §501.616(6) (as amended 2021): commercial telephone solicitation only 8 a.m.-8 p.m. "
        "at the called person's location, and at most 3 calls from any number to a person in 24 hours on the "
        "same subject. Recording: Fla. Stat. §934.03 (all-party consent).",
        "notes": "The Florida Telephone Solicitation Act (§501.059) also governs autodialed calls. " + CONFIRM,
    },
    "OK": {
        "window": (dt.time(8), dt.time(20)),
        "max_calls": 3,
        "statute": "Okla. Stat. tit. 15, §775C.1 et seq. (Telephone Solicitation Act of 2022; limits believed in "
        "§775C.4): only 8 a.m.-8 p.m., at most 3 calls to a person in 24 hours on the same subject.",
        "notes": CONFIRM,
    },
    "MD": {
        "window": (dt.time(8), dt.time(20)),
        "max_calls": 3,
        "statute": "Md. Code, Com. Law §14-4501 et seq. (Stop the Spam Calls Act of 2023, in force 2024-01-01): "
        "only 8 a.m.-8 p.m., at most 3 calls to a person in 24 hours on the same subject. "
        "Recording: Md. Code, Cts. & Jud. Proc. §10-402 (all-party consent).",
        "notes": CONFIRM,
    },
    "WA": {
        "window": (dt.time(8), dt.time(20)),
        "statute": "RCW 80.36.390: telephone solicitation only 8 a.m.-8 p.m. at the called party's location. "
        "Recording: RCW 9.73.030 (all-party consent).",
        "notes": CONFIRM,
    },
    "TX": {
        "window": (dt.time(9), dt.time(21)),
        "days": {SUN: (dt.time(12), dt.time(21))},
        "statute": "Tex. Bus. & Com. Code §301.051: no telephone solicitation before 9 a.m. or after 9 p.m. on a "
        "weekday or Saturday, nor before noon or after 9 p.m. on Sunday.",
        "notes": CONFIRM,
    },
    "LA": {
        "window": (dt.time(8), dt.time(20)),
        "days": {SUN: None},
        "holidays": [
            *COMMON,
            fixed("Battle of New Orleans", 1, 8),
            fixed("Robert E. Lee Day", 1, 19),
            easter("Mardi Gras", -47),
            easter("Good Friday", -2),
            fixed("Confederate Memorial Day", 6, 3),
            JUNETEENTH,
            fixed("Huey P. Long Day", 8, 30),
            COLUMBUS,
            fixed("All Saints' Day", 11, 1),
        ],
        "statute": "La. R.S. 45:844.11 et seq. (Telephone Solicitation Relief Act; believed §45:844.14-.17): no "
        "telephone solicitation on Sunday or a state legal holiday (La. R.S. 1:55), and only 8 a.m.-8 p.m.",
        "notes": "Holidays are La. R.S. 1:55's list, read broadly (some are parish-only). " + CONFIRM,
    },
    "AL": {
        "window": (dt.time(8), dt.time(20)),
        "days": {SUN: None},
        "holidays": [
            *COMMON,
            WASHINGTON,
            easter("Mardi Gras", -47),
            nth("Confederate Memorial Day", 4, MON, 4),
            nth("Jefferson Davis' Birthday", 6, MON, 1),
            JUNETEENTH,
            COLUMBUS,
        ],
        "statute": "Ala. Code §8-19A-1 et seq. (Alabama Telemarketing Act) and §8-19C (do-not-call): believed to "
        "bar telephone solicitation on Sundays and state holidays (Ala. Code §1-3-8); hours kept at 8 a.m.-8 p.m.",
        "notes": "Uncertain: the Sunday/holiday bar and the hours are the strict reading. " + CONFIRM,
    },
    "MS": {
        "window": (dt.time(8), dt.time(20)),
        "days": {SUN: None},
        "statute": "Miss. Code Ann. §77-3-725 et seq. (Telephone Solicitation Act): only 8 a.m.-8 p.m., "
        "no telephone solicitation on Sunday.",
        "notes": CONFIRM,
    },
    "UT": {
        "window": (dt.time(8), dt.time(21)),
        "days": {SUN: None},
        "holidays": [
            *COMMON,
            WASHINGTON,
            JUNETEENTH,
            fixed("Pioneer Day", 7, 24),
            COLUMBUS,
        ],
        "statute": "Utah Code §13-25a-103 (Telephone and Facsimile Solicitation Act): no unsolicited calls "
        "before 8 a.m. or after 9 p.m., nor on Sunday or a legal holiday (Utah Code §63G-1-301).",
        "notes": CONFIRM,
    },
    "RI": {
        "window": (dt.time(9), dt.time(18)),
        "days": {SAT: (dt.time(10), dt.time(17)), SUN: None},
        "holidays": [*COMMON, WASHINGTON, nth("Victory Day", 8, MON, 2), COLUMBUS],
        "statute": "R.I. Gen. Laws §5-61-1 et seq. (Telephone Sales Solicitation Act; hours believed in "
        "§5-61-3.4): 9 a.m.-6 p.m. Monday-Friday, 10 a.m.-5 p.m. Saturday, none on Sunday or a state holiday.",
        "notes": CONFIRM,
    },
    "MA": {
        "window": (dt.time(8), dt.time(20)),
        "statute": "M.G.L. c. 159C and 201 CMR 12.00 (telemarketing): only 8 a.m.-8 p.m. "
        "Recording: M.G.L. c. 272 §99 (all-party consent).",
        "notes": CONFIRM,
    },
    "CT": {
        "window": (dt.time(9), dt.time(20)),
        "statute": "Conn. Gen. Stat. §42-288a (as amended by Public Act 23-98, 2023): telephonic sales calls "
        "only 9 a.m.-8 p.m.",
        "notes": CONFIRM,
    },
    "KY": {
        "window": (dt.time(10), dt.time(21)),
        "statute": "KRS 367.46955(15): telephone solicitation only 10 a.m.-9 p.m.",
        "notes": "Uncertain: kept at the strict 10 a.m. start. " + CONFIRM,
    },
    "MN": {
        "window": (dt.time(9), dt.time(21)),
        "statute": "Minn. Stat. §325E.27: calls using an automatic dialing-announcing device only 9 a.m.-9 p.m.",
        "notes": "Applies if an AI voice counts as such a device; kept as if it does. " + CONFIRM,
    },
}

# The statutes behind the all-party-consent rules 0003 seeded without a citation.
RECORDING_STATUTES = {
    "CA": "Cal. Penal Code §632 (all-party consent to record a confidential communication).",
    "DE": "11 Del. C. §1335(a)(4) (all-party consent; courts have also read §2402 as one-party).",
    "IL": "720 ILCS 5/14-2 (all-party consent to record a private conversation).",
    "MT": "Mont. Code Ann. §45-8-213 (all-party consent, with a notice exception).",
    "NV": "NRS 200.620 (all-party consent for telephone calls, Lane v. Allstate, 1998).",
    "NH": "RSA 570-A:2 (all-party consent).",
    "PA": "18 Pa.C.S. §5703-5704 (all-party consent).",
}

# Notes 0003 seeded for FL and OK; replaced when no one has edited them since.
SEEDED_NOTES = {
    "FL": "Fla. Stat. 501.059: 8:00-20:00, at most 3 calls per 24 hours; all-party consent to recording",
    "OK": "Okla. Telephone Solicitation Act: 8:00-20:00, at most 3 calls per 24 hours",
}
# States 0003 seeded; unseeding leaves their rules (with their days and holidays removed).
EARLIER_STATES = {"FL", "OK", "CA", "DE", "IL", "MD", "MA", "MT", "NV", "NH", "PA", "WA"}


def state_rules_statutes_seed(apps, schema_editor):
    StateRule = apps.get_model("calls", "StateRule")
    for state, spec in RULES.items():
        start, end = spec["window"]
        rule, created = StateRule.objects.get_or_create(
            state=state,
            defaults={
                "window_start": start,
                "window_end": end,
                "max_calls_per_24h": spec.get("max_calls"),
                "statute": spec["statute"],
                "notes": spec["notes"],
            },
        )
        if not created:
            _tighten(rule, spec)
        _days_holidays_add(apps, rule, spec)
    for state, statute in RECORDING_STATUTES.items():
        StateRule.objects.filter(state=state, statute="").update(statute=statute)


def _tighten(rule, spec):
    start, end = max(rule.window_start, spec["window"][0]), min(rule.window_end, spec["window"][1])
    if start < end:
        rule.window_start, rule.window_end = start, end
    if spec.get("max_calls") is not None:
        rule.max_calls_per_24h = min(rule.max_calls_per_24h or spec["max_calls"], spec["max_calls"])
    if not rule.statute:
        rule.statute = spec["statute"]
    if rule.notes in ("", SEEDED_NOTES.get(rule.state), "all-party consent to recording"):
        rule.notes = spec["notes"]
    rule.save()


def _days_holidays_add(apps, rule, spec):
    StateRuleDay = apps.get_model("calls", "StateRuleDay")
    StateHoliday = apps.get_model("calls", "StateHoliday")
    for weekday, window in spec.get("days", {}).items():
        start, end = window or (None, None)
        StateRuleDay.objects.get_or_create(
            rule=rule, weekday=weekday, defaults={"window_start": start, "window_end": end}
        )
    for holiday in spec.get("holidays", []):
        StateHoliday.objects.get_or_create(rule=rule, name=holiday["name"], defaults=holiday)


def state_rules_statutes_unseed(apps, schema_editor):
    StateRule = apps.get_model("calls", "StateRule")
    # Windows tightened on rules that existed before stay as they are: reversing
    # cannot tell a seeded change from a broker's later edit.
    seeded = StateRule.objects.filter(state__in=RULES)
    apps.get_model("calls", "StateRuleDay").objects.filter(rule__in=seeded).delete()
    apps.get_model("calls", "StateHoliday").objects.filter(rule__in=seeded).delete()
    seeded.exclude(state__in=EARLIER_STATES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0011_state_rule_days_holidays"),
    ]

    operations = [
        migrations.RunPython(state_rules_statutes_seed, state_rules_statutes_unseed),
    ]
