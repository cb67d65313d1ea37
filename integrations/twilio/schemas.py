"""Twilio webhook payloads (form fields) as pydantic models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _TwilioForm(BaseModel):
    # Twilio adds fields over time (CallerCountry, StirVerstat, ...); keep what we need.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    call_sid: str = Field(alias="CallSid", pattern=r"^CA[0-9a-f]{32}$")


class VoiceWebhook(_TwilioForm):
    call_status: str = Field(alias="CallStatus")
    to: str = Field(alias="To", default="")
    from_: str = Field(alias="From", default="")


class StatusCallback(_TwilioForm):
    call_status: str = Field(alias="CallStatus")
    call_duration: int | None = Field(alias="CallDuration", default=None, ge=0)
    sequence_number: int | None = Field(alias="SequenceNumber", default=None)


class AmdCallback(_TwilioForm):
    answered_by: str = Field(alias="AnsweredBy")
    machine_detection_duration_ms: int | None = Field(alias="MachineDetectionDuration", default=None)
