"""Parts-list parsing (SPEC §5.6): worked examples, encodings, CSV layout rules, BrickLink XML, every error code."""

from __future__ import annotations

import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lego_api.core import storage
from mocs.models import Moc, MocFileType, MocPartsList
from mocs.parsers import ParsedPart, ParseError, ParseResult, parse_parts_list
from mocs.parsers.csv_parser import ALIAS_TO_FIELD, HEADER_ALIASES, normalise_header, parse_csv
from mocs.parsers.types import check_record
from mocs.services.parts_lists import parts_list_create_pending
from mocs.storage_keys import moc_file_key
from tests.factories import MocFactory, MocFileFactory
from tests.helpers import assert_error
from tests.samples import PDF, SPEC_ERROR_CSV, SPEC_ERROR_DETAILS, SPEC_ERROR_FIELD_MESSAGES


def csv_bytes(*lines: str, newline: str = "\n", encoding: str = "utf-8") -> bytes:
    return newline.join(lines).encode(encoding)


def codes(result: ParseResult) -> list[str]:
    return [error.code for error in result.errors]


def only_error(result: ParseResult) -> ParseError:
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


# --- SPEC §5.6 worked examples ----------------------------------------------------------------------------------


def test_error_example_gives_the_spec_details():
    result = parse_parts_list(SPEC_ERROR_CSV)

    assert not result.ok
    assert result.field_messages() == SPEC_ERROR_FIELD_MESSAGES
    assert result.error_details() == SPEC_ERROR_DETAILS


def test_pick_a_brick_csv_with_crlf():
    content = (
        csv_bytes("elementId,quantity", "6168620,1", "300526,9", "6065496,1", "300426,5", newline="\r\n") + b"\r\n"
    )
    result = parse_parts_list(content)

    assert result.ok, result.errors
    assert result.format == "pick-a-brick-csv"
    assert [(part.part_id, part.quantity, part.color) for part in result.parts] == [
        ("6168620", 1, None),
        ("300526", 9, None),
        ("6065496", 1, None),
        ("300426", 5, None),
    ]
    assert [part.line_number for part in result.parts] == [2, 3, 4, 5]
    assert (result.total_parts_count, result.unique_parts_count, result.row_count) == (16, 4, 4)


def test_rebrickable_csv_leaves_spares_out_of_the_totals():
    content = csv_bytes(
        "Part,Color,Quantity,Is Spare",
        "3001,4,6,False",
        "3023,0,12,False",
        "3023,0,1,True",
        "973pr1234,72,1,False",
    )
    result = parse_parts_list(content)

    assert result.ok, result.errors
    assert result.format == "rebrickable-csv"
    assert result.row_count == 4
    assert [part.is_spare for part in result.parts] == [False, False, True, False]
    assert result.parts[0].color == "4"
    assert result.total_parts_count == 19
    assert result.unique_parts_count == 3


def test_bricklink_xml_wanted_list():
    content = b"""<INVENTORY>
  <ITEM><ITEMTYPE>P</ITEMTYPE><ITEMID>3001</ITEMID><COLOR>5</COLOR><MINQTY>4</MINQTY></ITEM>
  <ITEM><ITEMTYPE>P</ITEMTYPE><ITEMID>3069b</ITEMID><COLOR>11</COLOR><MINQTY>10</MINQTY></ITEM>
</INVENTORY>
"""
    result = parse_parts_list(content)

    assert result.ok, result.errors
    assert result.format == "bricklink-xml"
    assert result.parts == [
        ParsedPart("3001", None, "5", 4, "Part", False, 2),
        ParsedPart("3069b", None, "11", 10, "Part", False, 3),
    ]
    assert (result.total_parts_count, result.unique_parts_count, result.row_count) == (14, 2, 2)


def test_standard_csv_keeps_duplicates_separate():
    content = csv_bytes(
        "Part ID,Part Name,Quantity,Color",
        "3001,Brick 2 x 4,4,Red",
        "3020,Plate 2 x 4,2,Black",
        "3001,Brick 2 x 4,1,Red",
    )
    result = parse_parts_list(content)

    assert result.ok, result.errors
    assert result.format == "standard-csv"
    assert result.parts == [
        ParsedPart("3001", "Brick 2 x 4", "Red", 4, None, False, 2),
        ParsedPart("3020", "Plate 2 x 4", "Black", 2, None, False, 3),
        ParsedPart("3001", "Brick 2 x 4", "Red", 1, None, False, 4),
    ]
    assert (result.total_parts_count, result.unique_parts_count, result.row_count) == (7, 2, 3)


# --- Encodings and line ends ------------------------------------------------------------------------------------


def test_utf8_bom_is_ignored():
    result = parse_parts_list(b"\xef\xbb\xbf" + csv_bytes("Part ID,Quantity", "3001,2"))

    assert result.ok, result.errors
    assert result.format == "generic-csv"
    assert result.parts == [ParsedPart("3001", None, None, 2, None, False, 2)]


def test_utf8_part_names_are_kept():
    result = parse_parts_list(csv_bytes("Part ID,Part Name,Quantity", "3001,Stein 2 \u00d7 4 Ä,1"))

    assert result.parts[0].part_name == "Stein 2 \u00d7 4 Ä"


