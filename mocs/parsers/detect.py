"""Parts-list format and encoding detection (SPEC §5.2 XML rule, §5.6 format, encoding and delimiter rules)."""

from __future__ import annotations

import codecs
import re

UTF8_BOM = codecs.BOM_UTF8
# Bytes that count as the "whitespace" allowed before the `<` of an XML file (SPEC §5.2).
_LEADING_WHITESPACE = b" \t\r\n\x0b\x0c"
# Candidate CSV delimiters, in tie-break order: `,` wins any tie, then `;`, then TAB.
DELIMITERS = (",", ";", "\t")
_NON_WHITESPACE = re.compile(r"\S")
_CP1252_FALLBACK = "parts-list-cp1252-fallback"


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    # Windows-1252 leaves 0x81 0x8D 0x8F 0x90 0x9D undefined; like browsers (WHATWG), map them to U+0081… so that
    # any byte string decodes and the file is judged by the record rules, not by an encoding failure.
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error(_CP1252_FALLBACK, _cp1252_fallback)


def strip_bom(content: bytes) -> bytes:
    """Return the content without a leading UTF-8 byte-order mark."""
    return content[len(UTF8_BOM) :] if content.startswith(UTF8_BOM) else content


def split_xml_prefix(content: bytes) -> tuple[bytes, bytes]:
    """Split the content into (optional BOM + leading whitespace, the rest)."""
    body = strip_bom(content).lstrip(_LEADING_WHITESPACE)
    return content[: len(content) - len(body)], body


def looks_like_xml(content: bytes) -> bool:
    """True when the content starts with `<` after an optional UTF-8 BOM and whitespace (SPEC §5.2)."""
    return split_xml_prefix(content)[1].startswith(b"<")


def count_line_breaks(data: bytes) -> int:
    """Number of line ends (CRLF, LF or a lone CR) in the bytes."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def decode_text(content: bytes) -> str:
    """Decode a text file: UTF-8 with an optional BOM, else Windows-1252 (SPEC §5.6). The BOM is dropped."""
    data = strip_bom(content)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors=_CP1252_FALLBACK)


def first_non_blank_line(text: str) -> str:
    """The first physical line (CRLF, LF or CR ended) holding more than whitespace, or "" when there is none."""
    match = _NON_WHITESPACE.search(text)
    if match is None:
        return ""
    start = match.start()
    line_start = max(text.rfind("\n", 0, start), text.rfind("\r", 0, start)) + 1
    line_ends = [end for end in (text.find("\n", start), text.find("\r", start)) if end != -1]
    return text[line_start : min(line_ends, default=len(text))]


def detect_delimiter(text: str) -> str:
    """Whichever of `,` `;` TAB occurs most often in the first non-blank line; `,` on a tie (SPEC §5.6)."""
    line = first_non_blank_line(text)
    best, best_count = DELIMITERS[0], line.count(DELIMITERS[0])
    for delimiter in DELIMITERS[1:]:
        count = line.count(delimiter)
        if count > best_count:
            best, best_count = delimiter, count
    return best
