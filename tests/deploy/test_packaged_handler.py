"""The packaged handler (`handler.lambda_handler` from the built zip) serving API Gateway, EventBridge and Zappa
command events in one cold process, against the real services; side effects checked in PostgreSQL."""

from __future__ import annotations

import base64
import gzip
import io
import json
import uuid

from PIL import Image

from tests.deploy.conftest import api_event, response_json, scheduled_event
from tests.helpers import stored_keys
from tools import packaging

CSV_HEADER = "Part ID,Part Name,Quantity,Color,Category\n"


def parts_list_csv(rows: int) -> bytes:
    """About 325 bytes a row: 9,300 rows make a ~3 MB file under the 10,000-row limit."""
    name = "Brick, Modified 1 x 2 with Studs on Side " * 6
    lines = [CSV_HEADER]
    for i in range(rows):
        lines.append(f'{3000 + i % 400},"{name[:230]} #{i}",{1 + i % 7},Reddish Brown,{"Bricks Special " * 4}\n')
    return "".join(lines).encode()


def multipart(fields: dict[str, str], files: dict[str, tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = f"----deploytest{uuid.uuid4().hex}"
    chunks: list[bytes] = []
    for name, value in fields.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content_type, content) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        chunks += [head.encode(), content, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def create_moc(packaged_lambda, token: str, title: str) -> dict:
    body = {"type": "moc", "title": title, "author": "Deploy Tester", "partsCount": 10, "theme": "City"}
    body["setNumber"] = "MOC-1"
    event = api_event("POST", "/api/mocs", token=token, headers={"Content-Type": "application/json"})
    event["body"] = json.dumps(body)
    invocation = packaged_lambda.invoke(event)
    assert invocation.ok, invocation.error
    assert invocation.result["statusCode"] == 201, invocation.result.get("body")
    return response_json(invocation)["data"]


# --- Zappa command and scheduled events ---------------------------------------------------------------------------


def test_package_imports_and_manage_migrate_event_migrates(packaged_lambda, pg):
    assert packaged_lambda.init.ok
    assert packaged_lambda.migrate.result == {}
    with pg.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'mocs'")
        assert cursor.fetchone()[0] >= 1


def test_keep_warm_event_never_reaches_django(packaged_lambda):
    cli = packaging.load_stage("dev")
    rule = cli.zappa.get_scheduled_event_name(
        {"name": "zappa-keep-warm"}, "handler.keep_warm_callback", cli.lambda_name
    )
    invocation = packaged_lambda.invoke(scheduled_event(rule))

    assert invocation.ok, invocation.error
    assert invocation.result is None
    assert not invocation.emf("RequestLatency")
    assert not any('"logger": "lego_api.request"' in line for line in invocation.logs)


def test_hourly_sweeper_event_runs_cleanup_stale_uploads(packaged_lambda, pg):
    worker = packaging.load_stage("dev-worker")
    scheduled = [e for e in worker.stage_config["events"] if e["function"] == "mocs.tasks.cleanup_stale_uploads"]
    assert scheduled and scheduled[0]["expression"] == "rate(1 hour)"
    moc_id, stale_id, fresh_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with pg.cursor() as cursor:
        cursor.execute(
            "INSERT INTO moc_instructions (id, user_id, type, title, tags, author, parts_count, theme, set_number)"
            " VALUES (%s, 'sweeper-user', 'moc', %s, '[]', 'A. Builder', 10, 'City', 'MOC-9')",
            [str(moc_id), f"Sweeper {moc_id}"],
        )
        for file_id, age in ((stale_id, "25 hours"), (fresh_id, "1 hour")):
            cursor.execute(
                "INSERT INTO moc_files (id, moc_id, file_type, file_url, original_filename, mime_type, file_size,"
                " status, created_at) VALUES (%s, %s, 'instruction', %s, 'x.pdf', 'application/pdf', 10, 'pending',"
                " now() - %s::interval)",
                [str(file_id), str(moc_id), f"mocs/sweeper-user/{moc_id}/{file_id}.pdf", age],
            )
    rule = worker.zappa.get_scheduled_event_name({}, "mocs.tasks.cleanup_stale_uploads", worker.lambda_name)

    invocation = packaged_lambda.invoke(scheduled_event(rule))

    assert invocation.ok, invocation.error
    with pg.cursor() as cursor:
        cursor.execute("SELECT id FROM moc_files WHERE moc_id = %s", [str(moc_id)])
        assert {str(row[0]) for row in cursor.fetchall()} == {str(fresh_id)}


# --- API Gateway events -------------------------------------------------------------------------------------------


def test_health_answers_through_api_gateway(packaged_lambda):
    invocation = packaged_lambda.invoke(api_event("GET", "/health"))

    body = response_json(invocation)
    assert invocation.result["statusCode"] == 200
    assert body["success"] is True
    assert body["data"]["environment"] == "dev"
    assert body["data"]["components"]["database"]["status"] == "up"
    assert body["data"]["components"]["storage"]["status"] == "up"
    assert invocation.result["headers"]["X-Content-Type-Options"] == "nosniff"


def test_shallow_health_for_touch_and_liveness(packaged_lambda):
    invocation = packaged_lambda.invoke(api_event("GET", "/health", query={"shallow": "1"}))

    assert invocation.result["statusCode"] == 200
    assert response_json(invocation)["data"]["status"] == "alive"


def test_anonymous_api_request_gets_401_envelope(packaged_lambda):
    invocation = packaged_lambda.invoke(api_event("GET", "/api/mocs"))

    body = response_json(invocation)
    assert invocation.result["statusCode"] == 401
    assert body["success"] is False
    assert body["requestId"].startswith("apigw-")  # API Gateway's request id is the request id


def test_api_request_emits_latency_metric(packaged_lambda, issuer):
    invocation = packaged_lambda.invoke(api_event("GET", "/api/mocs", token=issuer.token("metrics-user")))

    (document,) = invocation.emf("RequestLatency")
    assert document["Environment"] == "dev"
    assert document["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "RequestLatency", "Unit": "Milliseconds"}]
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Environment"]]
    assert document["RequestLatency"] >= 0


def test_authenticated_list_mocs(packaged_lambda, issuer):
    invocation = packaged_lambda.invoke(api_event("GET", "/api/mocs", token=issuer.token("lister")))

    assert invocation.ok, invocation.error
    assert invocation.result["statusCode"] == 200, invocation.result.get("body")
    body = response_json(invocation)
    assert body["success"] is True
    assert body["data"] == []


def test_create_moc_writes_the_row(packaged_lambda, issuer, pg):
    data = create_moc(packaged_lambda, issuer.token("creator"), "Packaged Coffee Truck")

    with pg.cursor() as cursor:
        cursor.execute("SELECT user_id, title, set_number FROM moc_instructions WHERE id = %s", [data["id"]])
        assert cursor.fetchone() == ("creator", "Packaged Coffee Truck", "MOC-1")


def test_three_megabyte_parts_list_upload_through_base64_body(packaged_lambda, issuer, pg):
    token = issuer.token("uploader")
    moc = create_moc(packaged_lambda, token, "Packaged Parts Upload")
    content = parts_list_csv(9_300)
    assert 2_900_000 < len(content) < 3_300_000
    body, content_type = multipart({"title": "Big list"}, {"file": ("big.csv", "text/csv", content)})
    event = api_event(
        "POST", f"/api/mocs/{moc['id']}/upload-parts-list", token=token, headers={"Content-Type": content_type}
    )
    event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True

    invocation = packaged_lambda.invoke(event, timeout=120)

    assert invocation.ok, invocation.error
    assert invocation.result["statusCode"] == 201, invocation.result.get("body")[:2000]
    data = response_json(invocation)["data"]
    with pg.cursor() as cursor:
        cursor.execute("SELECT status, row_count, format FROM moc_parts_lists WHERE id = %s", [data["partsListId"]])
        assert cursor.fetchone() == ("ready", 9_300, "standard-csv")
        cursor.execute("SELECT count(*) FROM moc_parts WHERE parts_list_id = %s", [data["partsListId"]])
        assert cursor.fetchone()[0] == 9_300
        cursor.execute("SELECT file_type, file_size FROM moc_files WHERE moc_id = %s", [moc["id"]])
        assert cursor.fetchall() == [("parts-list", len(content))]


def test_gallery_image_upload_through_base64_multipart_body(packaged_lambda, issuer, pg):
    """G1 as API Gateway sends it: a base64 multipart body; tasks run inline in the test stage (TASKS_EAGER), so the
    image is processed before the answer and both WebP objects are in the bucket."""
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((1200, 800)).convert("RGB").save(buffer, "JPEG", quality=90)
    body, content_type = multipart(
        {"title": "Packaged castle", "tags": '["Castle"]'}, {"image": ("castle.jpg", "image/jpeg", buffer.getvalue())}
    )
    event = api_event(
        "POST", "/api/images", token=issuer.token("gallery-uploader"), headers={"Content-Type": content_type}
    )
    event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True

    invocation = packaged_lambda.invoke(event, timeout=120)

    assert invocation.ok, invocation.error
    assert invocation.result["statusCode"] == 201, invocation.result.get("body")[:2000]
    data = response_json(invocation)["data"]
    assert (data["title"], data["tags"], data["processingStatus"]) == ("Packaged castle", ["castle"], "ready")
    with pg.cursor() as cursor:
        cursor.execute("SELECT image_url, thumbnail_url, staging_key FROM gallery_images WHERE id = %s", [data["id"]])
        image_key, thumbnail_key, staging_key = cursor.fetchone()
    assert staging_key is None
    assert {image_key, thumbnail_key} <= set(stored_keys("images/gallery-uploader/"))
    assert stored_keys(f"tmp/gallery-uploader/{data['id']}") == []


def test_admin_static_binary_is_served_base64_encoded(packaged_lambda, unzipped):
    manifest = json.loads((unzipped / "staticfiles" / "staticfiles.json").read_text())["paths"]
    original = next(name for name in sorted(manifest) if name.endswith(".png"))
    hashed = manifest[original]

    invocation = packaged_lambda.invoke(api_event("GET", f"/static/{hashed}"))

    assert invocation.ok, invocation.error
    assert invocation.result["statusCode"] == 200
    assert invocation.result["isBase64Encoded"] is True
    assert invocation.result["headers"]["Content-Type"] == "image/png"
    assert base64.b64decode(invocation.result["body"]) == (unzipped / "staticfiles" / hashed).read_bytes()


def test_compressed_static_text_is_served_gzipped_and_base64_encoded(packaged_lambda, unzipped):
    manifest = json.loads((unzipped / "staticfiles" / "staticfiles.json").read_text())["paths"]
    hashed = manifest["admin/css/base.css"]

    invocation = packaged_lambda.invoke(api_event("GET", f"/static/{hashed}", headers={"Accept-Encoding": "gzip"}))

    assert invocation.result["statusCode"] == 200
    assert invocation.result["headers"]["Content-Encoding"] == "gzip"
    assert invocation.result["isBase64Encoded"] is True
    css = gzip.decompress(base64.b64decode(invocation.result["body"]))
    assert css == (unzipped / "staticfiles" / hashed).read_bytes()
