"""Vehicle lists as CSV: what spreadsheets send, each problem named by line and column, a lossless round trip."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booth_app.core.types import Vehicle, VehicleKind
from booth_app.core.vehicle_csv import (
    VehicleCsvError,
    format_vehicles,
    parse_vehicles,
    read_vehicles_csv,
    write_vehicles_csv,
)
from tests.unit.test_plates import plates

MONTH_CARD = Vehicle("京A12345", VehicleKind.MONTH, date(2026, 1, 1), date(2026, 12, 31), "张三", "3号楼")


def problems_of(text: str) -> list[str]:
    with pytest.raises(VehicleCsvError) as caught:
        parse_vehicles(text)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


# ---------------------------------------------------------------- what is accepted


def test_an_english_file() -> None:
    text = (
        "plate,kind,valid_from,valid_to,owner,note\n"
        "京A12345,month,2026-01-01,2026-12-31,张三,3号楼\n"
        "沪AD12345,whitelist,2025-06-01,,,\n"
    )
    assert parse_vehicles(text) == [
        MONTH_CARD,
        Vehicle("沪AD12345", VehicleKind.WHITELIST, date(2025, 6, 1)),
    ]


def test_a_chinese_file_with_chinese_kinds_in_another_column_order() -> None:
    text = (
        "类型,车牌,车主,开始日期,结束日期,备注\n"
        "月卡,京A12345,张三,2026-01-01,2026-12-31,3号楼\n"
        "黑名单,粤B54321,,2026-02-01,,逃费\n"
    )
    assert parse_vehicles(text) == [
        MONTH_CARD,
        Vehicle("粤B54321", VehicleKind.BLACKLIST, date(2026, 2, 1), note="逃费"),
    ]


def test_optional_columns_may_be_left_out() -> None:
    assert parse_vehicles("plate,kind,valid_from\n京A12345,白名单,2026-01-01\n") == [
        Vehicle("京A12345", VehicleKind.WHITELIST, date(2026, 1, 1))
    ]


def test_bom_blank_lines_spaces_and_spelling_are_forgiven() -> None:
    text = (
        "\ufeff\n"
        " Plate , KIND ,Valid_From,valid_to,owner,note,,\n"
        "\n"
        "京a·12345 , Month ,2026/1/1, 2026-12-31 , 张三 , 3号楼 ,,\n"
        ",,,,,\n"
        "   \n"
    )
    assert parse_vehicles(text) == [MONTH_CARD]


def test_quoted_fields_keep_commas_and_line_breaks() -> None:
    text = 'plate,kind,valid_from,valid_to,owner,note\n京A12345,month,2026-01-01,,"张三, 李四","第一行\n第二行"\n'
    (vehicle,) = parse_vehicles(text)
    assert (vehicle.owner, vehicle.note) == ("张三, 李四", "第一行\n第二行")


def test_a_file_with_only_a_header_has_no_vehicles() -> None:
    assert parse_vehicles("plate,kind,valid_from,valid_to,owner,note\r\n") == []


# ---------------------------------------------------------------- problems, each naming its line and column


def test_a_bad_date_is_named_by_line_and_column() -> None:
    text = (
        "plate,kind,valid_from,valid_to,owner,note\n"
        "京A12345,month,2026-01-01,2026-12-31,,\n"
        "京B12345,month,2026-01-01,2026-13-01,,\n"
    )
    assert problems_of(text) == ["第3行 valid_to：2026-13-01 不是日期（应为 YYYY-MM-DD）"]


def test_problems_use_the_files_own_column_names() -> None:
    text = "车牌,类型,开始日期,结束日期\n京A12345,月卡,2026-01-01,明年\n"
    assert problems_of(text) == ["第2行 结束日期：明年 不是日期（应为 YYYY-MM-DD）"]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        pytest.param("京A1234,month,2026-01-01,", "第2行 plate：京A1234 不是有效的车牌", id="bad-plate"),
        pytest.param(",month,2026-01-01,", "第2行 plate：车牌是空的", id="no-plate"),
        pytest.param(
            "京A12345,VIP,2026-01-01,",
            "第2行 kind：VIP 不是名单类型（应为 月卡、白名单、黑名单 或 month、whitelist、blacklist）",
            id="bad-kind",
        ),
        pytest.param(
            "京A12345,,2026-01-01,",
            "第2行 kind：类型是空的（应为 月卡、白名单、黑名单 或 month、whitelist、blacklist）",
            id="no-kind",
        ),
        pytest.param("京A12345,month,,", "第2行 valid_from：日期是空的（应为 YYYY-MM-DD）", id="no-start"),
        pytest.param(
            "京A12345,month,2026-02-30,", "第2行 valid_from：2026-02-30 不是日期（应为 YYYY-MM-DD）", id="feb-30"
        ),
        pytest.param(
            "京A12345,month,20260101,", "第2行 valid_from：20260101 不是日期（应为 YYYY-MM-DD）", id="no-dashes"
        ),
        pytest.param(
            "京A12345,month,2026-03-01,2026-02-28",
            "第2行 valid_to：结束日期 2026-02-28 早于开始日期 2026-03-01",
            id="ends-before-it-starts",
        ),
        pytest.param("京A12345,month,2026-01-01,,多余", "第2行：比表头多出 1 个值（多余）", id="extra-cell"),
    ],
)
def test_each_kind_of_bad_row(row: str, problem: str) -> None:
    assert problems_of(f"plate,kind,valid_from,valid_to\n{row}\n") == [problem]


def test_every_problem_of_every_line_is_listed_and_nothing_is_returned() -> None:
    text = (
        "plate,kind,valid_from,valid_to\n"
        "京A12345,month,2026-01-01,\n"  # good, but the file is taken whole or not at all
        "京X1,car,yesterday,\n"
        "\n"
        "京B12345,month,2026-01-01,2026-13-01\n"
    )
    assert problems_of(text) == [
        "第3行 plate：京X1 不是有效的车牌",
        "第3行 kind：car 不是名单类型（应为 月卡、白名单、黑名单 或 month、whitelist、blacklist）",
        "第3行 valid_from：yesterday 不是日期（应为 YYYY-MM-DD）",
        "第5行 valid_to：2026-13-01 不是日期（应为 YYYY-MM-DD）",
    ]


def test_the_same_plate_twice_is_a_problem_even_when_spelt_differently() -> None:
    text = "车牌,类型,开始日期\n京A12345,月卡,2026-01-01\n粤B11111,白名单,2026-01-01\n京a·12345,黑名单,2026-01-01\n"
    assert problems_of(text) == ["第4行 车牌：京A12345 在第2行已经出现过"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("", "文件是空的：第一行应为列名 plate,kind,valid_from,valid_to,owner,note", id="empty"),
        pytest.param("\ufeff\n \n", "文件是空的：第一行应为列名 plate,kind,valid_from,valid_to,owner,note", id="blank"),
        pytest.param(
            "京A12345,month,2026-01-01\n",
            "第1行不是表头：第一行应为列名 plate,kind,valid_from,valid_to,owner,note"
            "（或 车牌,类型,开始日期,结束日期,车主,备注）",
            id="no-header",
        ),
        pytest.param("plate,kind,owner\n", "第1行：缺少列 valid_from", id="missing-column"),
        pytest.param("plate,kind,valid_from,plate\n", "第1行：列 plate 出现了两次", id="twice"),
        pytest.param(
            "plate,kind,valid_from,phone\n",
            "第1行：不认识的列 phone"
            "（应为 plate、kind、valid_from、valid_to、owner、note 或 车牌、类型、开始日期、结束日期、车主、备注）",
            id="unknown-column",
        ),
    ],
)
def test_header_problems(text: str, problem: str) -> None:
    assert problems_of(text) == [problem]


# ---------------------------------------------------------------- files


def test_written_files_start_with_a_bom_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "vehicles.csv"
    vehicles = [MONTH_CARD, Vehicle("粤Z1234港", VehicleKind.WHITELIST, date(2026, 3, 1), owner="陈, 先生")]
    write_vehicles_csv(path, vehicles)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfplate,kind,valid_from,valid_to,owner,note\r\n")
    assert read_vehicles_csv(path) == vehicles


def test_a_gbk_file_as_excel_saves_it_in_china(tmp_path: Path) -> None:
    path = tmp_path / "月卡.csv"
    path.write_bytes(
        "车牌,类型,开始日期,结束日期,车主,备注\r\n京A12345,月卡,2026/1/1,2026/12/31,张三,3号楼\r\n".encode("gbk")
    )
    assert read_vehicles_csv(path) == [MONTH_CARD]


def test_a_utf8_file_without_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "vehicles.csv"
    path.write_text("车牌,类型,开始日期,结束日期,车主,备注\n京A12345,月卡,2026-01-01,2026-12-31,张三,3号楼\n", "utf-8")
    assert read_vehicles_csv(path) == [MONTH_CARD]


def test_a_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x80\x80")
    with pytest.raises(VehicleCsvError) as caught:
        read_vehicles_csv(path)
    assert caught.value.problems == [f"文件 {path} 既不是 UTF-8 也不是 GBK 编码的文本"]


def test_a_missing_file_is_one_sentence_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "gone.csv"
    with pytest.raises(VehicleCsvError) as caught:
        read_vehicles_csv(path)
    (problem,) = caught.value.problems
    assert problem.startswith(f"读不了文件 {path}：")


# ---------------------------------------------------------------- round trip

SPECIAL_PLATES = st.sampled_from(
    ["粤Z1234港", "粤Z1234澳", "京A1234学", "京A1234警", "沪A1234领", "使123456", "京A1234应急"]
)
# Owners and notes as a person types them: any text, but the reader trims the ends of each cell.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20).map(str.strip)


@st.composite
def vehicles(draw: st.DrawFn, plate: str) -> Vehicle:
    valid_from = draw(st.dates())
    valid_to = draw(st.none() | st.dates(min_value=valid_from))
    return Vehicle(plate, draw(st.sampled_from(VehicleKind)), valid_from, valid_to, draw(TEXT), draw(TEXT))


@given(st.lists(plates() | SPECIAL_PLATES, unique=True, max_size=12).flatmap(lambda ps: st.tuples(*map(vehicles, ps))))
def test_format_then_parse_is_the_same_list(generated: tuple[Vehicle, ...]) -> None:
    listed = list(generated)
    text = format_vehicles(listed)
    assert parse_vehicles(text) == listed
    assert parse_vehicles("\ufeff" + text) == listed  # as read back from a written file


def test_a_plate_the_file_spells_loosely_comes_back_canonical() -> None:
    day = date(2026, 1, 1)
    text = f"plate,kind,valid_from,valid_to\n 京Ａ·1234５,month,{day},{day + timedelta(days=30)}\n"
    assert parse_vehicles(text) == [Vehicle("京A12345", VehicleKind.MONTH, day, day + timedelta(days=30))]
