"""The load test's scenarios as data (names, shares, what each costs the worker) and the request bodies they send;
shared by the locustfile and the summary. No Locust or Django import here."""

from __future__ import annotations

import io
import random
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    code: str  # the X-Request-ID prefix, so the server log is split per scenario
    name: str  # Locust's name for its requests (search adds the backend that answered)
    share: float  # percent of the tasks
    route: str
    # asynchronous tasks one request starts on Lambda (SPEC §7.3): each is one worker invocation
    worker_tasks: tuple[str, ...] = ()


SCENARIOS = {
    scenario.code: scenario
    for scenario in (
        Scenario("list", "M1 list and pages", 40, "GET /api/mocs?page=N"),
        Scenario("detail", "M4 detail", 25, "GET /api/mocs/{id}"),
        Scenario("search", "M1 search", 15, "GET /api/mocs?search=q"),
        Scenario("create", "M2 create", 4, "POST /api/mocs", ("search_index",)),
        Scenario("edit", "M5 edit", 4, "PATCH /api/mocs/{id}", ("search_index",)),
        Scenario("parts-list", "M17 parts-list upload", 4, "POST /api/mocs/{id}/upload-parts-list", ("search_index",)),
        Scenario("image-upload", "G1 image upload", 1, "POST /api/images", ("process_gallery_image", "search_index")),
        Scenario("image-list", "G2 image list", 2, "GET /api/images"),
        Scenario("wishlist-list", "W1 wishlist", 2, "GET /api/wishlist"),
        Scenario("wishlist-reorder", "W4 wishlist reorder", 1, "PUT /api/wishlist/reorder", ("search_index",)),
        Scenario("profile", "U1 profile", 2, "GET /api/users/me"),
    )
}


def request_id(code: str) -> str:
    """`{code}.{24 hex}`: a valid X-Request-ID (SPEC §1.10: 8-64 of [A-Za-z0-9._-]) that names its scenario."""
    return f"{code}.{uuid.uuid4().hex[:24]}"


def scenario_of(request_id_value: str) -> str | None:
    """The scenario code of a request id made by `request_id`, else None."""
    code, dot, _ = (request_id_value or "").partition(".")
    return code if dot and code in SCENARIOS else None


def multipart(fields: dict[str, str], file_field: str, filename: str, content_type: str, data: bytes):
    """A multipart/form-data body and its Content-Type (Locust's FastHttpUser has no `files=`)."""
    boundary = f"----loadtest{uuid.uuid4().hex}"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    out.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
    )
    out.write(data)
    out.write(f"\r\n--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def parts_list_csv(rows: int, seed: int = 12) -> bytes:
    """A standard-columns parts list (SPEC §5.6 example d) of `rows` rows."""
    rng = random.Random(seed)  # noqa: S311 - sample data
    parts = ["3001", "3003", "3020", "3023", "3069b", "3710", "2780", "4073", "54200", "3666"]
    colours = ["Red", "Blue", "Yellow", "Black", "White", "Tan"]
    lines = ["Part ID,Part Name,Quantity,Color"]
    lines += [f"{rng.choice(parts)},Part {i},{rng.randint(1, 12)},{rng.choice(colours)}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def sample_jpeg(width: int = 640, height: int = 480) -> bytes:
    """A photo-sized JPEG for the gallery upload."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (width, height), (230, 230, 220))
    draw = ImageDraw.Draw(picture)
    for index in range(12):
        x = 20 + index * (width - 40) // 12
        draw.rectangle((x, height // 3, x + 36, height // 3 + 48), fill=(200 - index * 12, 30 + index * 15, 40))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=85)
    return out.getvalue()