def test_windows_1252_bytes_are_decoded():
    content = b"Part ID,Part Name,Quantity\r\n3001,Stein \xc4 \x80 \x93x\x94,1\r\n"
    result = parse_parts_list(content)

    assert result.ok, result.errors
    assert result.parts[0].part_name == "Stein Ä € “x”"


def test_windows_1252_undefined_bytes_do_not_fail_the_file():
    result = parse_parts_list(b"Part ID,Part Name,Quantity\n3001,A\x81B,1\n")

    assert result.ok, result.errors
    assert result.parts[0].part_name == "A\x81B"


def test_lf_and_crlf_give_the_same_lines():
    lines = ("Part ID,Quantity", "3001,1", "", "3002,2")
    lf = parse_parts_list(csv_bytes(*lines))
    crlf = parse_parts_list(csv_bytes(*lines, newline="\r\n"))

    assert lf.parts == crlf.parts
    assert [part.line_number for part in lf.parts] == [2, 4]


# --- CSV layout -------------------------------------------------------------------------------------------------


def test_quoted_fields_with_delimiters_and_quotes():
    content = csv_bytes(
        "Part ID,Part Name,Quantity,Color",
        '3001,"Brick, 2 x 4",3,"Red"',
        '3002,"Pin with ""Friction""",1,Black',
    )
    result = parse_parts_list(content)

    assert result.ok, result.errors
    assert [part.part_name for part in result.parts] == ["Brick, 2 x 4", 'Pin with "Friction"']


def test_quoted_multi_line_record_reports_its_start_line():
    content = csv_bytes(
        "Part ID,Part Name,Quantity",
        '3001,"Brick',
        "2 x 4",
        'long",1',
        "3002,Plate,two",
        '3003,"Tile\r\n1 x 1",0',
        "3004,Slope,2",
        newline="\r\n",
    )
    result = parse_parts_list(content)

    assert [(error.line, error.code) for error in result.errors] == [(5, "INVALID_QUANTITY"), (6, "INVALID_QUANTITY")]
    assert result.parts == []  # any error fails the whole file


def test_records_after_a_multi_line_record_keep_their_physical_lines():
    content = csv_bytes("Part ID,Part Name,Quantity", '3001,"Brick', "2 x 4", 'long",1', "", '"3002",Plate,3')
    result = parse_parts_list(content)

    assert result.ok, result.errors
    assert [(part.part_id, part.line_number) for part in result.parts] == [("3001", 2), ("3002", 6)]
    assert result.parts[0].part_name == "Brick\n2 x 4\nlong"


def test_blank_lines_are_skipped_but_counted():
    result = parse_parts_list(csv_bytes("", "Part ID,Quantity", "", "3001,1", "   ", "3002,2", "", "", ""))

    assert result.ok, result.errors
    assert result.format == "generic-csv"
    assert [part.line_number for part in result.parts] == [4, 6]
    failed = parse_parts_list(csv_bytes("", "Part ID,Quantity", "", "3001,1", "   ", "3002,x", "", "", ""))
    assert [(error.line, error.code) for error in failed.errors] == [(6, "INVALID_QUANTITY")]


def test_blank_trailing_lines_are_ignored():
    result = parse_parts_list(b"Part ID,Quantity\r\n3001,1\r\n\r\n\r\n\n")

    assert result.ok, result.errors
    assert result.row_count == 1


def test_all_empty_records_are_skipped():
    content = csv_bytes("Part ID,Quantity,Color", ",,", "3001,1,Red", " , ,  ", "3002,2,")
    result = parse_parts_list(content)

    assert result.ok, result.errors
    assert [(part.part_id, part.line_number) for part in result.parts] == [("3001", 3), ("3002", 5)]


def test_semicolon_delimiter():
    result = parse_parts_list(csv_bytes("Part ID;Part Name;Quantity;Color", "3001;Brick 2,4;4;Red"))

    assert result.ok, result.errors
    assert result.format == "standard-csv"
    assert result.parts == [ParsedPart("3001", "Brick 2,4", "Red", 4, None, False, 2)]


def test_tab_delimiter():
    result = parse_parts_list(csv_bytes("Part\tColor\tQuantity\tIs Spare", "3001\t4\t6\tFalse", "3023\t0\t1\tTrue"))

    assert result.ok, result.errors
    assert result.format == "rebrickable-csv"
    assert [(part.part_id, part.color, part.is_spare) for part in result.parts] == [
        ("3001", "4", False),
        ("3023", "0", True),
    ]


def test_delimiter_comes_from_the_first_non_blank_line():
    result = parse_parts_list(csv_bytes("", "  ", "Part ID;Part Name;Quantity", "3001;Brick, 2 x 4;2"))

    assert result.ok, result.errors
    assert result.parts == [ParsedPart("3001", "Brick, 2 x 4", None, 2, None, False, 4)]


