"""One storage configuration (issue 9, SPEC §5.3, §5.4): `lego_api.core.storage` works through `STORAGES["default"]`,
django-storages' S3 backend against the real SeaweedFS, or Django's FileSystemStorage; what the Storage API has no
verb for (presigned PUTs, HEAD, CopyObject, listings, HeadBucket) goes through that backend's own boto3 client, so
there is no second S3 set-up. The route-level serving headers are tests/core/test_safe_serving.py."""

from __future__ import annotations

import os
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.test import override_settings

from lego_api import settings as project_settings
from lego_api.core import health, storage
from lego_api.core.storage.backends import S3Storage
from tests.helpers import file_system_storage
from tests.samples import PDF, image_bytes
from tools.devstack import s3_client as independent_s3_client

OCTET_STREAM = "application/octet-stream"
PNG = image_bytes("PNG")
CAFE_PDF_DISPOSITION = "attachment; filename=\"Cafe truck.pdf\"; filename*=UTF-8''Caf%C3%A9%20truck.pdf"


def fresh_key(ext: str) -> str:
    """A key no other test writes (the bucket is shared by the whole session)."""
    return f"storage-tests/{uuid.uuid4()}.{ext}"


def seaweedfs():
    """A client of our own, to look at the bucket without going through the code under test."""
    return independent_s3_client(os.environ["AWS_ENDPOINT_URL_S3"])


