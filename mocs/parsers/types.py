"""Parts-list parse results (parts, errors, totals) and the SPEC §5.6 record rules shared by CSV and XML parsing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Limits (SPEC §5.6 record rules; the lengths match the moc_parts columns, SPEC §3.8).
MAX_ROWS = 10_000
QUANTITY_MIN = 1
QUANTITY_MAX = 100_000
PART_ID_MAX_LENGTH = 64
COLOR_MAX_LENGTH = 64
PART_NAME_MAX_LENGTH = 255
CATEGORY_MAX_LENGTH = 100
# How many errors error_details() and field_messages() return (SPEC §5.6 error format).
ERROR_LIMIT = 50
# A cell quoted back in a message ("got …") is cut to this many characters, so one huge cell cannot bloat a response.
QUOTED_VALUE_MAX_LENGTH = 40

# Error codes.
MISSING_COLUMN = "MISSING_COLUMN"
MISSING_PART_ID = "MISSING_PART_ID"
VALUE_TOO_LONG = "VALUE_TOO_LONG"
INVALID_QUANTITY = "INVALID_QUANTITY"
INVALID_BOOLEAN = "INVALID_BOOLEAN"
EMPTY_FILE = "EMPTY_FILE"
TOO_MANY_ROWS = "TOO_MANY_ROWS"
XML_PARSE_ERROR = "XML_PARSE_ERROR"
CSV_PARSE_ERROR = "CSV_PARSE_ERROR"
UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"

# Format labels (SPEC §5.6).
FORMAT_BRICKLINK_XML = "bricklink-xml"
FORMAT_PICK_A_BRICK_CSV = "pick-a-brick-csv"
FORMAT_REBRICKABLE_CSV = "rebrickable-csv"
FORMAT_STANDARD_CSV = "standard-csv"
FORMAT_GENERIC_CSV = "generic-csv"
FORMAT_HEADERLESS_CSV = "headerless-csv"

# API field names, used as the `column` of errors.
PART_ID = "partId"
QUANTITY = "quantity"
COLOR = "color"
PART_NAME = "partName"
CATEGORY = "category"
IS_SPARE = "isSpare"

BOOLEAN_VALUES = {
    "true": True,
    "t": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "f": False,
    "no": False,
    "n": False,
    "0": False,
}

# An isSpare cell: one of BOOLEAN_VALUES, or empty for false.
SPARE_CELLS = {**BOOLEAN_VALUES, "": False}
QUANTITY_MAX_DIGITS = len(str(QUANTITY_MAX))
# Cells that are valid quantities as they stand, for a fast lookup: nearly every quantity in a real list.
COMMON_QUANTITIES = {str(number): number for number in range(QUANTITY_MIN, 1001)}

MESSAGE_PART_ID_REQUIRED = "part id is required"
MESSAGE_EMPTY_FILE = "File contains no parts"
MESSAGE_UNTERMINATED_QUOTE = "Unterminated quoted field"


@dataclass(slots=True)
class ParsedPart:
    """One valid record: becomes one moc_parts row."""

    part_id: str
    part_name: str | None
    color: str | None
    quantity: int
    category: str | None
    is_spare: bool
    line_number: int


@dataclass(slots=True)
class ParseError:
    """One problem found in the file; `line` is None for file-level errors, `column` is the API field name or None."""

    line: int | None
    column: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "code": self.code, "message": self.message}

    def as_field_message(self) -> str:
        return self.message if self.line is None else f"Line {self.line}: {self.message}"


@dataclass(slots=True)
class ParseResult:
    """What parse_parts_list() found: the format label, the valid parts in file order, and every error.

    Any error fails the whole file (SPEC §5.6): parse_parts_list() then returns no parts.
    """

    format: str
    parts: list[ParsedPart] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def row_count(self) -> int:
        return len(self.parts)

    @property
    def total_parts_count(self) -> int:
        """Sum of quantity over non-spare rows."""
        return sum(part.quantity for part in self.parts if not part.is_spare)

    @property
    def unique_parts_count(self) -> int:
        """Number of distinct (part id, color) pairs among non-spare rows."""
        return len({(part.part_id, part.color) for part in self.parts if not part.is_spare})

    def error_details(self, limit: int = ERROR_LIMIT) -> dict[str, Any]:
        """The `details` object of a failed parse (SPEC §5.6 error format), without `fields`."""
        return {
            "errors": [error.as_dict() for error in self.errors[:limit]],
            "errorCount": len(self.errors),
            "errorsTruncated": len(self.errors) > limit,
            "format": self.format,
        }

    def field_messages(self, limit: int = ERROR_LIMIT) -> list[str]:
        """Up to `limit` strings `Line N: message` (file-level errors: the message alone) for `details.fields`."""
        return [error.as_field_message() for error in self.errors[:limit]]


def quote_value(value: str) -> str:
    """A cell as shown in an error message: double-quoted, cut short when long."""
    if len(value) > QUOTED_VALUE_MAX_LENGTH:
        value = value[:QUOTED_VALUE_MAX_LENGTH] + "…"
    return f'"{value}"'


def parse_quantity(value: str) -> int | None:
    """The quantity of a trimmed cell: ASCII digits only, 1 to 100000; None when invalid."""
    # isdigit() alone accepts non-ASCII digits ("٣", "²"); int() alone accepts "+3", " 3", "1_0".
    if not (value.isascii() and value.isdigit()):
        return None
    if len(value) > QUANTITY_MAX_DIGITS:  # leading zeros are still "digits only"; int() refuses more than 4300 digits
        value = value.lstrip("0")
        if len(value) > QUANTITY_MAX_DIGITS:
            return None
    number = int(value) if value else 0
    return number if QUANTITY_MIN <= number <= QUANTITY_MAX else None


def quantity_message(value: str) -> str:
    return f"quantity must be a whole number between {QUANTITY_MIN} and {QUANTITY_MAX} (got {quote_value(value)})"


def boolean_message(value: str) -> str:
    return f"is spare must be one of true/false/yes/no/1/0/t/f/y/n (got {quote_value(value)})"


def too_long_message(label: str, limit: int) -> str:
    return f"{label} must be at most {limit} characters"


def check_record(
    line: int,
    part_id: str,
    quantity: str,
    color: str = "",
    part_name: str = "",
    category: str = "",
    is_spare: str = "",
    *,
    errors: list[ParseError],
) -> ParsedPart | None:
    """Apply the SPEC §5.6 record rules to one record's raw values (trimmed here; empty optional values become None).

    Every rule is checked; each failure is appended to `errors`. Returns the part when the record has no error.
    """
    error_count = len(errors)
    part_id = part_id.strip()
    if not part_id:
        errors.append(ParseError(line, PART_ID, MISSING_PART_ID, MESSAGE_PART_ID_REQUIRED))
    elif len(part_id) > PART_ID_MAX_LENGTH:
        errors.append(ParseError(line, PART_ID, VALUE_TOO_LONG, too_long_message("part id", PART_ID_MAX_LENGTH)))

    quantity = quantity.strip()
    quantity_value = parse_quantity(quantity)
    if quantity_value is None:
        errors.append(ParseError(line, QUANTITY, INVALID_QUANTITY, quantity_message(quantity)))

    color = color.strip()
    if len(color) > COLOR_MAX_LENGTH:
        errors.append(ParseError(line, COLOR, VALUE_TOO_LONG, too_long_message("color", COLOR_MAX_LENGTH)))
    part_name = part_name.strip()
    if len(part_name) > PART_NAME_MAX_LENGTH:
        errors.append(ParseError(line, PART_NAME, VALUE_TOO_LONG, too_long_message("part name", PART_NAME_MAX_LENGTH)))
    category = category.strip()
    if len(category) > CATEGORY_MAX_LENGTH:
        errors.append(ParseError(line, CATEGORY, VALUE_TOO_LONG, too_long_message("category", CATEGORY_MAX_LENGTH)))

    is_spare = is_spare.strip()
    spare = SPARE_CELLS.get(is_spare.lower())
    if spare is None:
        errors.append(ParseError(line, IS_SPARE, INVALID_BOOLEAN, boolean_message(is_spare)))

    if len(errors) != error_count or quantity_value is None or spare is None:
        return None
    return ParsedPart(part_id, part_name or None, color or None, quantity_value, category or None, spare, line)


def too_many_rows_error(line: int, max_rows: int) -> ParseError:
    return ParseError(line, None, TOO_MANY_ROWS, f"Too many rows (max {max_rows})")


def empty_file_error() -> ParseError:
    return ParseError(None, None, EMPTY_FILE, MESSAGE_EMPTY_FILE)