def test_delimiter_tie_goes_to_comma():
    # One comma and one semicolon: the comma wins, so "a;b" is a single cell.
    result = parse_parts_list(csv_bytes("Part ID,Qty;x", "3001,2;x"))

    assert result.format == "generic-csv"
    assert result.errors[0].code == "MISSING_COLUMN"  # "Qty;x" is not an alias


def test_headerless_csv_uses_positional_columns():
    result = parse_parts_list(csv_bytes("3001,4,Red,Brick 2 x 4,ignored", "3020,2"))

    assert result.ok, result.errors
    assert result.format == "headerless-csv"
    assert result.parts == [
        ParsedPart("3001", "Brick 2 x 4", "Red", 4, None, False, 1),
        ParsedPart("3020", None, None, 2, None, False, 2),
    ]


def test_headerless_record_without_a_quantity():
    result = parse_parts_list(csv_bytes("3001,4", "3003"))

    assert result.format == "headerless-csv"
    assert [(error.line, error.code, error.message) for error in result.errors] == [
        (2, "INVALID_QUANTITY", 'quantity must be a whole number between 1 and 100000 (got "")')
    ]


def test_headerless_first_record_after_blank_lines():
    result = parse_parts_list(b"\n\n3001,4\n")

    assert result.format == "headerless-csv"
    assert result.parts == [ParsedPart("3001", None, None, 4, None, False, 3)]


@pytest.mark.parametrize(
    ("field", "alias"), [(field, alias) for field, aliases in HEADER_ALIASES.items() for alias in aliases]
)
def test_every_header_alias_is_recognised(field, alias):
    headers = {
        "partId": "Part ID",
        "quantity": "Quantity",
        "color": "Color",
        "partName": "Part Name",
        "category": "Category",
        "isSpare": "Is Spare",
    }
    headers[field] = alias.upper()
    row = {"partId": "3001", "quantity": "2", "color": "Red", "partName": "Brick", "category": "Bricks", "isSpare": "y"}
    content = csv_bytes(",".join(headers.values()), ",".join(row[name] for name in headers))
    result = parse_parts_list(content)

    assert result.ok, result.errors
    assert result.parts == [ParsedPart("3001", "Brick", "Red", 2, "Bricks", True, 2)]


@pytest.mark.parametrize(
    ("header", "normalised_field"),
    [("Part ID", "partId"), ("part_number", "partId"), ("elementId", "partId"), ("Is Spare", "isSpare"),
     ("Part-No.", "partId"), ("  QTY  ", "quantity"), ("Colour", "color"), ("Part.Category", "category")],
)  # fmt: skip
def test_headers_are_normalised(header, normalised_field):
    assert ALIAS_TO_FIELD[normalise_header(header)] == normalised_field


def test_leftmost_matching_column_wins_and_unknown_columns_are_ignored():
    content = csv_bytes("Notes,Item ID,Part,Qty,Quantity,Colour,Color", "hello,3001,9999,2,7,Red,Blue")
    result = parse_parts_list(content)

    assert result.ok, result.errors
    assert result.parts == [ParsedPart("3001", None, "Red", 2, None, False, 2)]


def test_short_rows_read_missing_cells_as_empty():
    result = parse_parts_list(csv_bytes("Part ID,Quantity,Color,Part Name,Category,Is Spare", "3001,2"))

    assert result.parts == [ParsedPart("3001", None, None, 2, None, False, 2)]


def test_values_are_trimmed_and_empty_optional_values_become_null():
    content = csv_bytes("Part ID,Quantity,Color,Part Name,Category,Is Spare", "  3001 , 2 ,  , Brick ,Bricks , yes ")
    result = parse_parts_list(content)

    assert result.parts == [ParsedPart("3001", "Brick", None, 2, "Bricks", True, 2)]


# --- Header errors and format labels ----------------------------------------------------------------------------


def test_missing_part_id_column():
    result = parse_parts_list(csv_bytes("Name,Quantity", "Brick,2"))

    assert result.error_details() == {
        "errors": [
            {"line": 1, "column": "partId", "code": "MISSING_COLUMN", "message": "Missing required column: partId"}
        ],
        "errorCount": 1,
        "errorsTruncated": False,
        "format": "generic-csv",
    }
    assert result.parts == []


def test_missing_quantity_column():
    error = only_error(parse_parts_list(csv_bytes("Part ID,Color", "3001,Red")))

    assert (error.line, error.column, error.code) == (1, "quantity", "MISSING_COLUMN")
    assert error.message == "Missing required column: quantity"


def test_missing_both_columns_reports_each():
    result = parse_parts_list(csv_bytes("Color,Name", "Red,Brick"))

    assert [(error.column, error.code) for error in result.errors] == [
        ("partId", "MISSING_COLUMN"),
        ("quantity", "MISSING_COLUMN"),
    ]


def test_missing_column_is_reported_on_the_header_line():
    error = only_error(parse_parts_list(csv_bytes("", "", "Part ID,Color", "3001,Red")))

    assert (error.line, error.code) == (3, "MISSING_COLUMN")


