"""Customers: the trash, and where and how large their photos are kept."""

from __future__ import annotations

from crm.settings_help.words import Help

CUSTOMERS: dict[str, Help] = {
    "CRM_TRASH_DAYS": Help(
        "how long a deleted customer stays in the trash, restorable, before `crm photos sweep` purges it (row and"
        " photo objects)"
    ),
    "CRM_PHOTO_DIR": Help(
        "local photo storage, used when `CRM_S3_BUCKET` is unset", default="`$CRM_DATA_DIR/photos`", allowed="folder"
    ),
    "CRM_PHOTO_MAX_BYTES": Help("largest photo upload", default="`5242880` (5 MiB)"),
    "CRM_PHOTO_MAX_PIXELS": Help("largest width × height of an uploaded image"),
    "CRM_PHOTO_URL_LIFETIME_SECONDS": Help("how long a photo URL works"),
    "CRM_S3_BUCKET": Help(
        "selects S3 photo storage",
        default="unset: photos in the local folder",
        allowed="bucket name",
        production="required",
    ),
    "CRM_S3_PREFIX": Help(
        "prefix of every object key (`crm/` → `crm/photos/…`)", default="empty", allowed="text; `/` appended if missing"
    ),
    "CRM_S3_ENDPOINT_URL": Help(
        (
            "an S3-compatible store (MinIO, Ceph, …); path-style addressing then. Photo URLs use this host, so "
            "browsers must reach it"
        ),
        default="unset (AWS)",
        allowed="URL",
    ),
    "CRM_S3_REGION": Help(
        "the bucket's region", default="`AWS_REGION`, else botocore's own resolution", allowed="region"
    ),
}
