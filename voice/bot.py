"""The per-call Pipecat pipeline: Twilio audio in, the agent brain, speech back out."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.audio.audio_buffer_processor import AudioBufferProcessor
from pipecat.serializers.base_serializer import FrameSerializer
from pipecat.serializers.twilio import TwilioFrameSerializer
from pipecat.services.tts_service import TTSService
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from voice.brain import BrainProcessor, Conversation, LeadSilentFrame, TurnTiming
from voice.latency import LatencyObserver, SpeakingObserver
from voice.speech import LocalWhisperSTTService, tts_service_for
from voice.transport import ChannelsTransport, ChannelsTransportParams, SocketBridge
from voice.turns import SharedSileroVADAnalyzer, turn_start_strategies, turn_stop_strategy

logger = logging.getLogger(__name__)

# Whisper and Smart Turn want 16 kHz; Twilio speaks 8 kHz mu-law. The
# serializer resamples on the way in and out.
PIPELINE_IN_RATE = 16000
TWILIO_RATE = 8000


@dataclass
class CallPipeline:
    """What a running call needs to drive and observe its pipeline."""

    worker: PipelineWorker
    transport: ChannelsTransport
    brain: BrainProcessor
    stt: LocalWhisperSTTService
    tts: TTSService
    recorder: AudioBufferProcessor
    latency: LatencyObserver
    speaking: SpeakingObserver


def build_pipeline(
    *,
    bridge: SocketBridge,
    stream_sid: str,
    conversation: Conversation,
    on_end_call: Callable[[], Awaitable[None]],
    on_turn: Callable[[TurnTiming], None],
    voice_tier: str = "standard",
    stt_vocabulary: Sequence[str] = (),
    serializer: FrameSerializer | None = None,
    out_rate: int = TWILIO_RATE,
    silence_prompt_s: float | None = None,
) -> CallPipeline:
    """Assemble the pipeline for one call: a Twilio media stream, or a browser test call.

    Args:
        bridge: the consumer's side of the websocket.
        stream_sid: Twilio's stream SID, echoed in every message we send.
        conversation: the agent brain for this call.
        on_end_call: awaited when the brain ends the call.
        on_turn: called with each brain turn's timing.
        voice_tier: the call's Call.voice_tier; "premium" speaks through
            ElevenLabs when it is configured.
        stt_vocabulary: names the lead may say (campaign, agent, brokers, the lead's own), for Whisper's prompt.
        serializer: the wire format; Twilio's media-stream format unless given
            (the browser test call gives voice.serializers.BrowserAudioSerializer).
        out_rate: the sample rate of the audio sent out (Twilio's 8 kHz unless given).
        silence_prompt_s: seconds of the lead's silence before "Are you still there?"
            (SILENCE_PROMPT_S unless given; 0 turns it off).

    Returns:
        The worker to run and the processors the session reads from.
    """
    # Hang-up goes through integrations.twilio.client after the goodbye has
    # played (Twilio's mark), not through the serializer's own REST call.
    if serializer is None:
        serializer = TwilioFrameSerializer(
            stream_sid=stream_sid, params=TwilioFrameSerializer.InputParams(auto_hang_up=False)
        )
    transport = ChannelsTransport(
        bridge=bridge,
        params=ChannelsTransportParams(audio_in_enabled=True, audio_out_enabled=True, serializer=serializer),
    )
    speaking = SpeakingObserver()
    brain = BrainProcessor(conversation=conversation, on_end_call=on_end_call, on_turn=on_turn, speaking=speaking)
    context = LLMContext()
    user_aggregator, assistant_aggregator = LLMContextAggregatorPair(
        context,
        user_params=LLMUserAggregatorParams(
            vad_analyzer=SharedSileroVADAnalyzer(params=VADParams(stop_secs=settings.VAD_STOP_SECS)),
            user_turn_strategies=UserTurnStrategies(start=turn_start_strategies(), stop=[turn_stop_strategy()]),
            user_idle_timeout=settings.SILENCE_PROMPT_S if silence_prompt_s is None else silence_prompt_s,
        ),
    )

    @user_aggregator.event_handler("on_user_turn_idle")
    async def on_user_turn_idle(_aggregator: object) -> None:
        await brain.queue_frame(LeadSilentFrame())

    stt = LocalWhisperSTTService(vocabulary=stt_vocabulary)
    tts = tts_service_for(tier=voice_tier)
    recorder = AudioBufferProcessor(sample_rate=out_rate, num_channels=2)
    pipeline = Pipeline(
        [
            transport.input(),
            stt,
            user_aggregator,
            brain,
            tts,
            transport.output(),
            recorder,
            assistant_aggregator,
        ]
    )
    latency = LatencyObserver()
    bridge.on_media_sent = lambda _at: latency.media_sent()
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(audio_in_sample_rate=PIPELINE_IN_RATE, audio_out_sample_rate=out_rate),
        observers=[latency, speaking],
        # A phone call ends when the lead hangs up or the brain says goodbye,
        # never because the pipeline was quiet for a while.
        cancel_on_idle_timeout=False,
    )
    return CallPipeline(
        worker=worker,
        transport=transport,
        brain=brain,
        stt=stt,
        tts=tts,
        recorder=recorder,
        latency=latency,
        speaking=speaking,
    )
