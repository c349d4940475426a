"""Benchmark: the SPEC §5.5 pipeline (lego_api.core.images) against sharp (libvips, from npm) on the gallery job.

Each input becomes the 2048 px WebP (quality 80, no metadata, EXIF rotation applied, never enlarged) plus the
400 px thumbnail made from it. Inputs are seeded and generated once into .local/bench-images/: a 24 MP JPEG, a
12 MP PNG and a 50 MP PNG at the pixel cap (gradients, smooth shapes, fine noise: encoders do real work).

Three workers run side by side, one process each, the runs interleaved so that machine noise hits all alike:
our pipeline (JPEG draft decoding, block reduction before LANCZOS, colour and rotation after the resize), the
naive pipeline (the §5.5 steps written plainly: full decode, exif_transpose, convert, LANCZOS) and sharp with
`sharp.concurrency(1)` and its cache off. Figures: the median of 5 runs after a warm-up, the ratio to sharp, and
the peak RSS of one run in a fresh process per image (so that one image's peak cannot hide another's). Ratios
and goals use CPU time (every thread of the process): on a shared machine wall time also counts the waits for a
core; the wall-time ratio is printed beside it.

Run with `make bench-images` (installs sharp with `npm ci --prefix tests/perf`) or, once installed,
`.venv/bin/python tests/perf/bench_images.py`. Prints figures; it is not a timed test.
"""

from __future__ import annotations

import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PERF = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

CACHE = ROOT / ".local" / "bench-images"
RUNS = 5
MAX_WIDTH = 2048
THUMBNAIL_WIDTH = 400
QUALITY = 80
MAX_PIXELS = 50_000_000
GOALS = {"jpeg": 1.0, "png": 1.5}  # at most this many times sharp's time
RSS_GOAL_MB = 512
# name, size, format: 6000x4000 = 24 MP, 4000x3000 = 12 MP, 8660x5773 = 49.99 MP (the cap is 50,000,000).
INPUTS = [("24 MP JPEG", (6000, 4000), "jpeg"), ("12 MP PNG", (4000, 3000), "png"), ("50 MP PNG", (8660, 5773), "png")]

SHARP_WORKER = r"""
const sharp = require("sharp");
const readline = require("readline");
sharp.concurrency(1);
sharp.cache(false);
const [maxWidth, thumbnailWidth, quality] = process.argv.slice(1).map(Number);
async function run(path) {
  const image = await sharp(path).rotate().resize({ width: maxWidth, withoutEnlargement: true })
    .webp({ quality }).toBuffer();
  const thumbnail = await sharp(image).resize({ width: thumbnailWidth, withoutEnlargement: true })
    .webp({ quality }).toBuffer();
  return [image.length, thumbnail.length];
}
const lines = readline.createInterface({ input: process.stdin });
lines.on("line", async (path) => {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const sizes = await run(path);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpuUsed = process.cpuUsage(cpuStart);
  const cpu = (cpuUsed.user + cpuUsed.system) / 1e6;
  const status = require("fs").readFileSync("/proc/self/status", "utf8");
  const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)[1]);
  process.stdout.write(JSON.stringify({ seconds, cpu, sizes, peakKb }) + "\n");
});
"""


# --- Inputs ---------------------------------------------------------------------------------------------------------


