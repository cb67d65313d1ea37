"""A Pipecat transport whose far end is a Django Channels websocket consumer.

Pipecat ships no Channels transport. Its FastAPI transport pulls messages from
a Starlette WebSocket itself; a Channels consumer instead gets each message
pushed into `receive()` by Channels' own loop. So the consumer puts the raw
Twilio messages on an asyncio queue, which this transport's input drains, and
the output sends through a callable the consumer provides. The pipeline then
runs as a separate task and never blocks the consumer's message loop (the
freeze reported in pipecat#1919 came from awaiting the pipeline inside the
consumer's handler). The input and output halves follow pinned pipecat-ai
1.14's FastAPIWebsocketInputTransport/OutputTransport.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from pipecat.frames.frames import (
    CancelFrame,
    ClientConnectedFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    OutputTransportMessageFrame,
    OutputTransportMessageUrgentFrame,
    StartFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessorSetup
from pipecat.serializers.base_serializer import FrameSerializer
from pipecat.transports.base_input import BaseInputTransport
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.base_transport import BaseTransport, TransportParams

logger = logging.getLogger(__name__)

# A websocket message: Twilio's are JSON text, the browser test call's audio is binary.
Message = str | bytes
Send = Callable[[Message], Awaitable[None]]
Close = Callable[[], Awaitable[None]]


class ChannelsTransportParams(TransportParams):
    serializer: FrameSerializer | None = None


class SocketBridge:
    """The consumer's side of the transport: an inbox of raw messages and a way to send and close."""

    def __init__(self, *, send: Send, close: Close) -> None:
        self.inbox: asyncio.Queue[Message | None] = asyncio.Queue()
        self._send = send
        self._close = close
        self.connected = True
        self.closing = False
        # Monotonic time of the first outbound media message after each clear
        # or turn; the latency tracker reads it.
        self.on_media_sent: Callable[[float], None] | None = None

    def feed(self, message: Message) -> None:
        """Queue one raw websocket message for the pipeline (called by the consumer)."""
        self.inbox.put_nowait(message)

    def end_of_input(self) -> None:
        """Tell the pipeline no more audio will come (stop event, closed socket or hang-up)."""
        self.inbox.put_nowait(None)

    async def messages(self) -> AsyncIterator[Message]:
        while (message := await self.inbox.get()) is not None:
            yield message

    async def send(self, data: Message) -> None:
        if not self.connected or self.closing:
            return
        try:
            await self._send(data)
        except Exception as exc:  # noqa: BLE001 - a dead socket must not kill the pipeline.
            logger.warning("media stream send failed", extra={"error": repr(exc)})
            self.connected = False
            return
        is_media = isinstance(data, bytes) or data.startswith('{"event": "media"')
        if self.on_media_sent is not None and is_media:
            self.on_media_sent(time.monotonic())

    async def disconnect(self) -> None:
        if self.closing:
            return
        self.closing = True
        if self.connected:
            self.connected = False
            await self._close()


class ChannelsInputTransport(BaseInputTransport):
    """Deserialize queued socket messages (Twilio's, or the browser test call's) into audio and DTMF frames."""

    def __init__(self, transport: ChannelsTransport, bridge: SocketBridge, params: ChannelsTransportParams) -> None:
        super().__init__(params)
        self._transport = transport
        self._bridge = bridge
        self._params: ChannelsTransportParams = params
        self._receive_task: asyncio.Task[None] | None = None

    async def setup(self, setup: FrameProcessorSetup) -> None:  # type: ignore[override]  # pipecat's own signature
        await super().setup(setup)
        if self._params.serializer:
            await self._params.serializer.setup(setup)

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        await self._transport.call_event("on_client_connected")
        await self.push_frame(ClientConnectedFrame())
        if self._receive_task is None:
            self._receive_task = self.create_task(self._receive_messages())
        await self.set_transport_ready(frame)

    async def stop(self, frame: EndFrame) -> None:
        await super().stop(frame)
        await self._stop_receiving()

    async def cancel(self, frame: CancelFrame) -> None:
        await super().cancel(frame)
        await self._stop_receiving()

    async def cleanup(self) -> None:
        await super().cleanup()
        await self._stop_receiving()

    async def _stop_receiving(self) -> None:
        if self._receive_task is not None:
            await self.cancel_task(self._receive_task)
            self._receive_task = None

    async def _receive_messages(self) -> None:
        serializer = self._params.serializer
        async for message in self._bridge.messages():
            if serializer is None:
                continue
            try:
                frame = await serializer.deserialize(message)
            except Exception as exc:  # noqa: BLE001 - one bad frame must not end the call.
                logger.warning("undecodable media frame dropped", extra={"error": repr(exc)})
                continue
            if isinstance(frame, InputAudioRawFrame):
                await self.push_audio_frame(frame)
            elif frame is not None:
                await self.push_frame(frame)
        if not self._bridge.closing:
            await self._transport.call_event("on_client_disconnected")


