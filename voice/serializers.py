"""The browser test call's wire format, as a Pipecat frame serializer.

Twilio's serializer speaks base64 mu-law inside JSON; a browser has no need
for that. The dashboard's test-call page (static/dashboard/test_call.js) sends
the microphone as binary websocket messages of 16-bit little-endian mono PCM at
BROWSER_RATE, and plays back the agent's audio in the same format. Control and
transcript messages are JSON text: {"type": "clear"} when the lead interrupts
the agent (drop what is queued), and whatever the session sends (transcript
lines, the end of the call, warnings).
"""

from __future__ import annotations

import json

from pipecat.frames.frames import (
    AudioRawFrame,
    Frame,
    InputAudioRawFrame,
    InterruptionFrame,
    OutputTransportMessageFrame,
    OutputTransportMessageUrgentFrame,
)
from pipecat.serializers.base_serializer import FrameSerializer

BROWSER_RATE = 16000
# One message holds at most one second of audio; the page sends 20-40 ms at a time.
MAX_AUDIO_BYTES = BROWSER_RATE * 2


class BadAudioFrame(ValueError):
    """A binary message that is not 16-bit mono PCM within the size limit."""


def audio_frame_check(data: bytes) -> None:
    """Raise BadAudioFrame, saying what is wrong, unless `data` is a usable PCM16 chunk."""
    if not data:
        raise BadAudioFrame("empty audio message")
    if len(data) % 2:
        raise BadAudioFrame(f"audio message of {len(data)} bytes: 16-bit PCM needs an even number of bytes")
    if len(data) > MAX_AUDIO_BYTES:
        raise BadAudioFrame(f"audio message of {len(data)} bytes: at most {MAX_AUDIO_BYTES} (one second) per message")


class BrowserAudioSerializer(FrameSerializer):
    """PCM16 mono at BROWSER_RATE both ways as binary messages; JSON text for everything else."""

    async def serialize(self, frame: Frame) -> str | bytes | None:
        if isinstance(frame, InterruptionFrame):
            return json.dumps({"type": "clear"})
        if isinstance(frame, AudioRawFrame):
            # The pipeline's output rate is BROWSER_RATE for a test call, so no resampling here.
            return frame.audio or None
        if isinstance(frame, OutputTransportMessageFrame | OutputTransportMessageUrgentFrame):
            if self.should_ignore_frame(frame):
                return None
            return json.dumps(frame.message)
        return None

    async def deserialize(self, data: str | bytes) -> Frame | None:
        # Text messages are the consumer's business (hang-up); only audio reaches the pipeline.
        if isinstance(data, str):
            return None
        audio_frame_check(data)
        return InputAudioRawFrame(audio=bytes(data), sample_rate=BROWSER_RATE, num_channels=1)
