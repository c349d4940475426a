"""CSV parts lists (SPEC §5.6): the header-alias table, header and format-label rules, and the record loop."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterator, Sequence
from operator import itemgetter

from mocs.parsers.detect import decode_text, detect_delimiter
from mocs.parsers.types import (
    CATEGORY,
    CATEGORY_MAX_LENGTH,
    COLOR,
    COLOR_MAX_LENGTH,
    COMMON_QUANTITIES,
    CSV_PARSE_ERROR,
    FORMAT_GENERIC_CSV,
    FORMAT_HEADERLESS_CSV,
    FORMAT_PICK_A_BRICK_CSV,
    FORMAT_REBRICKABLE_CSV,
    FORMAT_STANDARD_CSV,
    IS_SPARE,
    MAX_ROWS,
    MESSAGE_UNTERMINATED_QUOTE,
    MISSING_COLUMN,
    PART_ID,
    PART_ID_MAX_LENGTH,
    PART_NAME,
    PART_NAME_MAX_LENGTH,
    QUANTITY,
    SPARE_CELLS,
    VALUE_TOO_LONG,
    ParsedPart,
    ParseError,
    ParseResult,
    check_record,
    empty_file_error,
    too_many_rows_error,
)

# Normalised header aliases per field (SPEC §5.6). Normalising: lower-case, then drop spaces, `_`, `-` and `.`.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    PART_ID: ("part", "partid", "partnum", "partnumber", "partno", "elementid", "designid", "itemid"),
    QUANTITY: ("quantity", "qty", "count", "amount", "minqty"),
    COLOR: ("color", "colour", "colorid", "colorname", "partcolor"),
    PART_NAME: ("partname", "name", "description", "desc", "partdescription", "itemname"),
    CATEGORY: ("category", "cat", "type", "partcategory"),
    IS_SPARE: ("isspare", "spare"),
}
ALIAS_TO_FIELD: dict[str, str] = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
# Column of each field in a file without a header.
HEADERLESS_COLUMNS: dict[str, int] = {PART_ID: 0, QUANTITY: 1, COLOR: 2, PART_NAME: 3}
# Record fields in the order check_record() takes them.
RECORD_FIELDS = (PART_ID, QUANTITY, COLOR, PART_NAME, CATEGORY, IS_SPARE)
REQUIRED_FIELDS = (PART_ID, QUANTITY)

# csv.reader refuses a cell over csv.field_size_limit() (128 Ki characters by default). Every cell is checked by the
# record rules whatever its length, and an unterminated quote must be reported where it opened however much of the
# file it swallowed, so the limit is lifted well past the largest parts list (10 MB). It is process-wide; nothing
# else here reads CSV.
CELL_MAX_CHARS = 64 * 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), CELL_MAX_CHARS))
FIELD_TOO_LONG_MESSAGE = f"a cell is longer than {csv.field_size_limit()} characters"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what io.StringIO(newline="") splits lines on

_NORMALISE_TABLE = str.maketrans("", "", " _-.")


def normalise_header(cell: str) -> str:
    """`Part ID` → `partid`, `part_number` → `partnumber`, `Is Spare` → `isspare`."""
    return cell.strip().lower().translate(_NORMALISE_TABLE)


def map_header(cells: Sequence[str]) -> dict[str, int] | None:
    """Field → column index for a header record, or None when no cell is an alias (the record is data)."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = ALIAS_TO_FIELD.get(normalise_header(cell))
        if name is not None and name not in columns:  # the leftmost matching column wins
            columns[name] = index
    return columns or None


def header_format(cells: Sequence[str], columns: dict[str, int]) -> str:
    """The format label of a header (SPEC §5.6 table; the first matching row wins)."""
    normalised = [normalise_header(cell) for cell in cells]
    if {normalised[index] for index in columns.values()} == {"elementid", "quantity"}:
        return FORMAT_PICK_A_BRICK_CSV
    present = set(normalised)
    if present >= {"part", "color", "quantity", "isspare"}:
        return FORMAT_REBRICKABLE_CSV
    if present >= {"partid", "partname", "quantity", "color"}:
        return FORMAT_STANDARD_CSV
    return FORMAT_GENERIC_CSV


def _is_empty(row: Sequence[str]) -> bool:
    return not any(cell.strip() for cell in row)


