"""The one module that talks to ElevenLabs: a sentence's speech, streamed as raw PCM.

The official `elevenlabs` client does the HTTP (POST /v1/text-to-speech/{voice_id}/stream).
This module adds what a live phone call needs on top: audio at the pipeline's
own sample rate as raw 16-bit PCM, so nothing is decoded or resampled; a
deadline on the first audio and on every later chunk, because a stalled stream
is silence on the line; and one exception type for every way it can fail.
`ELEVENLABS_BASE_URL` points the client at another host, so tests replay
ElevenLabs' wire format from a local server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, contextmanager
from typing import Any

import httpx
from django.conf import settings
from elevenlabs.client import AsyncElevenLabs
from elevenlabs.core.api_error import ApiError
from elevenlabs.core.http_response import AsyncHttpResponse
from elevenlabs.core.parse_error import ParsingError
from elevenlabs.text_to_speech.client import AsyncTextToSpeechClient

# Raw PCM rates ElevenLabs streams (16-bit little-endian mono). pcm_44100 needs
# the Pro plan, so a pipeline at 44.1 kHz asks for 16 kHz and Pipecat resamples.
PCM_RATES = frozenset({8000, 16000, 22050, 24000, 32000, 48000})
FALLBACK_PCM_RATE = 16000
# Chunks of 40 ms: the first words reach the caller without waiting for more,
# and a sentence is tens of frames rather than thousands.
CHUNK_MS = 40
# Error bodies from proxies can be whole HTML pages; keep log lines readable.
MESSAGE_LIMIT = 300


class ElevenLabsError(RuntimeError):
    """ElevenLabs refused, failed or stalled; the message says why.

    Attributes:
        status_code: the HTTP status, or None when no answer came (timeout, connection lost).
        code: ElevenLabs' `detail.status`, e.g. "invalid_api_key" or "quota_exceeded", when it sent one.
    """

    def __init__(self, message: str, *, status_code: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code


def is_configured() -> bool:
    """Return whether an API key is set, i.e. whether the premium voice tier exists at all."""
    return bool(settings.ELEVENLABS_API_KEY)


def pcm_rate_for(sample_rate: int) -> int:
    """Return the PCM rate to ask for: the pipeline's own when ElevenLabs offers it."""
    return sample_rate if sample_rate in PCM_RATES else FALLBACK_PCM_RATE