@pytest.mark.parametrize(
    ("header", "label"),
    [
        ("elementId,quantity", "pick-a-brick-csv"),
        ("Element ID,Quantity,Notes", "pick-a-brick-csv"),  # unknown columns are not mapped
        ("elementId,quantity,color", "generic-csv"),
        ("elementId,qty", "generic-csv"),
        ("Part,Color,Quantity,Is Spare", "rebrickable-csv"),
        ("Is Spare,Quantity,Color,Part,Part Name", "rebrickable-csv"),
        ("Part ID,Part Name,Quantity,Color", "standard-csv"),
        ("part_id,part_name,quantity,colour,color", "standard-csv"),
        ("Part ID,Quantity", "generic-csv"),
        ("Design ID,Qty,Colour,Description", "generic-csv"),
    ],
)
def test_format_labels(header, label):
    result = parse_parts_list(csv_bytes(header, ",".join(["3001", "1", "2", "3", "4"][: header.count(",") + 1])))

    assert result.format == label


def test_headerless_label():
    assert parse_parts_list(b"3001,1\n").format == "headerless-csv"


# --- Record rules -----------------------------------------------------------------------------------------------


def standard(*rows: str) -> ParseResult:
    return parse_parts_list(csv_bytes("Part ID,Quantity,Color,Part Name,Category,Is Spare", *rows))


def test_missing_part_id():
    error = only_error(standard("   ,2"))

    assert (error.line, error.column, error.code, error.message) == (
        2,
        "partId",
        "MISSING_PART_ID",
        "part id is required",
    )


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("A" * 65 + ",1", "partId", "part id must be at most 64 characters"),
        ("3001,1," + "C" * 65, "color", "color must be at most 64 characters"),
        ("3001,1,Red," + "N" * 256, "partName", "part name must be at most 255 characters"),
        ("3001,1,Red,Brick," + "K" * 101, "category", "category must be at most 100 characters"),
    ],
)
def test_value_too_long(row, column, message):
    error = only_error(standard(row))

    assert (error.line, error.column, error.code, error.message) == (2, column, "VALUE_TOO_LONG", message)


def test_values_at_their_maximum_length_are_accepted():
    result = standard(",".join(["A" * 64, "1", "C" * 64, "N" * 255, "K" * 100]))

    assert result.ok, result.errors


@pytest.mark.parametrize(
    "quantity",
    ["3.5", "5abc", "0", "-2", "", "   ", "100001", "+3", "1_0", "1e3", "٣", "²", "\uff11", "99999999999999999999"],
)
def test_invalid_quantity(quantity):
    error = only_error(standard(f'3001,"{quantity}"'))

    assert (error.line, error.column, error.code) == (2, "quantity", "INVALID_QUANTITY")
    assert error.message == f'quantity must be a whole number between 1 and 100000 (got "{quantity.strip()}")'


def test_invalid_quantity_message_quotes_the_trimmed_cell():
    error = only_error(standard("3001, 3.5 "))

    assert error.message == 'quantity must be a whole number between 1 and 100000 (got "3.5")'


def test_invalid_quantity_message_cuts_a_very_long_cell():
    error = only_error(standard("3001," + "x" * 5000))

    assert len(error.message) < 120
    assert error.message.startswith('quantity must be a whole number between 1 and 100000 (got "xxxx')


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [("1", 1), ("100000", 100000), ("007", 7), (" 12 ", 12), ("0000000000001", 1), ("999", 999)],
)
def test_valid_quantity(quantity, expected):
    result = standard(f"3001,{quantity}")

    assert result.ok, result.errors
    assert result.parts[0].quantity == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("true", True), ("TRUE", True), ("t", True), ("Yes", True), ("y", True), ("1", True), ("false", False),
     ("False", False), ("F", False), ("no", False), ("N", False), ("0", False), ("", False), ("  ", False)],
)  # fmt: skip
def test_is_spare_values(cell, expected):
    result = standard(f"3001,1,Red,Brick,Bricks,{cell}")

    assert result.ok, result.errors
    assert result.parts[0].is_spare is expected


@pytest.mark.parametrize("cell", ["maybe", "2", "on", "yess"])
def test_invalid_boolean(cell):
    error = only_error(standard(f"3001,1,Red,Brick,Bricks,{cell}"))

    assert (error.line, error.column, error.code) == (2, "isSpare", "INVALID_BOOLEAN")
    assert error.message == f'is spare must be one of true/false/yes/no/1/0/t/f/y/n (got "{cell}")'


def test_every_rule_of_a_record_is_checked():
    result = standard(",0," + "C" * 65 + "," + "N" * 256 + "," + "K" * 101 + ",perhaps")

    assert [(error.line, error.column, error.code) for error in result.errors] == [
        (2, "partId", "MISSING_PART_ID"),
        (2, "quantity", "INVALID_QUANTITY"),
        (2, "color", "VALUE_TOO_LONG"),
        (2, "partName", "VALUE_TOO_LONG"),
        (2, "category", "VALUE_TOO_LONG"),
        (2, "isSpare", "INVALID_BOOLEAN"),
    ]
    assert result.parts == []


def test_every_record_is_checked():
    result = standard("3001,0", "3002,1", ",2", "3004,x")

    assert result.parts == []
    assert [(error.line, error.code) for error in result.errors] == [
        (2, "INVALID_QUANTITY"),
        (4, "MISSING_PART_ID"),
        (5, "INVALID_QUANTITY"),
    ]


