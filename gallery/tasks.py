"""Gallery tasks (SPEC §7.3): `process_gallery_image`, queued by G1 after its commit. JSON-serialisable arguments only;
safe to run twice. The gallery's step of the hourly sweeper is registered with core in GalleryConfig.ready().

The services that queue this task import this module, so the task imports its service in its body.
"""

from __future__ import annotations

from lego_api.core.tasks import task


@task
def process_gallery_image(image_id: str) -> None:
    """The 2048 px WebP and the 400 px thumbnail of a `pending` image, then `ready`; `failed` with a short
    `processingError` on a bad image. No-op when the image is `ready`, `failed` or gone."""
    from gallery.services.processing import image_process

    image_process(image_id=str(image_id))