class ElevenLabsSpeech:
    """Text-to-speech on one connection to ElevenLabs, kept open between a call's sentences.

    Make one per call and `aclose()` it when the call ends: httpx keeps the
    connection alive between requests, so only the first sentence pays for
    the TCP and TLS handshakes.
    """

    def __init__(self, *, api_key: str, voice_id: str, model_id: str, base_url: str, timeout_s: float) -> None:
        self.voice_id = voice_id
        self.model_id = model_id
        self.timeout_s = timeout_s
        # SpeechStream's deadlines are what bound a stall; httpx's own timeout
        # (per connect, write and read) only backs them up.
        self._http = httpx.AsyncClient(timeout=timeout_s)
        client = AsyncElevenLabs(api_key=api_key, base_url=base_url, httpx_client=self._http)
        # The client's properties are unannotated; name the type once here.
        self._tts: AsyncTextToSpeechClient = client.text_to_speech

    @classmethod
    def from_settings(cls) -> ElevenLabsSpeech:
        """Return a connection configured by the ELEVENLABS_* settings."""
        if not is_configured():
            raise ElevenLabsError("ELEVENLABS_API_KEY is empty, so there is no premium voice")
        return cls(
            api_key=settings.ELEVENLABS_API_KEY,
            voice_id=settings.ELEVENLABS_VOICE_ID,
            model_id=settings.ELEVENLABS_MODEL_ID,
            base_url=settings.ELEVENLABS_BASE_URL,
            timeout_s=settings.ELEVENLABS_TIMEOUT_S,
        )

    def stream(self, *, text: str, sample_rate: int) -> SpeechStream:
        """Return the speech for text; the request is sent when the result is iterated.

        Args:
            text: what to say, usually one sentence.
            sample_rate: the rate the caller wants; see `SpeechStream.sample_rate` for what arrives.

        Returns:
            A SpeechStream that yields raw PCM chunks and raises ElevenLabsError.
        """
        return SpeechStream(self, text=text, pcm_rate=pcm_rate_for(sample_rate))

    def _request(
        self, *, text: str, pcm_rate: int
    ) -> AbstractAsyncContextManager[AsyncHttpResponse[AsyncIterator[bytes]]]:
        return self._tts.with_raw_response.stream(
            self.voice_id,
            text=text,
            model_id=self.model_id,
            output_format=f"pcm_{pcm_rate}",
            # No retries: a second try would use up the silence budget, and
            # the caller's fallback (Piper) is the better retry.
            request_options={"chunk_size": pcm_rate * 2 * CHUNK_MS // 1000, "max_retries": 0},
        )

    async def aclose(self) -> None:
        await self._http.aclose()


class SpeechStream:
    """One text's speech from ElevenLabs; iterate it once for raw 16-bit mono PCM chunks.

    Iterating sends the request. Waiting longer than the speech's `timeout_s`
    for the first audio (connecting included) or for any later chunk raises
    ElevenLabsError, as do HTTP errors, a dropped connection and a 200 that
    carries no audio. When ElevenLabs answers 200, which is when it bills the
    text, `accepted` turns True and `request_id` and `character_cost` are read
    from its headers.
    """

    def __init__(self, speech: ElevenLabsSpeech, *, text: str, pcm_rate: int) -> None:
        self.text = text
        self.sample_rate = pcm_rate
        self.accepted = False
        self.request_id: str | None = None
        self.character_cost: int | None = None
        self._speech = speech

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        timeout_s = self._speech.timeout_s
        async with AsyncExitStack() as stack:
            # The deadline never spans a yield: the consumer's own awaits must
            # not be cancelled by it.
            with _as_elevenlabs_error(timeout_s):
                async with asyncio.timeout(timeout_s):
                    response = await stack.enter_async_context(
                        self._speech._request(text=self.text, pcm_rate=self.sample_rate)
                    )
                    self._accept(response.headers)
                    chunks = aiter(response.data)
                    chunk = await anext(chunks, None)
            if chunk is None:
                raise ElevenLabsError("ElevenLabs answered 200 with no audio", status_code=200)
            while chunk is not None:
                yield chunk
                with _as_elevenlabs_error(timeout_s):
                    async with asyncio.timeout(timeout_s):
                        chunk = await anext(chunks, None)

    def _accept(self, headers: Mapping[str, str]) -> None:
        content_type = headers.get("content-type", "")
        # Raw PCM has no header to check, but a JSON or HTML body on a 200
        # (a proxy, or an API change) is certainly not audio.
        if content_type.startswith(("application/json", "text/")):
            raise ElevenLabsError(f"ElevenLabs answered 200 with {content_type} instead of audio", status_code=200)
        self.accepted = True
        self.request_id = headers.get("request-id")
        cost = headers.get("character-cost", "")
        self.character_cost = int(cost) if cost.isdigit() else None


@contextmanager
def _as_elevenlabs_error(timeout_s: float) -> Iterator[None]:
    try:
        yield
    except ApiError as exc:
        raise _api_error(exc) from exc
    except ParsingError as exc:
        raise ElevenLabsError(
            f"ElevenLabs sent a body its client could not parse (HTTP {exc.status_code})", status_code=exc.status_code
        ) from exc
    except TimeoutError as exc:
        raise ElevenLabsError(f"ElevenLabs sent no audio for {timeout_s:g} s") from exc
    except httpx.HTTPError as exc:
        raise ElevenLabsError(f"ElevenLabs connection failed: {type(exc).__name__}: {exc}") from exc


def _api_error(exc: ApiError) -> ElevenLabsError:
    status = exc.status_code
    code, message = _detail(exc.body)
    if status in (401, 403):
        what = "ElevenLabs refused the API key or its quota"
    elif status == 429:
        what = "ElevenLabs is rate limiting this account"
    elif status is not None and status >= 500:
        what = "ElevenLabs failed"
    else:
        what = "ElevenLabs rejected the request"
    label = f"HTTP {status} {code}" if code else f"HTTP {status}"
    return ElevenLabsError(f"{what} ({label}): {message[:MESSAGE_LIMIT]}", status_code=status, code=code)


def _detail(body: Any) -> tuple[str | None, str]:
    """Return ElevenLabs' error code and message from an error body of any shape."""
    if not isinstance(body, Mapping):
        return None, str(body).strip() or "(empty body)"
    detail = body.get("detail", body)
    if isinstance(detail, Mapping):
        code = detail.get("status")
        return (str(code) if code else None), str(detail.get("message") or detail)
    if isinstance(detail, list):
        # Request validation errors (422) list one entry per bad field.
        return None, "; ".join(
            str(item.get("msg", item)) if isinstance(item, Mapping) else str(item) for item in detail
        )
    return None, str(detail)
