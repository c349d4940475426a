"""Benchmark: a 24 MP JPEG through G1 `POST /api/images` to `ready`, and the worker's peak memory while it processes one.

1. **G1 → ready, inline.** Off Lambda the processing task runs right after G1's commit, so G1 answers `ready`: the
   request's wall time is the upload-to-ready time (multipart parsing, the §5.2 checks, the staging write, the §5.5
   pipeline, both WebP writes, the staging delete, the cache bump and the index update). Through the whole Django
   stack (middleware, JWT, envelope) with Django's test Client, against real PostgreSQL, Redis, SeaweedFS S3 and the
   search server.
2. **The worker's peak RSS.** G1 as on Lambda: the task is dispatched (only the Lambda Invoke call is stubbed, and
   its payload kept), so G1 answers `pending`. Then a fresh Python process does what the worker function does with
   that payload (`zappa.asynchronous.route_lambda_task`) and reports its resident high-water mark (VmHWM of
   /proc/self/status) after Django's setup and after the task.

The input is bench_images' seeded 24 MP JPEG (.local/bench-images/, generated on first use). Medians of a few runs
after a warm-up. Run with `.venv/bin/python tests/perf/bench_gallery_upload.py [--runs 5] [--workers 3]`; it starts
its own services in a temporary directory. Prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.bench_images import INPUTS, input_file, peak_rss_kb  # noqa: E402
from tests.perf.services import start_bench_services  # noqa: E402

CALLER = "bench-gallery"
SERVICES = ("postgres", "redis", "s3", "opensearch")
LAMBDA_FUNCTION = "lego-api-bench"
WORKER_FUNCTION = "lego-api-bench-worker"
SEED, (LABEL, SIZE, FORMAT) = 1, INPUTS[0]  # 24 MP JPEG, 6000 x 4000


# --- The worker process ---------------------------------------------------------------------------------------------


def worker() -> None:
    """Run one task payload (stdin) as the worker function would, in this fresh process; print one JSON line."""
    import django

    django.setup()
    from zappa.asynchronous import route_lambda_task

    payload = json.loads(sys.stdin.read())
    setup_kb = peak_rss_kb()
    start, cpu_start = time.perf_counter(), time.process_time()
    route_lambda_task(payload, None)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(json.dumps({"setupKb": setup_kb, "peakKb": peak_rss_kb(), "seconds": seconds, "cpu": cpu}), flush=True)


# --- The driver -----------------------------------------------------------------------------------------------------


def upload(client, path: Path, expect: str) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    part = SimpleUploadedFile(path.name, path.read_bytes(), content_type="image/jpeg")
    response = client.post("/api/images", {"image": part, "title": "Bench photo"})
    assert response.status_code == 201, response.content[:500]
    image = response.json()["data"]
    assert image["processingStatus"] == expect, image
    return image


def time_inline_uploads(client, path: Path, runs: int) -> list[float]:
    upload(client, path, "ready")  # warm-up: connections, JWKS, the caller's profile, Pillow's codecs
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        upload(client, path, "ready")
        seconds.append(time.perf_counter() - start)
    return seconds


def dispatched_payload(client, path: Path) -> str:
    """G1 as on Lambda: the task goes to the worker function through the (stubbed) Invoke; its payload."""
    from botocore.stub import Stubber
    from django.conf import settings

    from gallery.tasks import process_gallery_image
    from lego_api.core import tasks

    sent: list[dict] = []
    lambda_client = tasks.lambda_client()
    record = lambda params, **kwargs: sent.append(params)  # noqa: E731
    lambda_client.meta.events.register("provide-client-params.lambda.Invoke", record)
    os.environ["AWS_LAMBDA_FUNCTION_NAME"] = LAMBDA_FUNCTION
    settings.TASKS_EAGER, settings.TASKS_WORKER_FUNCTION = False, WORKER_FUNCTION
    try:
        with Stubber(lambda_client) as stubber:
            for _ in range(2):  # the processing task, and the search indexing G1 queues on Lambda
                stubber.add_response("invoke", {"StatusCode": 202})
            upload(client, path, "pending")
            stubber.assert_no_pending_responses()
    finally:
        lambda_client.meta.events.unregister("provide-client-params.lambda.Invoke", record)
        del os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        settings.TASKS_EAGER, settings.TASKS_WORKER_FUNCTION = True, None
    payloads = [
        params["Payload"] if isinstance(params["Payload"], str) else params["Payload"].decode() for params in sent
    ]
    assert all(params["FunctionName"] == WORKER_FUNCTION and params["InvocationType"] == "Event" for params in sent)
    (payload,) = [payload for payload in payloads if json.loads(payload)["task_path"] == process_gallery_image.path]
    return payload


def run_worker(payload: str) -> dict:
    """The payload's task in a fresh process (off Lambda, so what it queues after its commit runs inline)."""
    env = {**os.environ, "TASKS_EAGER": "true"}
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    done = subprocess.run(
        [sys.executable, __file__, "--worker"], input=payload, capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_workers(client, path: Path, count: int) -> list[dict]:
    from gallery.models import GalleryImage

    results = []
    for _ in range(count):
        payload = dispatched_payload(client, path)
        result = run_worker(payload)
        image_id = json.loads(payload)["args"][0]
        status = GalleryImage.objects.values_list("processing_status", flat=True).get(pk=image_id)
        assert status == "ready", (image_id, status)
        results.append(result)
    return results


def report(path: Path, upload_seconds: list[float], workers: list[dict], decoded: tuple[int, int]) -> None:
    megabytes = path.stat().st_size / 1_048_576

    def ms(values: list[float]) -> str:
        return f"median {statistics.median(values) * 1000:.0f} ms (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})"

    def mb(values: list[float]) -> str:
        return f"median {statistics.median(values):.0f} MB (min {min(values):.0f}, max {max(values):.0f})"

    print()
    print(f"Input: {LABEL}, {SIZE[0]}x{SIZE[1]}, {megabytes:.1f} MB, decoded at {decoded[0]}x{decoded[1]} (JPEG draft)")
    print(f"G1 -> ready, inline, {len(upload_seconds)} uploads after a warm-up: {ms(upload_seconds)}")
    print(f"Worker (fresh process per run, from the dispatched payload), {len(workers)} runs:")
    print(f"  peak RSS (VmHWM) after the task:  {mb([w['peakKb'] / 1024 for w in workers])}")
    print(f"  RSS high-water after Django setup: {mb([w['setupKb'] / 1024 for w in workers])}")
    print(f"  task wall time (cold imports included): {ms([w['seconds'] for w in workers])}")
    print(f"  task CPU time: {ms([w['cpu'] for w in workers])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed inline uploads (default 5)")
    parser.add_argument("--workers", type=int, default=3, help="worker processes measured (default 3)")
    args = parser.parse_args()

    path = input_file(SEED, SIZE, FORMAT)
    root = Path(tempfile.mkdtemp(prefix="lego-bench-gallery-"))
    started: list = []
    try:
        began = time.perf_counter()
        started = start_bench_services(
            root,
            full=True,
            only=SERVICES,
            env={"RATE_LIMIT_ENABLED": "false", "OPENSEARCH_INDEX_PREFIX": "lego-bench"},
        )
        print(f"services started in {time.perf_counter() - began:.1f} s")

        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client
        from django.test.utils import setup_test_environment

        from lego_api.core.images import render_image
        from lego_api.core.jwt_keys import mint_local_token

        setup_test_environment()
        call_command("migrate", verbosity=0)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {mint_local_token(CALLER)}")
        load_before = os.getloadavg()[0]
        upload_seconds = time_inline_uploads(client, path, args.runs)
        workers = measure_workers(client, path, args.workers)
        with path.open("rb") as source:
            decoded = render_image(source, max_width=2048).decoded_size
        print(f"Load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs.")
        report(path, upload_seconds, workers, decoded)
    finally:
        from tools import devstack

        devstack.stop_all(started)  # before removing their data directory (also registered at exit)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker()
    else:
        main()
