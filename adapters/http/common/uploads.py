"""Request bodies that carry a file (a photo, a CSV import): read while they stream in, refused as soon as they pass
their limit without reading the rest, and the multipart form field ``file`` taken out of them."""

from __future__ import annotations

from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from litestar import Request

from domain.errors import InvalidInput

# Room for a multipart body's boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024

TooLarge = Callable[[], Exception]


async def read_at_most(request: Request[Any, Any, Any], limit: int, too_large: TooLarge) -> bytes:
    """The whole body, or ``too_large()`` raised once its declared or streamed size passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def file_field(content_type: str, body: bytes, max_bytes: int, too_large: TooLarge, what: str) -> bytes:
    """The bytes of the form field ``file`` (its file name and declared type are ignored on purpose)."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if message.is_multipart():
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    if len(payload) > max_bytes:
                        raise too_large()
                    return payload
    raise InvalidInput.single("file", f"is required: send {what} in the form field 'file'")
