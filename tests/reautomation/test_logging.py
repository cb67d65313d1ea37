from __future__ import annotations

import json
import logging

from reautomation.logging import ConsoleFormatter, JsonFormatter


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord("leads.services", logging.INFO, __file__, 1, "lead import %s", ("finished",), None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_it_writes_one_json_object_with_the_extra_fields() -> None:
    line = JsonFormatter().format(_record(lead_import=7, imported=3))
    payload = json.loads(line)
    assert payload["event"] == "lead import finished"
    assert payload["level"] == "info"
    assert payload["logger"] == "leads.services"
    assert (payload["lead_import"], payload["imported"]) == (7, 3)
    assert "\n" not in line


def test_it_appends_extra_fields_to_console_lines() -> None:
    line = ConsoleFormatter().format(_record(call_sid="CA123"))
    assert line.endswith("leads.services: lead import finished [call_sid=CA123]")