class SentRequests:
    """The operations the default storage's client sends while registered (botocore's `before-send` event)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []

    def __call__(self, request, event_name: str, **kwargs) -> None:
        headers = {name.lower(): (v.decode() if isinstance(v, bytes) else v) for name, v in request.headers.items()}
        self.sent.append((event_name.rsplit(".", 1)[-1], headers))

    @property
    def operations(self) -> list[str]:
        return [operation for operation, _ in self.sent]


@pytest.fixture
def sent_requests():
    recorder = SentRequests()
    events = storage.s3_client().meta.events
    events.register("before-send.s3", recorder)
    yield recorder
    events.unregister("before-send.s3", recorder)


# --- One configuration ----------------------------------------------------------------------------------------------


def test_the_default_storage_is_django_storages_s3_backend_with_the_bounded_client():
    backend = storages["default"]
    client = storage.s3_client()

    assert isinstance(backend, S3Storage) and storage.uses_s3()
    assert client is backend.connection.meta.client  # the functions use the backend's own client
    assert backend.bucket_name == settings.STORAGE_BUCKET
    assert client.meta.endpoint_url == os.environ["AWS_ENDPOINT_URL_S3"]
    assert client.meta.region_name == settings.AWS_REGION
    assert client._request_signer._credentials.access_key == os.environ["AWS_ACCESS_KEY_ID"]
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert config.signature_version == "s3v4" and config.s3 == {"addressing_style": "path"}
    assert backend.object_parameters == {"ServerSideEncryption": "AES256"}


def test_the_health_storage_differs_from_the_default_only_in_its_timeouts():
    default_options = settings.STORAGES["default"]["OPTIONS"]
    health_options = settings.STORAGES[storage.HEALTH_STORAGE]["OPTIONS"]
    differing = {name for name in default_options if default_options[name] != health_options[name]}
    assert differing == {"client_config", "transfer_config"}

    client = storage.s3_client(storage.HEALTH_STORAGE)
    assert client.meta.endpoint_url == storage.s3_client().meta.endpoint_url
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 2)
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert config.connect_timeout + config.read_timeout <= 2 * health.CHECK_TIMEOUT_SECONDS


def test_overridden_timeouts_reach_the_client_the_storage_functions_use(settings):
    before = storage.s3_client()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": project_settings.s3_storage(connect_timeout=1, read_timeout=1, max_attempts=3),
    }

    client = storage.s3_client()
    assert client is not before and client is storages["default"].connection.meta.client
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (1, 1)
    assert client.meta.config.retries["total_max_attempts"] == 3


def test_every_operation_goes_through_the_default_storage_client(sent_requests):
    key = fresh_key("pdf")

    storage.save_bytes(key, PDF, content_type="application/pdf", filename="truck.pdf")
    storage.head(key)
    storage.read_head(key, 4)
    with storage.open_object(key) as file:
        file.read()
    storage.apply_serving_headers(key, filename="truck.pdf", mime_type="application/pdf")
    list(storage.list_objects(key))
    storage.delete_keys([key])
    storage.check_storage()  # the health storage: its own client, not this one

    assert set(sent_requests.operations) == {
        "PutObject",
        "HeadObject",
        "GetObject",
        "CopyObject",
        "ListObjectsV2",
        "DeleteObjects",
    }


def test_reset_connections_makes_the_storages_again():
    backend, client = storages["default"], storage.s3_client()

    storage.reset_connections()

    assert storages["default"] is not backend and default_storage.bucket_name == backend.bucket_name
    assert storage.s3_client() is not client
    assert getattr(backend._connections, "connection", None) is None  # the old client's pool was closed


# --- Objects through either storage ---------------------------------------------------------------------------------


def test_save_head_open_list_delete(storage_mode):
    key = fresh_key("csv")
    assert isinstance(default_storage, S3Storage if storage_mode == "s3" else FileSystemStorage)

    storage.save_bytes(key, b"first", content_type="text/csv")
    storage.save_bytes(key, b"Part ID,Quantity\n3001,2\n", content_type="text/csv")  # replaced, never renamed

    info = storage.head(key)
    assert info is not None and info.size == len(b"Part ID,Quantity\n3001,2\n")
    assert storage.read_head(key, 7) == b"Part ID"
    with storage.open_object(key) as file:
        assert file.read() == b"Part ID,Quantity\n3001,2\n"
        file.seek(5)
        assert file.read(2) == b"ID"
    [page] = storage.list_objects(key.rsplit("/", 1)[0] + "/" + key.rsplit("/", 1)[1][:8])
    assert [item.key for item in page] == [key] and page[0].last_modified.tzinfo is not None

    storage.delete_keys([key, key, None, "https://elsewhere.example/x.csv"])
    storage.delete_keys([key])  # a missing object is success

    assert storage.head(key) is None
    with pytest.raises(FileNotFoundError):
        storage.open_object(key)
    with pytest.raises(FileNotFoundError):
        storage.read_head(key)


def test_check_storage_passes_in_both_modes(storage_mode):
    storage.check_storage()


# --- What objects are written with (SPEC §5.3) ------------------------------------------------------------------


def test_a_non_image_is_written_as_an_octet_stream_attachment_with_sse(sent_requests):
    key = fresh_key("pdf")

    storage.save_bytes(key, PDF, content_type="application/pdf", filename="Café truck.pdf")

    [(operation, headers)] = sent_requests.sent
    assert operation == "PutObject"
    assert headers["content-type"] == OCTET_STREAM
    assert headers["content-disposition"] == CAFE_PDF_DISPOSITION
    stored = seaweedfs().head_object(Bucket=settings.STORAGE_BUCKET, Key=key)
    assert stored["ContentDisposition"] == CAFE_PDF_DISPOSITION
    assert stored["ServerSideEncryption"] == "AES256"


def test_an_image_is_written_inline_with_its_type():
    key = fresh_key("png")

    storage.save_bytes(key, PNG, content_type="image/png", filename="cover.png")

    stored = seaweedfs().head_object(Bucket=settings.STORAGE_BUCKET, Key=key)
    assert (stored["ContentType"], stored["ContentDisposition"]) == ("image/png", "inline")
    assert storage.head(key).content_type == "image/png"


def test_apply_serving_headers_rewrites_a_non_image_in_place():
    key = fresh_key("pdf")
    seaweedfs().put_object(Bucket=settings.STORAGE_BUCKET, Key=key, Body=PDF, ContentType="application/pdf")

    storage.apply_serving_headers(key, filename="Café truck.pdf", mime_type="application/pdf")

    stored = seaweedfs().head_object(Bucket=settings.STORAGE_BUCKET, Key=key)
    assert stored["ContentDisposition"] == CAFE_PDF_DISPOSITION
    assert stored["ServerSideEncryption"] == "AES256"
    with storage.open_object(key) as file:
        assert file.read() == PDF


# --- URLs ---------------------------------------------------------------------------------------------------------


def test_a_presigned_put_from_the_backend_client_is_accepted_and_its_signature_checked():
    key = fresh_key("png")
    upload = storage.presigned_upload(key, content_type="image/png", max_bytes=len(PNG))
    assert upload["uploadUrl"].startswith(os.environ["AWS_ENDPOINT_URL_S3"])
    assert (upload["method"], upload["headers"], upload["expiresIn"]) == ("PUT", {"Content-Type": "image/png"}, 3600)

    unsigned_type = requests.put(upload["uploadUrl"], data=PNG, headers={"Content-Type": "image/jpeg"}, timeout=10)
    other_key = requests.put(upload["uploadUrl"].replace(key, fresh_key("png")), data=PNG, headers=upload["headers"])
    assert (unsigned_type.status_code, other_key.status_code) == (403, 403)
    assert storage.head(key) is None

    put = requests.put(upload["uploadUrl"], data=PNG, headers=upload["headers"], timeout=10)
    assert put.status_code == 200, put.text
    assert storage.head(key) == storage.ObjectInfo(size=len(PNG), content_type="image/png")


def test_presigned_gets_override_the_response_headers():
    key = fresh_key("pdf")
    seaweedfs().put_object(Bucket=settings.STORAGE_BUCKET, Key=key, Body=PDF, ContentType="text/html")

    url = storage.render_url(key, filename="Café truck.pdf")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == [str(settings.PRESIGNED_URL_EXPIRY)]
    assert query["response-content-type"] == [OCTET_STREAM]
    assert query["response-content-disposition"] == [CAFE_PDF_DISPOSITION]
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == PDF
    assert response.headers["Content-Type"] == OCTET_STREAM
    assert response.headers["Content-Disposition"] == CAFE_PDF_DISPOSITION

    download, expires_in = storage.download_url(key, filename="Café truck.pdf", mime_type="application/pdf")
    assert expires_in == settings.DOWNLOAD_URL_EXPIRY
    assert parse_qs(urlsplit(download).query)["X-Amz-Expires"] == [str(expires_in)]
    assert requests.get(download, timeout=10).headers["Content-Disposition"] == CAFE_PDF_DISPOSITION


def test_an_image_url_serves_it_inline():
    key = fresh_key("png")
    storage.save_bytes(key, PNG, content_type="image/png")

    response = requests.get(storage.render_url(key), timeout=10)

    assert response.status_code == 200 and response.content == PNG
    assert (response.headers["Content-Type"], response.headers["Content-Disposition"]) == ("image/png", "inline")


@pytest.mark.parametrize(
    ("domain", "base"), [("cdn.example.com", "https://cdn.example.com"), ("http://cdn.local/", "http://cdn.local")]
)
def test_with_a_cdn_domain_keys_render_as_cdn_urls(storage_mode, domain, base):
    with override_settings(MEDIA_CDN_DOMAIN=domain):
        assert storage.render_url("mocs/u/m/f 1.pdf") == f"{base}/mocs/u/m/f%201.pdf"
        assert storage.render_url("https://elsewhere.example/a.png") == "https://elsewhere.example/a.png"
        assert storage.render_url(None) is None


def test_file_system_urls_are_media_and_local_upload_urls(tmp_path):
    with file_system_storage(tmp_path / "media"), override_settings(SITE_URL="https://api.example.com"):
        assert storage.render_url("images/u/i.webp") == "https://api.example.com/media/images/u/i.webp"
        download = urlsplit(storage.render_url("mocs/u/m/f.pdf", filename="truck.pdf"))
        token = parse_qs(download.query)[storage.MEDIA_DOWNLOAD_PARAM][0]
        assert storage.media_download_name("mocs/u/m/f.pdf", token) == "truck.pdf"
        assert storage.media_download_name("mocs/u/m/other.pdf", token) is None
        upload = storage.presigned_upload("mocs/u/m/f.pdf", content_type="application/pdf", max_bytes=10)
        assert upload["uploadUrl"].startswith(f"https://api.example.com{storage.LOCAL_UPLOAD_PATH}")
