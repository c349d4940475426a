"""The MOC file kinds (SPEC §5.1 rows "MOC instruction", "MOC parts list", "MOC thumbnail", "MOC gallery image"),
by the `fileType` value that names each one on M7-M11, M17 and M18."""

from lego_api.core.files import MB, PDF, STUDIO, TEXT, XML, FileKind, image_kind

MOC_INSTRUCTION = FileKind("instruction", "instruction file", frozenset({PDF, STUDIO}), ("pdf", "io"), 50 * MB)
MOC_PARTS_LIST = FileKind("parts-list", "parts list", frozenset({TEXT, XML}), ("csv", "txt", "xml"), 10 * MB)
MOC_THUMBNAIL = image_kind("thumbnail", "thumbnail", 10)
MOC_GALLERY_IMAGE = image_kind("gallery-image", "gallery image", 10)

MOC_FILE_KINDS: dict[str, FileKind] = {
    kind.name: kind for kind in (MOC_INSTRUCTION, MOC_PARTS_LIST, MOC_THUMBNAIL, MOC_GALLERY_IMAGE)
}
