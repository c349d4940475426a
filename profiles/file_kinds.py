"""The avatar kind (SPEC §5.1 row "Avatar", U3 `avatar`/`file`): GIF allowed, no HEIC."""

from lego_api.core.files import image_kind

AVATAR = image_kind("avatar", "avatar", 2, gif=True, heic=False)