def _lines(text: str, ended: list[bool]) -> Iterator[str]:
    """The text's physical lines for csv.reader, noting in `ended` when they run out. csv.reader hands back a record
    still inside a quoted field at the end of the file as if it were complete; a record read after the end is that."""
    yield from io.StringIO(text, newline="")
    ended.append(True)


def unterminated_quote_error(line: int, row: Sequence[str]) -> ParseError:
    """SPEC §5.6: the record starting at `line` ended inside a quoted field. That field is its last cell; cells before
    it can span lines only inside quotes, so their line breaks give the line where the open quote is."""
    opened = line + sum(len(_LINE_BREAK.findall(cell)) for cell in row[:-1])
    return ParseError(opened, None, CSV_PARSE_ERROR, MESSAGE_UNTERMINATED_QUOTE)


def parse_csv(content: bytes, *, max_rows: int = MAX_ROWS) -> ParseResult:
    """Parse a CSV parts list. Line numbers are 1-based physical lines; a multi-line record reports its first line."""
    text = decode_text(content)
    ended: list[bool] = []
    reader = csv.reader(_lines(text, ended), delimiter=detect_delimiter(text))
    result = ParseResult(FORMAT_HEADERLESS_CSV)
    errors = result.errors
    parts = result.parts
    # A record starts on the line after the one the previous record ended on (reader.line_num); csv.reader yields []
    # for a blank line, so every physical line is accounted for.
    last_line = 0
    try:
        for first_row in reader:
            first_line = last_line + 1
            last_line = reader.line_num
            if ended:
                errors.append(unterminated_quote_error(first_line, first_row))
                return result
            if first_row and not _is_empty(first_row):
                break
        else:
            errors.append(empty_file_error())
            return result

        columns = map_header(first_row)
        if columns is None:
            columns = HEADERLESS_COLUMNS
            rows = itertools.chain([first_row], reader)
            last_line = first_line - 1
        else:
            result.format = header_format(first_row, columns)
            missing = [name for name in REQUIRED_FIELDS if name not in columns]
            if missing:
                errors.extend(
                    ParseError(first_line, name, MISSING_COLUMN, f"Missing required column: {name}") for name in missing
                )
                return result
            rows = reader

        # An absent field reads index -1: the "" appended to every row.
        fields_of = itemgetter(*(columns.get(name, -1) for name in RECORD_FIELDS))
        width = max(columns.values()) + 1
        record_count = 0
        for row in rows:
            line = last_line + 1
            last_line = reader.line_num
            if ended:
                errors.append(unterminated_quote_error(line, row))
                break
            if not row:  # a blank line
                continue
            if len(row) < width:
                row.extend([""] * (width - len(row)))
            row.append("")
            part_id, quantity, color, part_name, category, is_spare = fields_of(row)
            part_id = part_id.strip()
            if not part_id and _is_empty(row):  # e.g. ",,," from a spreadsheet
                continue
            record_count += 1
            if record_count > max_rows:
                errors.append(too_many_rows_error(line, max_rows))
                break
            # Fast path for the usual valid record, inlined to stay within 3x of a bare csv.reader pass. Whatever it
            # does not accept goes through check_record(), which is the authority and reports each error.
            color = color.strip()
            part_name = part_name.strip()
            if category:
                category = category.strip()
            number = COMMON_QUANTITIES.get(quantity.strip())
            if (
                number is not None
                and part_id
                and len(part_id) <= PART_ID_MAX_LENGTH
                and len(color) <= COLOR_MAX_LENGTH
                and len(part_name) <= PART_NAME_MAX_LENGTH
                and len(category) <= CATEGORY_MAX_LENGTH
                and (spare := SPARE_CELLS.get(is_spare.strip().lower()) if is_spare else False) is not None
            ):
                parts.append(
                    ParsedPart(part_id, part_name or None, color or None, number, category or None, spare, line)
                )
                continue
            part = check_record(line, part_id, quantity, color, part_name, category, is_spare, errors=errors)
            if part is not None:  # valid after all, e.g. a quantity over 1000 or with leading zeros
                parts.append(part)
    except csv.Error:
        # Only a cell over csv.field_size_limit() gets here (CELL_MAX_CHARS), far over any field's limit.
        errors.append(ParseError(last_line + 1, None, VALUE_TOO_LONG, FIELD_TOO_LONG_MESSAGE))
        return result

    if record_count == 0 and not errors:
        errors.append(empty_file_error())
    return result