class ChannelsOutputTransport(BaseOutputTransport):
    """Serialize audio and control frames and send them back through the consumer."""

    def __init__(self, transport: ChannelsTransport, bridge: SocketBridge, params: ChannelsTransportParams) -> None:
        super().__init__(params)
        self._transport = transport
        self._bridge = bridge
        self._params: ChannelsTransportParams = params
        # Pace audio like a sound card would, so an interruption can still
        # clear what Twilio has not yet played (Pipecat's websocket transports
        # do the same).
        self._send_interval = 0.0
        self._next_send_time = 0.0

    async def setup(self, setup: FrameProcessorSetup) -> None:  # type: ignore[override]  # pipecat's own signature
        await super().setup(setup)
        self._send_interval = (self.audio_chunk_size / self.sample_rate) / 2
        if self._params.serializer:
            await self._params.serializer.setup(setup)

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        await self.set_transport_ready(frame)

    async def stop(self, frame: EndFrame) -> None:
        await super().stop(frame)
        await self._write_frame(frame)

    async def cancel(self, frame: CancelFrame) -> None:
        await super().cancel(frame)
        await self._write_frame(frame)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InterruptionFrame):
            await self._write_frame(frame)
            self._next_send_time = 0.0

    async def send_message(self, frame: OutputTransportMessageFrame | OutputTransportMessageUrgentFrame) -> None:
        await self._write_frame(frame)

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        if not self._bridge.connected:
            return False
        frame = OutputAudioRawFrame(audio=frame.audio, sample_rate=self.sample_rate, num_channels=1)
        if not await self._write_frame(frame):
            return False
        now = time.monotonic()
        sleep_for = max(0.0, self._next_send_time - now)
        await asyncio.sleep(sleep_for)
        self._next_send_time = (time.monotonic() if sleep_for == 0 else self._next_send_time) + self._send_interval
        return True

    async def _write_frame(self, frame: Frame) -> bool:
        serializer = self._params.serializer
        if serializer is None or not self._bridge.connected:
            return False
        try:
            payload = await serializer.serialize(frame)
        except Exception as exc:  # noqa: BLE001 - log and keep the call alive.
            logger.error("could not serialize frame", extra={"frame": type(frame).__name__, "error": repr(exc)})
            return False
        if payload:
            await self._bridge.send(payload)
        return True


class ChannelsTransport(BaseTransport):
    """Bidirectional Pipecat transport over a SocketBridge.

    Event handlers: on_client_connected(transport), on_client_disconnected(transport).
    """

    def __init__(self, *, bridge: SocketBridge, params: ChannelsTransportParams) -> None:
        super().__init__()
        self.bridge = bridge
        self._input = ChannelsInputTransport(self, bridge, params)
        self._output = ChannelsOutputTransport(self, bridge, params)
        self._register_event_handler("on_client_connected")
        self._register_event_handler("on_client_disconnected")

    def input(self) -> ChannelsInputTransport:
        return self._input

    def output(self) -> ChannelsOutputTransport:
        return self._output

    async def call_event(self, name: str, *args: Any) -> None:
        await self._call_event_handler(name, *args)