def test_a_bad_row_deep_in_the_file_reports_its_line():
    rows = ["Part ID,Quantity"] + [f"{3000 + n},1" for n in range(1, 5000)]
    rows[3000] = "3999,lots"
    rows.insert(10, "")
    rows.insert(20, '"3010')  # a quoted part id over two lines
    rows.insert(21, '",1')
    content = csv_bytes(*rows)
    error = only_error(parse_parts_list(content))

    # Physical line = index + 1 in the final list of lines.
    assert error.line == rows.index("3999,lots") + 1 == 3004
    assert error.message == 'quantity must be a whole number between 1 and 100000 (got "lots")'


# --- File-level rules -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"\xef\xbb\xbf", b"\n\n\r\n  \n", b"Part ID,Quantity\n", b"Part ID,Quantity\n,\n\n", b",,,\n"],
)
def test_empty_file(content):
    result = parse_parts_list(content)

    assert result.error_details()["errors"] == [
        {"line": None, "column": None, "code": "EMPTY_FILE", "message": "File contains no parts"}
    ]
    assert result.field_messages() == ["File contains no parts"]


def test_ten_thousand_rows_are_accepted():
    content = csv_bytes("Part ID,Quantity", *(f"{n},1" for n in range(10_000)))
    result = parse_parts_list(content)

    assert result.ok, result.errors[:3]
    assert result.row_count == 10_000
    assert result.parts[-1].line_number == 10_001


def test_ten_thousand_and_one_rows_are_refused():
    content = csv_bytes("Part ID,Quantity", "", *(f"{n},1" for n in range(10_001)))
    result = parse_parts_list(content)

    assert result.error_details()["errors"] == [
        {"line": 10_003, "column": None, "code": "TOO_MANY_ROWS", "message": "Too many rows (max 10000)"}
    ]


def test_checking_stops_at_the_record_after_the_maximum():
    content = csv_bytes("Part ID,Quantity", "a,0", "b,1", "c,x", "d,y", "e,z")
    result = parse_parts_list(content, max_rows=3)

    assert [(error.line, error.code) for error in result.errors] == [
        (2, "INVALID_QUANTITY"),
        (4, "INVALID_QUANTITY"),
        (5, "TOO_MANY_ROWS"),
    ]
    assert result.errors[-1].message == "Too many rows (max 3)"


def test_blank_and_empty_records_do_not_count_towards_the_maximum():
    result = parse_parts_list(csv_bytes("Part ID,Quantity", "a,1", "", ",", "b,1"), max_rows=2)

    assert result.ok, result.errors


def test_a_cell_over_the_csv_module_limit_is_checked_like_any_other():
    """csv.field_size_limit() (128 KiB by default) is lifted: a long cell is a record-rule error on its column, and a
    long cell in an unknown column is ignored like the column."""
    long_name = b'Part ID,Quantity,Part Name\n3001,1,ok\n3002,1,"' + b"x" * 200_000 + b'"\n'
    long_note = b'Part ID,Quantity,Notes\n3001,1,ok\n3002,1,"' + b"x" * 200_000 + b'"\n'

    error = only_error(parse_parts_list(long_name))
    assert (error.line, error.column, error.code) == (3, "partName", "VALUE_TOO_LONG")
    assert parse_parts_list(long_note).ok


def test_error_details_are_truncated_at_fifty():
    content = csv_bytes("Part ID,Quantity", *(f"{n},0" for n in range(60)))
    result = parse_parts_list(content)
    details = result.error_details()

    assert len(details["errors"]) == 50
    assert details["errorCount"] == 60
    assert details["errorsTruncated"] is True
    assert details["errors"][-1]["line"] == 51
    assert len(result.field_messages()) == 50
    assert result.field_messages()[0] == 'Line 2: quantity must be a whole number between 1 and 100000 (got "0")'


def test_exactly_fifty_errors_are_not_truncated():
    result = parse_parts_list(csv_bytes("Part ID,Quantity", *(f"{n},0" for n in range(50))))

    assert result.error_details()["errorsTruncated"] is False
    assert result.error_details()["errorCount"] == 50


def test_totals_skip_spares_and_count_distinct_part_colour_pairs():
    result = standard("3001,2,Red", "3001,3,Blue", "3001,1,Red", "3001,5,Green,,,yes", "3002,4", "3002,1,,,,no")

    assert result.total_parts_count == 11
    assert result.unique_parts_count == 3  # (3001, Red), (3001, Blue), (3002, None)
    assert result.row_count == 6


def test_random_bytes_never_raise():
    rng = random.Random(5)
    alphabet = b'3001,;\t"\r\n x<>\xc4\x00\xef\xbb\xbf'
    for _ in range(300):
        content = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        result = parse_parts_list(content)
        if result.errors:
            assert result.parts == [], content  # any error fails the whole file (SPEC §5.6)
            assert all(error.code and error.message for error in result.errors), content
        else:
            assert result.parts, content  # a file with no parts is an error, never an empty success
            assert all(part.part_id and 1 <= part.quantity <= 100_000 for part in result.parts), content


