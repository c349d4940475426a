"""Parts-list parsing (SPEC §5.6): one entry point, parse_parts_list(), for CSV and BrickLink XML files."""

from __future__ import annotations

from mocs.parsers.csv_parser import parse_csv
from mocs.parsers.detect import looks_like_xml
from mocs.parsers.types import FORMAT_HEADERLESS_CSV, MAX_ROWS, UNSUPPORTED_FORMAT, ParsedPart, ParseError, ParseResult
from mocs.parsers.xml_parser import parse_bricklink_xml

__all__ = ["ParseError", "ParseResult", "ParsedPart", "parse_parts_list"]


def parse_parts_list(content: bytes, *, max_rows: int = MAX_ROWS) -> ParseResult:
    """Parse a parts-list file: XML when it starts with `<` (after an optional BOM and whitespace), else CSV.

    Never raises for bad content: every problem is a ParseError in `errors`. Any error fails the whole file (nothing is
    stored), so a result with errors has no parts.
    """
    if looks_like_xml(content):
        result = parse_bricklink_xml(content, max_rows=max_rows)
    elif b"\x00" in content:
        # Upload checks sniff only the first 8 KB; a NUL byte anywhere means binary data, which no text column
        # (nor PostgreSQL) accepts.
        error = ParseError(None, None, UNSUPPORTED_FORMAT, "File is not a text parts list (it contains NUL bytes)")
        return ParseResult(format=FORMAT_HEADERLESS_CSV, parts=[], errors=[error])
    else:
        result = parse_csv(content, max_rows=max_rows)
    if result.errors:
        result.parts.clear()
    return result