def generate(size: tuple[int, int], seed: int):
    """A photo-like RGB image: gradients and smooth colour fields, mid-scale texture, ±4 of fine noise."""
    from PIL import Image, ImageChops

    rng = random.Random(seed)
    width, height = size

    def random_rgb(scale: int, resample) -> Image.Image:
        small = (max(2, width // scale), max(2, height // scale))
        return Image.frombytes("RGB", small, rng.randbytes(small[0] * small[1] * 3)).resize(size, resample)

    gradient = Image.linear_gradient("L").resize(size)
    radial = Image.radial_gradient("L").resize(size)
    image = Image.merge("RGB", (gradient, radial, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    image = Image.blend(image, random_rgb(400, Image.Resampling.BICUBIC), 0.5)  # large soft shapes
    image = Image.blend(image, random_rgb(12, Image.Resampling.BILINEAR), 0.2)  # texture
    fine = Image.frombytes("RGB", size, rng.randbytes(width * height * 3)).point(lambda value: value // 32)
    return ImageChops.add(image, fine, offset=-4)  # 0..7 - 4


def input_file(seed: int, size: tuple[int, int], fmt: str) -> Path:
    """The seeded input of this size and format, generated into the cache the first time it is asked for."""
    from PIL import Image

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"photo-{size[0]}x{size[1]}-seed{seed}.{fmt}"
    if not path.exists():
        print(f"generating {path.relative_to(ROOT)} ...", flush=True)
        image = generate(size, seed)
        partial = path.with_suffix(".partial")
        if fmt == "jpeg":
            exif = Image.Exif()
            exif[0x010F], exif[0x0112] = "Bench camera", 1  # a camera's EXIF, upright
            image.save(partial, "JPEG", quality=90, exif=exif)
        else:
            image.save(partial, "PNG")
        partial.rename(path)
    return path


def inputs() -> list[tuple[str, Path]]:
    return [(name, input_file(seed, size, fmt)) for seed, (name, size, fmt) in enumerate(INPUTS, start=1)]


# --- Python workers -------------------------------------------------------------------------------------------------


def tuned_pipeline(path: Path) -> tuple[int, int]:
    from lego_api.core.images import process_image_with_thumbnail

    with path.open("rb") as source:
        result = process_image_with_thumbnail(source, max_width=MAX_WIDTH, thumbnail_width=THUMBNAIL_WIDTH)
    return len(result.image.data), len(result.thumbnail.data)


def naive_pipeline(path: Path) -> tuple[int, int]:
    """The §5.5 steps as one would first write them: no draft decoding, no block reduction, every step full size."""
    from PIL import Image, ImageCms, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)
    if icc := image.info.get("icc_profile"):
        srgb = ImageCms.createProfile("sRGB")
        image = ImageCms.profileToProfile(image, ImageCms.ImageCmsProfile(io.BytesIO(icc)), srgb) or image
    image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")

    def to_webp(width: int, picture):
        if picture.width > width:
            size = (width, round(picture.height * width / picture.width))
            picture = picture.resize(size, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        picture.save(buffer, "WEBP", quality=QUALITY)
        return picture, len(buffer.getvalue())

    image, image_bytes = to_webp(MAX_WIDTH, image)
    _, thumbnail_bytes = to_webp(THUMBNAIL_WIDTH, image)
    return image_bytes, thumbnail_bytes


PIPELINES = {"tuned": tuned_pipeline, "naive": naive_pipeline}


def python_worker(pipeline: str) -> None:
    """Read input paths on stdin; for each, run the pipeline and answer one JSON line (time, sizes, peak RSS)."""
    from django.conf import settings

    settings.configure(IMAGE_MAX_PIXELS=MAX_PIXELS)
    run = PIPELINES[pipeline]
    for line in sys.stdin:
        start, cpu_start = time.perf_counter(), time.process_time()
        sizes = run(Path(line.strip()))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        print(json.dumps({"seconds": seconds, "cpu": cpu, "sizes": sizes, "peakKb": peak_rss_kb()}), flush=True)


def peak_rss_kb() -> int:
    """This process's resident high-water mark. Not ru_maxrss: Linux carries that over a fork and exec, so a
    child would report at least its parent's peak; VmHWM belongs to the process's own address space."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


# --- Driver ---------------------------------------------------------------------------------------------------------


class Worker:
    """One pipeline in its own process, fed one input path per request."""

    def __init__(self, name: str) -> None:
        if name == "sharp":
            command = ["node", "-e", SHARP_WORKER, str(MAX_WIDTH), str(THUMBNAIL_WIDTH), str(QUALITY)]
        else:
            command = [sys.executable, __file__, "--worker", name]
        self.process = subprocess.Popen(command, cwd=PERF, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, path: Path) -> dict:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{path}\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"worker {self.process.args[:3]} stopped")
        return json.loads(answer)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


NAMES = ("tuned", "naive", "sharp")


def peak_rss_mb(name: str, path: Path) -> float:
    """Peak RSS of one run in a fresh process (a high-water mark: a process that ran a larger image keeps it)."""
    worker = Worker(name)
    try:
        return worker.run(path)["peakKb"] / 1024
    finally:
        worker.close()


def decoded_size(path: Path) -> tuple[int, int]:
    from lego_api.core.images import render_image

    with path.open("rb") as source:
        return render_image(source, max_width=MAX_WIDTH).decoded_size


@dataclass
class Row:
    label: str
    path: Path
    wall: dict[str, float]  # median wall seconds per pipeline
    cpu: dict[str, float]  # median CPU seconds (user + system, every thread of the process) per pipeline
    peak_mb: dict[str, float]
    sizes: dict[str, list[int]]

    def ratio(self, name: str) -> float:
        """Time over sharp's, on CPU time: a shared machine stretches wall time by whatever else runs there."""
        return self.cpu[name] / self.cpu["sharp"]


def measure(label: str, path: Path, workers: dict[str, Worker]) -> Row:
    wall: dict[str, list[float]] = {name: [] for name in NAMES}
    cpu: dict[str, list[float]] = {name: [] for name in NAMES}
    sizes = {name: worker.run(path)["sizes"] for name, worker in workers.items()}  # warm-up
    for _ in range(RUNS):
        for name, worker in workers.items():
            answer = worker.run(path)
            wall[name].append(answer["seconds"])
            cpu[name].append(answer["cpu"])
    return Row(
        label=label,
        path=path,
        wall={name: statistics.median(values) for name, values in wall.items()},
        cpu={name: statistics.median(values) for name, values in cpu.items()},
        peak_mb={name: peak_rss_mb(name, path) for name in NAMES},
        sizes=sizes,
    )


def report(rows: list[Row]) -> None:
    print(
        f"{'input':<11} {'file':>8} {'decoded at':>11}  {'':6} {'wall':>7} {'CPU':>7} {'÷ sharp':>8} "
        f"{'(wall)':>7} {'peak RSS':>9}  output KB"
    )
    for row in rows:
        decoded = "x".join(map(str, decoded_size(row.path)))
        for index, name in enumerate(NAMES):
            lead = f"{row.label:<11} {row.path.stat().st_size / 1_048_576:>6.1f}MB {decoded:>11}" if index == 0 else ""
            kb = " + ".join(f"{size / 1024:.0f}" for size in row.sizes[name])
            wall_ratio = row.wall[name] / row.wall["sharp"]
            print(
                f"{lead:<31}  {name:<6} {row.wall[name] * 1000:>5.0f}ms {row.cpu[name] * 1000:>5.0f}ms "
                f"{row.ratio(name):>7.2f}x {wall_ratio:>6.2f}x {row.peak_mb[name]:>7.0f}MB  {kb}"
            )
    print()
    print("Goals (our pipeline, CPU time ratio):")
    for row in rows:
        goal = GOALS["jpeg" if row.path.suffix == ".jpeg" else "png"]
        verdict = "met" if row.ratio("tuned") <= goal else "NOT met"
        print(
            f"  {row.label}: {row.ratio('tuned'):.2f}x sharp (goal ≤ {goal:.2f}x; naive {row.ratio('naive'):.2f}x): {verdict}"
        )
    largest = rows[-1]
    verdict = "met" if largest.peak_mb["tuned"] < RSS_GOAL_MB else "NOT met"
    print(
        f"  {largest.label} peak RSS: {largest.peak_mb['tuned']:.0f} MB (goal < {RSS_GOAL_MB} MB; "
        f"naive {largest.peak_mb['naive']:.0f} MB): {verdict}"
    )


def main() -> None:
    if not (PERF / "node_modules" / "sharp").exists():
        sys.exit("sharp is not installed: run `npm ci --prefix tests/perf` (or `make bench-images`)")
    from django.conf import settings
    from PIL import __version__ as pillow_version

    settings.configure(IMAGE_MAX_PIXELS=MAX_PIXELS)
    sharp_version = subprocess.run(
        ["node", "-p", 'require("sharp").versions.sharp + " (libvips " + require("sharp").versions.vips + ")"'],
        cwd=PERF,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    paths = inputs()
    print(
        f"Image pipeline: {MAX_WIDTH} px WebP q{QUALITY} + {THUMBNAIL_WIDTH} px thumbnail from it; median of {RUNS} "
        f"runs after a warm-up. Pillow {pillow_version}, sharp {sharp_version}, sharp.concurrency(1)."
    )
    load_before = os.getloadavg()[0]
    workers = {name: Worker(name) for name in NAMES}
    try:
        rows = [measure(label, path, workers) for label, path in paths]
    finally:
        for worker in workers.values():
            worker.close()
    print(f"Load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs.")
    print()
    report(rows)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        python_worker(sys.argv[2])
    else:
        main()