# --- BrickLink XML ----------------------------------------------------------------------------------------------


def test_xml_is_detected_after_bom_and_whitespace_and_lines_count_from_the_file_start():
    content = (
        b'\xef\xbb\xbf\r\n\n  <?xml version="1.0" encoding="UTF-8"?>\n'
        b"<INVENTORY>\n<ITEM><ITEMID>3001</ITEMID></ITEM>\n</INVENTORY>"
    )
    result = parse_parts_list(content)

    assert result.ok, result.errors
    assert result.format == "bricklink-xml"
    assert result.parts == [ParsedPart("3001", None, None, 1, None, False, 5)]


def test_xml_tags_are_case_insensitive():
    content = b"""<inventory>
<item><itemtype>M</itemtype><itemid>sw0001</itemid><color>0</color><MinQty>2</MinQty></item>
<Item><ItemType>S</ItemType><ItemId>10294-1</ItemId><Qty>1</Qty></Item>
</inventory>"""
    result = parse_parts_list(content)

    assert result.ok, result.errors
    assert result.parts == [
        ParsedPart("sw0001", None, "0", 2, "Minifigure", False, 2),
        ParsedPart("10294-1", None, None, 1, "Set", False, 3),
    ]


def test_xml_quantity_falls_back_to_qty_then_one():
    content = b"""<INVENTORY>
<ITEM><ITEMID>a</ITEMID><MINQTY>3</MINQTY><QTY>9</QTY></ITEM>
<ITEM><ITEMID>b</ITEMID><QTY>9</QTY></ITEM>
<ITEM><ITEMID>c</ITEMID><MINQTY></MINQTY><QTY>7</QTY></ITEM>
<ITEM><ITEMID>d</ITEMID></ITEM>
<ITEM><ITEMID>e</ITEMID><MINQTY> </MINQTY><QTY/></ITEM>
</INVENTORY>"""
    result = parse_parts_list(content)

    assert result.ok, result.errors
    assert [(part.part_id, part.quantity) for part in result.parts] == [
        ("a", 3),
        ("b", 9),
        ("c", 7),
        ("d", 1),
        ("e", 1),
    ]


@pytest.mark.parametrize(
    ("item_type", "category"),
    [("P", "Part"), ("M", "Minifigure"), ("S", "Set"), ("G", "Gear"), ("B", "Book"), ("C", "Catalog"),
     ("I", "Instruction"), ("O", "Original Box"), ("p", "Part"), ("X", "X"), ("Sticker", "Sticker"), ("", None)],
)  # fmt: skip
def test_xml_item_type_becomes_the_category(item_type, category):
    content = f"<INVENTORY><ITEM><ITEMTYPE>{item_type}</ITEMTYPE><ITEMID>3001</ITEMID></ITEM></INVENTORY>".encode()

    assert parse_parts_list(content).parts[0].category == category


def test_xml_item_line_is_the_line_of_its_start_tag():
    content = b"""<INVENTORY>

  <ITEM
     >
    <ITEMID>3001</ITEMID>
    <MINQTY>0</MINQTY>
  </ITEM>
  <ITEM><ITEMID></ITEMID><MINQTY>2</MINQTY></ITEM>
</INVENTORY>"""
    result = parse_parts_list(content)

    assert [(error.line, error.column, error.code) for error in result.errors] == [
        (3, "quantity", "INVALID_QUANTITY"),
        (8, "partId", "MISSING_PART_ID"),
    ]
    assert result.format == "bricklink-xml"


def test_xml_ignores_other_elements_and_skips_empty_items():
    content = b"""<INVENTORY>
<ITEM><ITEMID>3001</ITEMID><REMARKS>x</REMARKS><CONDITION>N</CONDITION><NOTIFY>N</NOTIFY></ITEM>
<ITEM></ITEM>
<ITEM>   </ITEM>
<ITEM/>
</INVENTORY>"""
    result = parse_parts_list(content)

    assert result.ok, result.errors
    assert result.parts == [ParsedPart("3001", None, None, 1, None, False, 2)]


def test_xml_item_with_only_other_elements_has_no_part_id():
    content = b"<INVENTORY>\n<ITEM><ITEMID>3001</ITEMID></ITEM>\n<ITEM><REMARKS>a remark</REMARKS></ITEM>\n</INVENTORY>"
    result = parse_parts_list(content)

    assert [(error.line, error.code) for error in result.errors] == [(3, "MISSING_PART_ID")]


def test_xml_with_dtd_is_refused():
    content = b'<?xml version="1.0"?>\n<!DOCTYPE INVENTORY SYSTEM "inventory.dtd">\n<INVENTORY></INVENTORY>'
    error = only_error(parse_parts_list(content))

    assert (error.line, error.column, error.code) == (None, None, "XML_PARSE_ERROR")
    assert error.message.startswith("XML could not be parsed: ")


def test_xml_with_entities_is_refused():
    content = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
