"""M11: file *i* takes `fileType_{i}` in order of appearance, even when `file` and `files` parts are interleaved
(SPEC §4.2 M11) — Django groups `request.FILES` by field, so the order has to be recorded while parsing."""

from __future__ import annotations

import pytest

from mocs.models import MocFile
from tests.factories import MocFactory
from tests.samples import CSV, PDF

pytestmark = pytest.mark.django_db

BOUNDARY = "order-boundary-7f3a"


def multipart(parts: list[tuple[str, str | None, str, bytes]]) -> bytes:
    """(field, filename or None for a text field, content type, body) in the given order."""
    chunks = []
    for field, filename, content_type, body in parts:
        disposition = f'form-data; name="{field}"' + (f'; filename="{filename}"' if filename else "")
        head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
        if filename:
            head += f"Content-Type: {content_type}\r\n"
        chunks.append(head.encode() + b"\r\n" + body + b"\r\n")
    return b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode()


def test_interleaved_file_and_files_parts_take_their_own_file_type(auth_client):
    moc = MocFactory(user_id="orderly")
    body = multipart(
        [
            ("fileType_0", None, "", b"instruction"),
            ("fileType_1", None, "", b"parts-list"),
            ("fileType_2", None, "", b"instruction"),
            ("files", "a.pdf", "application/pdf", PDF),
            ("file", "b.csv", "text/csv", CSV),
            ("files", "c.pdf", "application/pdf", PDF),
        ]
    )
    response = auth_client("orderly").post(
        f"/api/mocs/{moc.id}/files", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["summary"] == {"total": 3, "succeeded": 3, "failed": 0}
    assert [(f["originalFilename"], f["fileType"]) for f in data["uploaded"]] == [
        ("a.pdf", "instruction"),
        ("b.csv", "parts-list"),
        ("c.pdf", "instruction"),
    ]
    assert MocFile.objects.filter(moc=moc).count() == 3
