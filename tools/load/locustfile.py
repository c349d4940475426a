"""The Locust scenarios of `make load` (issue 12): one virtual user is one browser session of a token holder, doing
what real users do, weighted (issue 12 item 1):

| share | scenario | routes |
|---|---|---|
| 40% | MOC list and pages | M1 `GET /api/mocs?page=N` (a quarter with a `tag` or `type` filter) |
| 25% | detail | M4 `GET /api/mocs/{id}` |
| 15% | search | M1 `GET /api/mocs?search=...`, named by the backend that answered (`X-Search-Backend`) |
| 4% + 4% | create and edit | M2 `POST /api/mocs`, M5 `PATCH /api/mocs/{id}` |
| 4% | parts-list upload | M17 `POST /api/mocs/{id}/upload-parts-list` (a CSV of 60 rows, to a MOC made in this run) |
| 1% + 2% | gallery | G1 `POST /api/images` (a 640x480 JPEG), G2 `GET /api/images` |
| 2% + 1% | wishlist | W1 `GET /api/wishlist`, W4 `PUT /api/wishlist/reorder` (the first items swapped) |
| 2% | profile | U1 `GET /api/users/me` |

Requests carry `Authorization: Bearer` (SPEC §2.3: Bearer requests need no CSRF token) and an `X-Request-ID` that
starts with the scenario's code, so the server's request log (durationMs, for the cost report) is split per scenario.

Constant throughput: the shape (LoadShape) runs rate / PACE users for each stage of the plan, and every user paces
itself to one task every users / rate seconds, measured from the start of its previous task (Locust's
constant_throughput, with the interval following the stage). So a stage of 100 RPS is 100 task starts a second for
as long as each request takes under users / rate seconds (500 ms); a slower server shows as a lower achieved rate.

Configured by the runner (tools/load/run.py) through the environment: LOAD_PLAN (plan.json), LOAD_POOL (the token
holders: JSON [{"userId", "token"}]), LOAD_REPORT (the report folder: requests.csv and started.json go there).
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import sys
import threading
import time
import uuid
from pathlib import Path

from locust import FastHttpUser, LoadTestShape, events, task

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.load.plan import MAX_P95_MS, MAX_RATE_SHORTFALL, MAX_WARMUP_SECONDS, PACE, Plan
from tools.load.scenarios import SCENARIOS, multipart, parts_list_csv, request_id, sample_jpeg

PLAN = Plan.load(Path(os.environ["LOAD_PLAN"])) if os.environ.get("LOAD_PLAN") else None
REPORT = Path(os.environ.get("LOAD_REPORT", "."))
SEARCH_WORDS = ["castle", "truck", "space", "lighthouse", "train", "modular", "harbour", "ship", "diner", "moon"]
TAGS = ["city", "space", "castle", "vehicle", "modular", "train"]
PARTS_CSV = parts_list_csv(60)
JPEG = sample_jpeg()
PARTS_LISTS_PER_MOC = 10  # SPEC §4.2 M17: a MOC takes at most 10 parts lists
SETUP_ROWS = 5  # MOCs and wishlist items made for a token holder that has none (a deployed stage's test user)


def moc_body(title: str) -> dict:
    """M2's body for a MOC (SPEC §4.2 MocWrite, type moc)."""
    return {
        "type": "moc",
        "title": title,
        "description": "Made by the load test.",
        "author": "Load Tester",
        "partsCount": random.randint(50, 2000),  # noqa: S311
        "theme": "City",
        "setNumber": f"MOC-{random.randint(1000, 999999)}",  # noqa: S311
        "tags": random.sample(TAGS, 2),
    }


class Holder:
    """A token holder's state shared by the virtual users acting as them: their MOCs (from the setup read), the
    MOCs made in this run with the parts lists each has taken, their wishlist item ids."""

    def __init__(self, user_id: str, token: str) -> None:
        self.user_id = user_id
        self.headers = {"Authorization": f"Bearer {token}"}
        self.moc_ids: list[str] = []
        self.moc_pages = 1
        self.fresh: dict[str, int] = {}  # MOC id -> parts lists uploaded in this run
        self.wishlist_ids: list[str] = []
        self.lock = threading.Lock()


HOLDERS: list[Holder] = []
_next_holder = itertools.count()


def _load_pool() -> list[Holder]:
    path = os.environ.get("LOAD_POOL")
    if not path:
        return []
    return [Holder(entry["userId"], entry["token"]) for entry in json.loads(Path(path).read_text())]


# --- per-request log and the load-max verdicts -----------------------------------------------------------------


