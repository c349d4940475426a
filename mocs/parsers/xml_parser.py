"""BrickLink XML wanted lists (SPEC §5.6): parsed with defusedxml; each ITEM under INVENTORY is one record."""

from __future__ import annotations

import re
from io import BytesIO
from xml.sax import SAXException, SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import Locator

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.expatreader import DefusedExpatParser

from mocs.parsers.detect import count_line_breaks, decode_text, split_xml_prefix
from mocs.parsers.types import (
    FORMAT_BRICKLINK_XML,
    MAX_ROWS,
    UNSUPPORTED_FORMAT,
    XML_PARSE_ERROR,
    ParseError,
    ParseResult,
    check_record,
    empty_file_error,
    too_many_rows_error,
)

ROOT_TAG = "INVENTORY"
ITEM_TAG = "ITEM"
# Child elements of ITEM that are read; any other is ignored.
ITEM_FIELDS = frozenset({"ITEMID", "COLOR", "MINQTY", "QTY", "ITEMTYPE"})
DEFAULT_QUANTITY = "1"
# ITEMTYPE → category; other values are kept as given.
ITEM_TYPE_CATEGORIES = {
    "P": "Part",
    "M": "Minifigure",
    "S": "Set",
    "G": "Gear",
    "B": "Book",
    "C": "Catalog",
    "I": "Instruction",
    "O": "Original Box",
}
UNSUPPORTED_ROOT_MESSAGE = f"Unsupported XML format: root element must be {ROOT_TAG}"

_ENCODING_DECLARATION = re.compile(rb"<\?xml[^>]*\bencoding\s*=", re.IGNORECASE)


class _UnsupportedRootError(Exception):
    pass


class _TooManyRowsError(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _InventoryHandler(ContentHandler):
    """Collects (line, {TAG: text}) per non-empty ITEM; tag names compared upper-cased (case-insensitive)."""

    def __init__(self, *, max_rows: int) -> None:
        super().__init__()
        self.items: list[tuple[int, dict[str, str]]] = []
        self._max_rows = max_rows
        self._locator: Locator | None = None
        self._depth = 0
        self._item: dict[str, str] | None = None
        self._item_line = 0
        self._item_has_text = False
        self._field: str | None = None
        self._text: list[str] = []

    def setDocumentLocator(self, locator: Locator) -> None:
        self._locator = locator

    def startElement(self, name: str, attrs: object) -> None:
        depth = self._depth
        self._depth += 1
        tag = name.upper()
        if depth == 0:
            if tag != ROOT_TAG:
                raise _UnsupportedRootError
        elif depth == 1:
            if tag == ITEM_TAG:
                self._item = {}
                self._item_has_text = False
                # Expat reports the position of the start tag's `<` while its start event runs.
                self._item_line = self._locator.getLineNumber() if self._locator else 0
        elif depth == 2 and self._item is not None and tag in ITEM_FIELDS:
            self._field = tag
            self._text = []

    def characters(self, content: str) -> None:
        if self._field is not None:
            self._text.append(content)
        if self._item is not None and not self._item_has_text and content.strip():
            self._item_has_text = True

    def endElement(self, name: str) -> None:
        self._depth -= 1
        if self._depth == 2 and self._field is not None:
            self._item.setdefault(self._field, "".join(self._text).strip())  # the first of a repeated child wins
            self._field = None
        elif self._depth == 1 and self._item is not None:
            item, self._item = self._item, None
            if self._item_has_text:  # an ITEM with no text at all is skipped, like an all-empty CSV record
                if len(self.items) >= self._max_rows:
                    raise _TooManyRowsError(self._item_line)
                self.items.append((self._item_line, item))


def _utf8_unless_declared(data: bytes) -> bytes:
    """Bytes for expat: as given when valid UTF-8 or when the XML declaration names an encoding, else Windows-1252
    re-encoded as UTF-8 (the same encoding rule as CSV)."""
    if _ENCODING_DECLARATION.match(data[:200]):
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return decode_text(data).encode("utf-8")
    return data


def _xml_error(line: int | None, reason: str) -> ParseError:
    return ParseError(line, None, XML_PARSE_ERROR, f"XML could not be parsed: {reason}")


def parse_bricklink_xml(content: bytes, *, max_rows: int = MAX_ROWS) -> ParseResult:
    """Parse a BrickLink XML wanted list. Record lines are the lines of the ITEM start tags."""
    result = ParseResult(FORMAT_BRICKLINK_XML)
    errors = result.errors
    # An XML declaration must open the document, so the BOM and leading whitespace the detection allows are cut off;
    # the line breaks they held are added back to every reported line.
    prefix, body = split_xml_prefix(content)
    line_offset = count_line_breaks(prefix)

    handler = _InventoryHandler(max_rows=max_rows)
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setContentHandler(handler)
    too_many_rows_line: int | None = None
    try:
        parser.parse(BytesIO(_utf8_unless_declared(body)))
    except _UnsupportedRootError:
        errors.append(ParseError(None, None, UNSUPPORTED_FORMAT, UNSUPPORTED_ROOT_MESSAGE))
        return result
    except _TooManyRowsError as exc:
        too_many_rows_line = exc.line + line_offset
    except DTDForbidden:
        errors.append(_xml_error(None, "a DTD (DOCTYPE) is not allowed"))
        return result
    except (EntitiesForbidden, ExternalReferenceForbidden):
        errors.append(_xml_error(None, "entity declarations and references are not allowed"))
        return result
    except SAXParseException as exc:
        errors.append(_xml_error(exc.getLineNumber() + line_offset, exc.getMessage()))
        return result
    except (SAXException, DefusedXmlException, ValueError) as exc:
        errors.append(_xml_error(None, type(exc).__name__))
        return result

    for line, item in handler.items:
        quantity = item.get("MINQTY") or item.get("QTY") or DEFAULT_QUANTITY
        item_type = item.get("ITEMTYPE", "")
        part = check_record(
            line + line_offset,
            item.get("ITEMID", ""),
            quantity,
            color=item.get("COLOR", ""),
            category=ITEM_TYPE_CATEGORIES.get(item_type.upper(), item_type),
            errors=errors,
        )
        if part is not None:
            result.parts.append(part)
    if too_many_rows_line is not None:
        errors.append(too_many_rows_error(too_many_rows_line, max_rows))
    elif not handler.items:
        errors.append(empty_file_error())
    return result
