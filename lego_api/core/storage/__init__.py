"""Object storage for uploads (SPEC §5.3, §5.4): the only package that talks to S3 or the file system.

One configuration: `STORAGES["default"]` in settings is django-storages' S3 backend when `STORAGE_BUCKET` is set
(SeaweedFS stands in locally through `AWS_ENDPOINT_URL_S3`), else Django's FileSystemStorage under MEDIA_ROOT. Every
operation goes through that storage, or, for what Django's Storage API has no verb for, through the S3 backend's
own boto3 client. Everything else in the project passes storage *keys* around and calls these functions; the apps
build their keys themselves (from `user_key_segment`).

- `objects`: save, open, head, list and delete by key; `urls`: the URLs handed out (CDN, presigned GET/PUT, the
  file-system stand-ins); `serving`: the headers objects are written and served with;
- `s3` and `filesystem`: the operations on each kind of storage; `backends`: the S3 backend class of STORAGES.
"""

from lego_api.core.storage.base import S3_DELETE_BATCH, S3_LIST_PAGE, Data, ObjectInfo, StorageError, StoredObject
from lego_api.core.storage.keys import user_key_segment
from lego_api.core.storage.objects import (
    HEALTH_STORAGE,
    apply_serving_headers,
    check_storage,
    delete_keys,
    head,
    list_objects,
    local_file,
    open_object,
    read_head,
    reset_connections,
    s3_client,
    save_bytes,
    uses_s3,
)
from lego_api.core.storage.serving import (
    INLINE,
    MEDIA_DOWNLOAD_PARAM,
    MEDIA_DOWNLOAD_SALT,
    ServingHeaders,
    attachment_disposition,
    media_download_name,
    serving_headers,
)
from lego_api.core.storage.urls import (
    DEFAULT_EXPIRY,
    LOCAL_UPLOAD_PATH,
    LOCAL_UPLOAD_SALT,
    download_url,
    presigned_upload,
    render_url,
)

__all__ = [
    "DEFAULT_EXPIRY",
    "HEALTH_STORAGE",
    "INLINE",
    "LOCAL_UPLOAD_PATH",
    "LOCAL_UPLOAD_SALT",
    "MEDIA_DOWNLOAD_PARAM",
    "MEDIA_DOWNLOAD_SALT",
    "S3_DELETE_BATCH",
    "S3_LIST_PAGE",
    "Data",
    "ObjectInfo",
    "ServingHeaders",
    "StorageError",
    "StoredObject",
    "apply_serving_headers",
    "attachment_disposition",
    "check_storage",
    "delete_keys",
    "download_url",
    "head",
    "list_objects",
    "local_file",
    "media_download_name",
    "open_object",
    "presigned_upload",
    "read_head",
    "render_url",
    "reset_connections",
    "s3_client",
    "save_bytes",
    "serving_headers",
    "user_key_segment",
    "uses_s3",
]
