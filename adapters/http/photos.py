"""Customer photos over HTTP: upload as multipart or raw image body, remove, and the signed local URLs."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, put
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from adapters.http.authentication import SECURITY
from adapters.http.customers import present_customer
from adapters.http.openapi import responses
from adapters.http.schemas import CustomerOut
from adapters.photos.local import LocalPhotoStorage
from application.customer_photos import LinkPhotos, RemoveCustomerPhoto, UploadCustomerPhoto
from application.photos import PHOTO_CONTENT_TYPES, PHOTO_KEY_PREFIX, PhotoLimits, PhotoTooLarge
from domain.errors import InvalidInput
from domain.sign_in import Actor

# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


async def read_upload(request: Request[Any, Any, Any], max_bytes: int) -> bytes:
    """The uploaded image, refused with 413 as soon as it passes ``max_bytes``, without reading the rest."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD:
        raise PhotoTooLarge(max_bytes)
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data":
        return _file_field(content_type, await _read_at_most(request, max_bytes + MULTIPART_OVERHEAD), max_bytes)
    if media_type in PHOTO_CONTENT_TYPES:
        return await _read_at_most(request, max_bytes)
    raise HTTPException(
        status_code=415, detail="Send the photo as multipart/form-data (field 'file') or as image/jpeg, png or webp."
    )


async def _read_at_most(request: Request[Any, Any, Any], limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PhotoTooLarge(limit - (MULTIPART_OVERHEAD if limit > MULTIPART_OVERHEAD else 0))
        chunks.append(chunk)
    return b"".join(chunks)


def _file_field(content_type: str, body: bytes, max_bytes: int) -> bytes:
    """The bytes of the form field ``file``; its file name and declared type are ignored on purpose."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if message.is_multipart():
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    if len(payload) > max_bytes:
                        raise PhotoTooLarge(max_bytes)
                    return payload
    raise InvalidInput.single("file", "is required: send the image in the form field 'file'")


class CustomerPhotoController(Controller):
    path = "/api/v1/customers/{customer_id:str}/photo"
    tags = ["Customers"]
    security = SECURITY

    # The request body (multipart or a raw image) is documented by openapi_document.complete_document().
    @put(
        responses=responses(401, 404, 413, 415, 422),
        summary="Set or replace the customer's photo",
        # read_upload() counts the bytes while they stream in, against the configured photo limit.
        request_max_body_size=None,
    )
    async def upload_photo(
        self,
        request: Request[Any, Any, Any],
        customer_id: FromPath[str],
        actor: NamedDependency[Actor],
        upload_customer_photo: NamedDependency[UploadCustomerPhoto],
        photo_limits: NamedDependency[PhotoLimits],
        link_photos: NamedDependency[LinkPhotos],
    ) -> CustomerOut:
        data = await read_upload(request, photo_limits.max_bytes)
        customer = await upload_customer_photo.execute(actor, customer_id, data)
        return await present_customer(customer, link_photos)

    @delete(status_code=HTTP_204_NO_CONTENT, responses=responses(401, 404), summary="Remove the customer's photo")
    async def remove_photo(
        self,
        customer_id: FromPath[str],
        actor: NamedDependency[Actor],
        remove_customer_photo: NamedDependency[RemoveCustomerPhoto],
    ) -> None:
        await remove_customer_photo.execute(actor, customer_id)


@get("/photos/{name:str}", include_in_schema=False)
async def serve_local_photo(
    name: FromPath[str],
    local_photos: NamedDependency[LocalPhotoStorage],
    # Optional here so that a URL with no signature, or only part of one, is refused like a bad one: 403.
    expires: Annotated[str, QueryParameter(name="expires", max_length=20)] = "",
    content_type: Annotated[str, QueryParameter(name="type", max_length=20)] = "",
    signature: Annotated[str, QueryParameter(name="signature", max_length=100)] = "",
) -> Response[bytes]:
    """The photo behind a URL signed by this service (local storage only). Missing, bad or expired signature: 403."""
    photo = await local_photos.serve(f"{PHOTO_KEY_PREFIX}{name}", expires, content_type, signature)
    return Response(photo.data, headers=photo.headers, media_type=photo.content_type)
