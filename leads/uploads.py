"""Refuse a lead file over LEAD_IMPORT_MAX_BYTES while it uploads, before it is kept in memory or on disk."""

from __future__ import annotations

from typing import IO, NoReturn

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

# Room in a request's body for everything but the file: the multipart framing, the CSRF token and the
# source field take well under this, so a longer body cannot hold a file within the limit.
FORM_OVERHEAD_BYTES = 64 * 1024


def lead_file_too_large_message(*, name: str, size: str, limit: int) -> str:
    """Return why a lead file was refused, naming the limit and the setting that sets it."""
    return (
        f"{name} is {size}; the most one import takes is {filesizeformat(limit)} (LEAD_IMPORT_MAX_BYTES). "
        "Split it into smaller files."
    )


class LeadFileLimitHandler(FileUploadHandler):
    """Stop reading an upload once its file is known to be over LEAD_IMPORT_MAX_BYTES.

    Known from the request's Content-Length when the file's part begins, or from the bytes received
    so far. It must come first in request.upload_handlers: the memory and temporary-file handlers
    after it then never get a refused byte. After a refusal the file is missing from request.FILES
    and `refusal` says why.
    """

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit: int = settings.LEAD_IMPORT_MAX_BYTES
        self.body_bytes = 0
        self.refusal: str | None = None

    def handle_raw_input(
        self,
        input_data: IO[bytes],
        META: dict[str, str],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        # Not refused here but where the file's part begins: the CSRF token is sent before the file,
        # and a body left unread here would turn the refusal into a CSRF failure.
        self.body_bytes = content_length

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, bytes] | None = None,
    ) -> None:
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        if self.body_bytes > self.limit + FORM_OVERHEAD_BYTES:
            # The body's size stands for the file's: the rest of the form is a few hundred bytes.
            self._refuse(filesizeformat(self.body_bytes))

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self._refuse(f"more than {filesizeformat(self.limit)}")
        return raw_data

    def file_complete(self, file_size: int) -> None:
        # The handlers after this one keep the file.
        return None

    def _refuse(self, size: str) -> NoReturn:
        self.refusal = lead_file_too_large_message(name=self.file_name or "The file", size=size, limit=self.limit)
        # connection_reset: Django leaves the rest of the body unread instead of reading it to its end.
        raise StopUpload(connection_reset=True)
