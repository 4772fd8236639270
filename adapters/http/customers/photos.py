"""Customer photos over HTTP: upload as multipart or raw image body, remove, and the signed local URLs."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, put
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from adapters.http.access.authentication import SECURITY_WITH_API_KEYS
from adapters.http.common.uploads import MULTIPART_OVERHEAD, file_field, read_at_most
from adapters.http.customers.routes import present_customer
from adapters.http.customers.schemas import CustomerOut
from adapters.http.openapi.operations import responses
from adapters.photos.local import LocalPhotoStorage
from application.customers.photo_rules import PHOTO_CONTENT_TYPES, PHOTO_KEY_PREFIX, PhotoLimits, PhotoTooLarge
from application.customers.photos import LinkPhotos, RemoveCustomerPhoto, UploadCustomerPhoto
from domain.sign_in import Actor

# Room for the multipart boundaries and part headers around the file itself.


async def read_upload(request: Request[Any, Any, Any], max_bytes: int) -> bytes:
    """The uploaded image, refused with 413 as soon as it passes ``max_bytes``, without reading the rest."""

    def too_large() -> PhotoTooLarge:
        return PhotoTooLarge(max_bytes)

    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data":
        body = await read_at_most(request, max_bytes + MULTIPART_OVERHEAD, too_large)
        return file_field(content_type, body, max_bytes, too_large, "the image")
    if media_type in PHOTO_CONTENT_TYPES:
        return await read_at_most(request, max_bytes, too_large)
    raise HTTPException(
        status_code=415, detail="Send the photo as multipart/form-data (field 'file') or as image/jpeg, png or webp."
    )


class CustomerPhotoController(Controller):
    path = "/api/v1/customers/{customer_id:str}/photo"
    tags = ["Customers"]
    security = SECURITY_WITH_API_KEYS

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