class RequestLog:
    """Every request as one CSV line (start epoch, name, ms, ok, status) in LOAD_REPORT/requests.csv: the summary
    cuts it into stages and fault windows. Also keeps, for load-max, each stair's latencies and failures."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("w", newline="")
        self.writer = csv.writer(self.file)
        self.writer.writerow(["start", "name", "ms", "ok", "status"])
        self.started: float | None = None
        self.stairs: dict[str, dict] = {}

    def record(self, name: str, start: float, ms: float, ok: bool, status: int) -> None:
        self.writer.writerow([f"{start:.3f}", name, f"{ms:.1f}", int(ok), status])
        if PLAN is None or self.started is None or not PLAN.stop_on_failed_stair:
            return
        elapsed = start - self.started
        for label, begin, end, _ in PLAN.windows():
            if begin + MAX_WARMUP_SECONDS <= elapsed < end:
                stair = self.stairs.setdefault(label, {"ms": [], "failures": 0})
                stair["ms"].append(ms)
                stair["failures"] += 0 if ok else 1

    def stair_holds(self, label: str, rate: float, seconds: float) -> bool:
        stair = self.stairs.get(label)
        if not stair or not stair["ms"]:
            return False
        ordered = sorted(stair["ms"])
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        achieved = len(ordered) / (seconds - MAX_WARMUP_SECONDS)
        return p95 < MAX_P95_MS and stair["failures"] == 0 and achieved >= rate * (1 - MAX_RATE_SHORTFALL)

    def close(self) -> None:
        self.file.close()


LOG: RequestLog | None = None


@events.init.add_listener
def _on_init(environment, **kwargs) -> None:
    global LOG
    HOLDERS.extend(_load_pool())
    if PLAN is not None:
        LOG = RequestLog(REPORT / "requests.csv")


@events.request.add_listener
def _on_request(name, response_time, response, exception, start_time=None, **kwargs) -> None:
    if LOG is not None:
        status = getattr(response, "status_code", 0) or 0
        LOG.record(name, start_time or time.time(), response_time or 0.0, exception is None, status)


@events.test_start.add_listener
def _on_test_start(environment, **kwargs) -> None:
    """Read each holder's MOC and wishlist ids once, before the measured run (not in the stats)."""
    import gevent.pool
    import requests

    host = environment.host.rstrip("/")

    def read(holder: Holder, path: str) -> dict:
        response = requests.get(f"{host}{path}", headers=holder.headers, timeout=30)
        response.raise_for_status()
        return response.json()

    def make(holder: Holder, path: str, body: dict) -> None:
        requests.post(f"{host}{path}", json=body, headers=holder.headers, timeout=30).raise_for_status()

    def setup(holder: Holder) -> None:
        mocs = read(holder, "/api/mocs?limit=100")
        if not mocs["data"]:  # a deployed stage's test user without data: a few MOCs, made once
            for index in range(SETUP_ROWS):
                make(holder, "/api/mocs", moc_body(f"Load test setup {index + 1}"))
            mocs = read(holder, "/api/mocs?limit=100")
        holder.moc_ids = [moc["id"] for moc in mocs["data"]]
        holder.moc_pages = max(1, -(-mocs["total"] // 20))  # pages of 20
        wishlist = read(holder, "/api/wishlist?limit=100")
        if len(wishlist["data"]) < 2:
            for index in range(SETUP_ROWS):
                make(holder, "/api/wishlist", {"title": f"Load test wish {index + 1}", "category": "Sets"})
            wishlist = read(holder, "/api/wishlist?limit=100")
        holder.wishlist_ids = [item["id"] for item in wishlist["data"]]

    gevent.pool.Pool(16).map(setup, HOLDERS)


@events.quitting.add_listener
def _on_quitting(environment, **kwargs) -> None:
    if LOG is not None:
        LOG.close()


# --- the shape ---------------------------------------------------------------------------------------------------


class LoadShape(LoadTestShape):
    """The plan's stages: rate / PACE users each; for load-max, stops after a stair that does not hold."""

    def __init__(self) -> None:
        super().__init__()
        self._stage_label: str | None = None
        self._stairs: list[dict] = []

    def tick(self):
        if PLAN is None:
            return None
        elapsed = self.get_run_time()
        if LOG is not None and LOG.started is None:
            LOG.started = time.time() - elapsed
            (REPORT / "started.json").write_text(json.dumps({"epoch": LOG.started}))
        stage = PLAN.stage_at(elapsed)
        if PLAN.stop_on_failed_stair and self._stage_label and (stage is None or stage.label != self._stage_label):
            finished = next(s for s in PLAN.stages if s.label == self._stage_label)
            holds = LOG is not None and LOG.stair_holds(finished.label, finished.rate, finished.seconds)
            self._stairs.append({"label": finished.label, "holds": holds})
            (REPORT / "stairs.json").write_text(json.dumps(self._stairs))  # the stairs that ran, for the summary
            self._stage_label = None
            if not holds:
                return None
        if stage is None:
            return None
        self._stage_label = stage.label
        return stage.users, 1000


def current_interval() -> float:
    """Seconds between the task starts of one user in the current stage: users / rate (about 1 / PACE)."""
    if PLAN is None or LOG is None or LOG.started is None:
        return 1 / PACE
    stage = PLAN.stage_at(time.time() - LOG.started) or PLAN.stages[-1]
    return stage.users / stage.rate


# --- the user ----------------------------------------------------------------------------------------------------


class ApiUser(FastHttpUser):
    """One browser session of a token holder."""

    def wait_time(self) -> float:
        # constant_throughput, with the interval of the current stage
        interval = current_interval()
        now = time.monotonic()
        if not hasattr(self, "_last_start"):
            self._last_start = now + random.uniform(0, interval)  # noqa: S311 - spread the first requests
            return self._last_start - now
        ran = now - self._last_start
        wait = max(0.0, interval - ran)
        self._last_start = now + wait
        return wait

    def on_start(self) -> None:
        self.holder = HOLDERS[next(_next_holder) % len(HOLDERS)]

    def _call(self, scenario: str, method: str, path: str, **kwargs):
        headers = {**self.holder.headers, "X-Request-ID": request_id(scenario), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, name=SCENARIOS[scenario].name, **kwargs)

    @task(40)
    def moc_list(self) -> None:
        page = random.randint(1, self.holder.moc_pages)  # noqa: S311
        query = f"page={page}&limit=20"
        if random.random() < 0.25:  # noqa: S311
            query = random.choice([f"tag={random.choice(TAGS)}", "type=set", "type=moc"])  # noqa: S311
        self._call("list", "GET", f"/api/mocs?{query}")

    @task(25)
    def moc_detail(self) -> None:
        if self.holder.moc_ids:
            self._call("detail", "GET", f"/api/mocs/{random.choice(self.holder.moc_ids)}")  # noqa: S311

    @task(15)
    def moc_search(self) -> None:
        word = random.choice(SEARCH_WORDS)  # noqa: S311
        with self._call("search", "GET", f"/api/mocs?search={word}", catch_response=True) as response:
            backend = response.headers.get("X-Search-Backend", "none")
            response.request_meta["name"] = f"{SCENARIOS['search'].name} ({backend})"
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")

    def _create(self) -> str | None:
        body = moc_body(f"Load test MOC {uuid.uuid4().hex[:12]}")
        with self._call("create", "POST", "/api/mocs", json=body, catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"status {response.status_code}")
                return None
            moc_id = response.json()["data"]["id"]
        with self.holder.lock:
            self.holder.fresh[moc_id] = 0
            self.holder.moc_ids.append(moc_id)
        return moc_id

    @task(4)
    def moc_create(self) -> None:
        self._create()

    @task(4)
    def moc_edit(self) -> None:
        if self.holder.moc_ids:
            moc_id = random.choice(self.holder.moc_ids)  # noqa: S311
            body = {"description": f"Edited by the load test at {time.time():.0f}.", "tags": random.sample(TAGS, 2)}
            self._call("edit", "PATCH", f"/api/mocs/{moc_id}", json=body)

    @task(4)
    def parts_list_upload(self) -> None:
        with self.holder.lock:  # a MOC made in this run with room for one more list (SPEC: at most 10)
            moc_id = next((m for m, n in self.holder.fresh.items() if n < PARTS_LISTS_PER_MOC), None)
            if moc_id is not None:
                self.holder.fresh[moc_id] += 1
        if moc_id is None:
            moc_id = self._create()
            if moc_id is None:
                return
            with self.holder.lock:
                self.holder.fresh[moc_id] += 1
        body, content_type = multipart({"title": "Load test parts"}, "file", "parts.csv", "text/csv", PARTS_CSV)
        headers = {"Content-Type": content_type}
        self._call("parts-list", "POST", f"/api/mocs/{moc_id}/upload-parts-list", data=body, headers=headers)

    @task(1)
    def image_upload(self) -> None:
        body, content_type = multipart({"title": "Load test photo"}, "image", "photo.jpg", "image/jpeg", JPEG)
        self._call("image-upload", "POST", "/api/images", data=body, headers={"Content-Type": content_type})

    @task(2)
    def image_list(self) -> None:
        self._call("image-list", "GET", f"/api/images?page={random.randint(1, 2)}&limit=20")  # noqa: S311

    @task(2)
    def wishlist_list(self) -> None:
        self._call("wishlist-list", "GET", "/api/wishlist?limit=50")

    @task(1)
    def wishlist_reorder(self) -> None:
        ids = self.holder.wishlist_ids
        if len(ids) >= 2:
            first, second = random.sample(range(len(ids)), 2)
            items = [{"id": ids[first], "sortOrder": second}, {"id": ids[second], "sortOrder": first}]
            self._call("wishlist-reorder", "PUT", "/api/wishlist/reorder", json={"items": items})

    @task(2)
    def profile(self) -> None:
        self._call("profile", "GET", "/api/users/me")


if os.environ.get("LOAD_EQUAL_WEIGHTS"):  # the smoke test: every scenario as likely as the others, so a short run
    ApiUser.tasks = list(dict.fromkeys(ApiUser.tasks))  # hits each one