<INVENTORY><ITEM><ITEMID>&lol2;</ITEMID></ITEM></INVENTORY>"""
    result = parse_parts_list(content)

    assert codes(result) == ["XML_PARSE_ERROR"]
    assert result.parts == []
    assert result.format == "bricklink-xml"


def test_xml_with_an_undeclared_entity_is_refused():
    content = b"<INVENTORY><ITEM><ITEMID>&secret;</ITEMID></ITEM></INVENTORY>"

    assert codes(parse_parts_list(content)) == ["XML_PARSE_ERROR"]


def test_malformed_xml_reports_a_short_message_with_its_line():
    content = b"<INVENTORY>\n<ITEM><ITEMID>3001</ITEMID>\n</INVENTORY>"
    error = only_error(parse_parts_list(content))

    assert (error.code, error.line) == ("XML_PARSE_ERROR", 3)
    assert error.message == "XML could not be parsed: mismatched tag"


def test_xml_with_another_root_is_unsupported():
    error = only_error(parse_parts_list(b'<?xml version="1.0"?>\n<WANTEDLIST><ITEM/></WANTEDLIST>'))

    assert error.as_dict() == {
        "line": None,
        "column": None,
        "code": "UNSUPPORTED_FORMAT",
        "message": "Unsupported XML format: root element must be INVENTORY",
    }


def test_xml_without_items_is_empty():
    assert codes(parse_parts_list(b"<INVENTORY>\n</INVENTORY>\n")) == ["EMPTY_FILE"]


def test_xml_in_windows_1252_without_a_declaration_is_decoded():
    result = parse_parts_list(b"<INVENTORY><ITEM><ITEMID>3001\xc4</ITEMID></ITEM></INVENTORY>")

    assert result.ok, result.errors
    assert result.parts[0].part_id == "3001Ä"


def test_xml_declared_encoding_is_respected():
    content = b'<?xml version="1.0" encoding="windows-1252"?><INVENTORY><ITEM><ITEMID>\x80</ITEMID></ITEM></INVENTORY>'

    assert parse_parts_list(content).parts[0].part_id == "€"


def test_xml_too_many_items():
    items = "\n".join("<ITEM><ITEMID>3001</ITEMID></ITEM>" for _ in range(4))
    result = parse_parts_list(f"<INVENTORY>\n{items}\n</INVENTORY>".encode(), max_rows=3)

    assert [(error.line, error.code) for error in result.errors] == [(5, "TOO_MANY_ROWS")]


def test_xml_ten_thousand_and_one_items_are_refused():
    items = "\n".join(f"<ITEM><ITEMID>{n}</ITEMID></ITEM>" for n in range(10_001))
    result = parse_parts_list(f"<INVENTORY>\n{items}\n</INVENTORY>".encode())

    assert result.error_details()["errors"] == [
        {"line": 10_002, "column": None, "code": "TOO_MANY_ROWS", "message": "Too many rows (max 10000)"}
    ]


def test_csv_fast_path_agrees_with_the_record_rules():
    """The CSV loop accepts common records without calling check_record(); both must give the same parts and errors."""
    rng = random.Random(7)
    cells = {
        "partId": ["3001", " 3001 ", "", "  ", "A" * 64, "A" * 65, "973pr1234"],
        "quantity": ["1", "42", "1000", "1001", "100000", "100001", "0", " 7 ", "007", "3.5", "", "x", "٣"],
        "color": ["", "Red", " Red ", "C" * 64, "C" * 65],
        "partName": ["", "Brick", "N" * 255, "N" * 256],
        "category": ["", " Bricks ", "K" * 100, "K" * 101],
        "isSpare": ["", " ", "yes", "N", "0", "maybe"],
    }
    names = list(cells)
    rows = [[rng.choice(cells[name]) for name in names] for _ in range(3000)]
    content = csv_bytes(",".join(names), *(",".join(row) for row in rows))
    result = parse_csv(content)  # parse_parts_list() drops the parts of a failed file; parse_csv() keeps valid ones

    expected_errors: list[ParseError] = []
    expected_parts = [
        check_record(line, *row, errors=expected_errors)
        for line, row in enumerate(rows, 2)
        if any(c.strip() for c in row)
    ]
    assert result.parts == [part for part in expected_parts if part is not None]
    assert result.errors == expected_errors


def test_nul_byte_after_the_sniffed_prefix_fails_the_file():
    content = b"Part ID,Quantity\n" + b"3001,2\n" * 2000 + b"30\x0001,2\n"
    result = parse_parts_list(content)
    assert not result.ok
    assert result.parts == []
    assert [(e.line, e.code) for e in result.errors] == [(None, "UNSUPPORTED_FORMAT")]


# --- SPEC §5.6 CSV_PARSE_ERROR: a quoted field still open at the end of the file (defect 5) ----------------------

UNTERMINATED = csv_bytes("Part ID,Quantity,Part Name", '3001,1,"unterminated', "3002,2,x")
UNTERMINATED_ERROR = {"line": 2, "column": None, "code": "CSV_PARSE_ERROR", "message": "Unterminated quoted field"}


def test_unterminated_quote_fails_the_file_at_the_line_where_it_opened():
    result = parse_parts_list(UNTERMINATED)

    assert not result.ok
    assert result.parts == []
    assert result.error_details() == {
        "errors": [UNTERMINATED_ERROR],
        "errorCount": 1,
        "errorsTruncated": False,
        "format": "generic-csv",
    }
    assert result.field_messages() == ["Line 2: Unterminated quoted field"]


@pytest.mark.parametrize(
    ("lines", "line"),
    [
        (["Part ID,Quantity", '3001,"1', "3002,2", ""], 2),  # with a final newline
        (["Part ID,Quantity", "3001,1", "", "3002,2", '3003,"2'], 5),  # on the last line, after a blank line
        (["Part ID,Quantity", '"3001,1', "3002,2"], 2),  # in the first cell
        (['"Part ID,Quantity', "3001,1"], 1),  # in the header
        (["", '3001,1,"Red'], 2),  # headerless
        (["Part ID,Part Name,Quantity", '3001,"Brick', '2 x 4",1', '3002,"Plate",2', '3003,"Tile,1'], 5),
        (["Part ID,Part Name,Quantity", '3001,"Brick', '2 x 4","still open', "3002,x,1"], 3),  # after a closed one
        (["Part ID,Quantity", '3001,"1""', "3002,2"], 2),  # a doubled quote does not close it
    ],
)
def test_unterminated_quote_line(lines, line):
    result = parse_parts_list(csv_bytes(*lines, newline="\r\n"))

    assert [(e.line, e.column, e.code) for e in result.errors][-1:] == [(line, None, "CSV_PARSE_ERROR")]
    assert result.parts == []


def test_unterminated_quote_in_a_long_file_is_still_a_parse_error():
    content = b'Part ID,Quantity,Part Name\n3001,1,"open\n' + b"3002,2,Brick 2 x 4\n" * 9000
    assert [(e.line, e.code) for e in parse_parts_list(content).errors] == [(2, "CSV_PARSE_ERROR")]


def test_earlier_record_errors_are_kept_with_the_parse_error():
    result = parse_parts_list(csv_bytes("Part ID,Quantity", "3001,zero", '3002,"1'))

    assert [(e.line, e.code) for e in result.errors] == [(2, "INVALID_QUANTITY"), (3, "CSV_PARSE_ERROR")]


@pytest.mark.parametrize(
    "lines",
    [
        ["Part ID,Part Name,Quantity", '3001,"Brick ""2x4""",1'],
        ["Part ID,Part Name,Quantity", '3001,"Brick', '2x4",1'],
        ["Part ID,Part Name,Quantity", '3001,Brick "2x4,1'],  # a quote inside an unquoted cell is literal
        ["Part ID,Part Name,Quantity", '3001,"",1'],
    ],
)
def test_closed_quotes_are_not_parse_errors(lines):
    assert parse_parts_list(csv_bytes(*lines)).ok


