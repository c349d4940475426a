"""Parts-list parsing (SPEC §5.6): one entry point, parse_parts_list(), for CSV and BrickLink XML files."""

from __future__ import annotations

from mocs.parsers.csv_parser import parse_csv
from mocs.parsers.detect import looks_like_xml
from mocs.parsers.types import MAX_ROWS, ParsedPart, ParseError, ParseResult
from mocs.parsers.xml_parser import parse_bricklink_xml

__all__ = ["ParseError", "ParseResult", "ParsedPart", "parse_parts_list"]


def parse_parts_list(content: bytes, *, max_rows: int = MAX_ROWS) -> ParseResult:
    """Parse a parts-list file: XML when it starts with `<` (after an optional BOM and whitespace), else CSV.

    Never raises for bad content: every problem is a ParseError in `errors`. Any error fails the whole file (nothing is
    stored), so a result with errors has no parts.
    """
    parse = parse_bricklink_xml if looks_like_xml(content) else parse_csv
    result = parse(content, max_rows=max_rows)
    if result.errors:
        result.parts.clear()
    return result
