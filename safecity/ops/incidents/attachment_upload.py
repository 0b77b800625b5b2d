"""Reading one attachment out of a multipart/form-data request as it streams in.

Starlette's form parser spools every file to a temporary file before the endpoint runs, so a
huge upload would fill the temporary folder before its size could be refused. Here the file
part goes straight to an ``AttachmentWriter`` chunk by chunk: it is refused at the first byte
over the limit, or at the first bytes that are not an accepted type, and nothing else is kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio.to_thread
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from safecity.ops.incidents.attachments import AttachmentWriter

if TYPE_CHECKING:  # a TypedDict the module defines for type checkers only
    from python_multipart.multipart import MultipartCallbacks

FILE_FIELD = "file"
DESCRIPTION_FIELD = "description"
MAX_FIELD_BYTES = 8 * 1024
FORM_ALLOWANCE = 64 * 1024
"""Bytes a form may carry besides the file (boundaries, part headers, the description)."""


class BadForm(ValueError):
    """The request is not the form this endpoint takes; the message says what is wrong."""


class NotMultipart(BadForm):
    pass


@dataclass
class ReceivedForm:
    file_name: str | None = None
    description: str | None = None


@dataclass
class _Part:
    name: str | None = None
    file_name: str | None = None
    text: bytearray = field(default_factory=bytearray)


class _FormReader:
    """Multipart callbacks: the file part's bytes are queued for the writer, the one text
    field is collected, anything else is refused."""

    def __init__(self) -> None:
        self.form = ReceivedForm()
        self.file_seen = False
        self.complete = False
        self.pending: list[bytes] = []
        self._part = _Part()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._end,
            "on_end": self._finished,
        }

    def _begin(self) -> None:
        self._part, self._disposition = _Part(), b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if bytes(self._header_name).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name")
        if name is None:
            raise BadForm("a form part has no name")
        self._part.name = name.decode("utf-8", "replace")
        if self._part.name == FILE_FIELD:
            if self.file_seen:
                raise BadForm("attach one file per request")
            self.file_seen = True
            raw = options.get(b"filename")
            self._part.file_name = raw.decode("utf-8", "replace") if raw is not None else None
        elif self._part.name != DESCRIPTION_FIELD:
            raise BadForm(
                f"unknown form field {self._part.name!r}; send {FILE_FIELD!r} and optionally "
                f"{DESCRIPTION_FIELD!r}"
            )

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._part.name == FILE_FIELD:
            self.pending.append(data[start:end])
            return
        self._part.text += data[start:end]
        if len(self._part.text) > MAX_FIELD_BYTES:
            raise BadForm(f"the {self._part.name!r} field is too long")

    def _end(self) -> None:
        if self._part.name == FILE_FIELD:
            self.form.file_name = self._part.file_name
        elif self._part.name == DESCRIPTION_FIELD:
            self.form.description = self._part.text.decode("utf-8", "replace")

    def _finished(self) -> None:
        self.complete = True


def check_content_type(content_type: str | None) -> bytes:
    """The multipart boundary; raises NotMultipart or BadForm."""
    kind, options = parse_options_header(content_type or "")
    if kind != b"multipart/form-data":
        raise NotMultipart(f"send the file as multipart/form-data in the {FILE_FIELD!r} field")
    boundary = options.get(b"boundary")
    if not boundary:
        raise BadForm("the multipart/form-data request has no boundary")
    return boundary


async def receive(
    content_type: str | None, body: AsyncIterator[bytes], writer: AttachmentWriter
) -> ReceivedForm:
    """Feed the request body through the multipart parser into ``writer`` (its blocking file
    writes run on a worker thread). Raises BadForm, or whatever the writer raises; the caller
    discards the writer on any error."""
    reader = _FormReader()
    parser = MultipartParser(check_content_type(content_type), reader.callbacks())
    try:
        async for chunk in body:
            parser.write(chunk)
            pending, reader.pending = reader.pending, []
            for data in pending:
                await anyio.to_thread.run_sync(writer.write, data)
        parser.finalize()
    except FormParserError as exc:
        raise BadForm("the multipart/form-data body is malformed") from exc
    if not reader.file_seen:
        raise BadForm(f"no file: send it in the {FILE_FIELD!r} field")
    if not reader.complete:
        raise BadForm("the form ended before its closing boundary: the upload is incomplete")
    return reader.form