@pytest.mark.django_db
def test_sync_upload_answers_the_parse_error_in_the_spec_format(auth_client):
    moc = MocFactory(user_id="csv-owner")
    upload = SimpleUploadedFile("bricks.csv", UNTERMINATED, content_type="text/csv")

    response = auth_client("csv-owner").post(
        f"/api/mocs/{moc.id}/upload-parts-list", {"file": upload}, format="multipart"
    )

    error = assert_error(response, 400, "VALIDATION_ERROR", "Failed to parse parts list file")
    assert error["details"] == {
        "fields": {"file": ["Line 2: Unterminated quoted field"]},
        "errors": [UNTERMINATED_ERROR],
        "errorCount": 1,
        "errorsTruncated": False,
        "format": "generic-csv",
    }
    assert not MocPartsList.objects.filter(moc=moc).exists()


@pytest.mark.django_db
def test_create_with_files_refuses_the_whole_moc(auth_client):
    fields = {"type": "moc", "title": "Quoted", "author": "J", "partsCount": 1, "theme": "City", "setNumber": "Q-1"}
    files = {
        "instructionsFile": SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf"),
        "partsLists": SimpleUploadedFile("bricks.csv", UNTERMINATED, content_type="text/csv"),
    }

    response = auth_client("csv-owner").post("/api/mocs/with-files", {**fields, **files}, format="multipart")

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert error["details"]["fields"]["partsLists"] == ["bricks.csv: Line 2: Unterminated quoted field"]
    assert not Moc.objects.filter(user_id="csv-owner").exists()


@pytest.mark.django_db
def test_parse_task_stores_the_parse_error_in_error_details(django_capture_on_commit_callbacks):
    moc = MocFactory(user_id="csv-owner")
    file = MocFileFactory(moc=moc, file_type=MocFileType.PARTS_LIST, original_filename="bricks.csv")
    file.file_url = moc_file_key(moc.user_id, moc.id, file.id, "csv")
    file.save()
    storage.save_bytes(file.file_url, UNTERMINATED, content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        parts_list = parts_list_create_pending(moc=moc, file=file)
    parts_list.refresh_from_db()

    assert parts_list.status == "failed"
    assert parts_list.error_details == {
        "errors": [UNTERMINATED_ERROR],
        "errorCount": 1,
        "errorsTruncated": False,
        "format": "generic-csv",
    }
    assert not parts_list.parts.exists()
