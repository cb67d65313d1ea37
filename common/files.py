"""Hand a stored file to a caller the view has already authorised: whole, or the byte range asked for.

Recordings hold a lead's voice, so they are never served as public media: the dashboard and the API
each check who is asking, then answer through `file_response`. Browsers' <audio> elements ask for
byte ranges (to seek, and Safari before it plays at all), so a Range header gets a 206.
"""

from __future__ import annotations

import mimetypes
import re
from typing import IO

from django.core.files.storage import Storage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Slice:
    """A read-only window of `length` bytes of an open file, for FileResponse to stream."""

    def __init__(self, file: IO[bytes], length: int) -> None:
        self._file, self._left = file, length

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._file.read(size) if size else b""
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()


def file_response(
    request: HttpRequest, *, storage: Storage, name: str, content_type: str, filename: str
) -> HttpResponseBase:
    """Answer with the stored file, or with the part a single `Range: bytes=...` header asks for.

    Args:
        request: the request, already authorised to read this file.
        storage: where the file is stored (a FileField's storage).
        name: the file's name in that storage.
        content_type: the Content-Type to answer with.
        filename: the name a browser saves the download under.

    Returns:
        200 with the whole file; 206 with the range; 416 when the range lies outside the file.
    """
    response = _file_or_range(request, storage=storage, name=name, content_type=content_type, filename=filename)
    # A recording is a lead's voice: no proxy or browser cache may keep a copy once the player is closed.
    response["Cache-Control"] = "no-store"
    return response


def _file_or_range(
    request: HttpRequest, *, storage: Storage, name: str, content_type: str, filename: str
) -> HttpResponseBase:
    size = storage.size(name)
    match = _RANGE.match(request.headers.get("Range", "").strip())
    if match is None or match.groups() == ("", ""):
        # No range, or one this parser does not take (several ranges): the whole file is a valid answer.
        whole = FileResponse(storage.open(name, "rb"), content_type=content_type, filename=filename)
        whole["Accept-Ranges"] = "bytes"
        return whole
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    else:
        start, end = max(size - int(last), 0), size - 1  # "bytes=-500": the last 500 bytes
    if start >= size or start > end:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    file = storage.open(name, "rb")
    file.seek(start)
    length = end - start + 1
    part = FileResponse(_Slice(file, length), status=206, content_type=content_type, filename=filename)
    part["Content-Length"] = str(length)
    part["Content-Range"] = f"bytes {start}-{end}/{size}"
    part["Accept-Ranges"] = "bytes"
    return part


def field_file_response(request: HttpRequest, file: FieldFile, *, filename: str) -> HttpResponseBase:
    """`file_response` for a model's FileField, its type guessed from its name (a .wav is audio/wav)."""
    content_type = mimetypes.guess_type(file.name or "")[0] or "application/octet-stream"
    if content_type == "audio/x-wav":
        content_type = "audio/wav"
    return file_response(
        request, storage=file.storage, name=str(file.name), content_type=content_type, filename=filename
    )
