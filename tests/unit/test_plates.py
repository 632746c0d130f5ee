"""Plate normalisation, classification and fuzzy matching of misread exit plates."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from booth_app.core.plates import (
    LETTERS,
    PROVINCES,
    SERIAL_CHARACTERS,
    Candidate,
    Confusion,
    Plate,
    PlateKind,
    classify,
    is_valid,
    match_candidates,
    normalise,
)

# ---------------------------------------------------------------- normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("京A12345", "京A12345", id="already-canonical"),
        pytest.param("京Ａ１２３４５", "京A12345", id="full-width"),
        pytest.param("京ａｂ１２３４", "京AB1234", id="full-width-lower-case"),
        pytest.param("京a12345", "京A12345", id="lower-case"),
        pytest.param("京 A 123 45", "京A12345", id="spaces"),
        pytest.param("京A\u300012345", "京A12345", id="ideographic-space"),
        pytest.param(" 京A12345\t\n", "京A12345", id="surrounding-whitespace"),
        pytest.param("京A.12345", "京A12345", id="dot"),
        pytest.param("京A．12345", "京A12345", id="full-width-dot"),
        pytest.param("京A·12345", "京A12345", id="middle-dot"),
        pytest.param("京A•12345", "京A12345", id="bullet"),
        pytest.param("京A・12345", "京A12345", id="katakana-middle-dot"),
        pytest.param("京A-12345", "京A12345", id="hyphen"),
        pytest.param("京A–12345", "京A12345", id="en-dash"),
        pytest.param("京A—12345", "京A12345", id="em-dash"),
        pytest.param("京A－12345", "京A12345", id="full-width-hyphen"),
        pytest.param("京A\u200b12345", "京A12345", id="zero-width-space"),
        pytest.param("京AO12I5", "京A01215", id="O-and-I-after-the-province"),
        pytest.param("京Ao1i34", "京A01134", id="lower-case-o-and-i"),
        pytest.param("京AＯ1234", "京A01234", id="full-width-O"),
        pytest.param("OA1234", "OA1234", id="first-character-is-kept"),
        pytest.param("粤Z·1234港", "粤Z1234港", id="special-plate"),
        pytest.param("京A1234应急", "京A1234应急", id="two-character-ending"),
        pytest.param("使 123-456", "使123456", id="embassy"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", " ", "\u3000\u3000", "\t", "_无_", "＿无＿", "无牌车", "无车牌", " 无 牌 车 ", "无牌", "无", "-·-"],
)
def test_no_plate_markers_normalise_to_empty(raw: str) -> None:
    assert normalise(raw) == ""


# ---------------------------------------------------------------- classify


@pytest.mark.parametrize(
    ("plate", "kind"),
    [
        ("", PlateKind.NONE),
        ("京A12345", PlateKind.ORDINARY),
        ("粤B1C2D3", PlateKind.ORDINARY),
        ("琼ZZZZZZ", PlateKind.ORDINARY),
        ("沪AD12345", PlateKind.NEW_ENERGY),
        ("苏E12345F", PlateKind.NEW_ENERGY),
        ("京A1234学", PlateKind.COACH),
        ("京A1234警", PlateKind.POLICE),
        ("冀A1234挂", PlateKind.TRAILER),
        ("粤Z1234港", PlateKind.HONG_KONG),
        ("粤Z1234澳", PlateKind.MACAU),
        ("沪A1234领", PlateKind.CONSULATE),
        ("京A1234使", PlateKind.EMBASSY),
        ("使123456", PlateKind.EMBASSY),
        ("京A1234应急", PlateKind.EMERGENCY),
        # too short, too long
        ("京A1234", PlateKind.UNKNOWN),
        ("京A1234567", PlateKind.UNKNOWN),
        ("京A123学", PlateKind.UNKNOWN),
        ("京A12345学", PlateKind.UNKNOWN),
        ("京A12345港", PlateKind.UNKNOWN),
        ("使12345", PlateKind.UNKNOWN),
        ("使1234567", PlateKind.UNKNOWN),
        # I and O are never used, neither as the letter nor in the serial
        ("京I12345", PlateKind.UNKNOWN),
        ("京O12345", PlateKind.UNKNOWN),
        ("京A1234O", PlateKind.UNKNOWN),
        ("京A12I45", PlateKind.UNKNOWN),
        ("京AD1234I", PlateKind.UNKNOWN),
        # the letter must be a letter
        ("京112345", PlateKind.UNKNOWN),
        # bad or missing province
        ("港A12345", PlateKind.UNKNOWN),
        ("台A12345", PlateKind.UNKNOWN),
        ("AB12345", PlateKind.UNKNOWN),
        ("A12345", PlateKind.UNKNOWN),
        ("学A1234京", PlateKind.UNKNOWN),
        # endings that are not plate kinds, or half of one
        ("京A1234应", PlateKind.UNKNOWN),
        ("京A1234急", PlateKind.UNKNOWN),
        ("京A1234军", PlateKind.UNKNOWN),
        ("使12345A", PlateKind.UNKNOWN),
        # not normalised: classify does not normalise
        ("京a12345", PlateKind.UNKNOWN),
        ("京A１２３４５", PlateKind.UNKNOWN),
        ("京A·12345", PlateKind.UNKNOWN),
        ("京A12345 ", PlateKind.UNKNOWN),
        ("_无_", PlateKind.UNKNOWN),
    ],
)
def test_classify(plate: str, kind: PlateKind) -> None:
    assert classify(plate) is kind


def test_there_are_31_provinces() -> None:
    assert len(PROVINCES) == 31


@pytest.mark.parametrize("province", sorted(PROVINCES))
def test_every_province_starts_a_plate(province: str) -> None:
    assert classify(f"{province}A12345") is PlateKind.ORDINARY


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("京a·12345", Plate("京A12345", PlateKind.ORDINARY, "京")),
        ("粤Z 1234 港", Plate("粤Z1234港", PlateKind.HONG_KONG, "粤")),
        ("京A1234O", Plate("京A12340", PlateKind.ORDINARY, "京")),
        ("使123456", Plate("使123456", PlateKind.EMBASSY, "")),
        ("无牌车", Plate("", PlateKind.NONE, "")),
        ("A12345", Plate("A12345", PlateKind.UNKNOWN, "")),
        ("京A12", Plate("京A12", PlateKind.UNKNOWN, "京")),
    ],
)
def test_plate_parse(raw: str, expected: Plate) -> None:
    assert Plate.parse(raw) == expected


@pytest.mark.parametrize(
    ("plate", "valid"),
    [
        ("京A12345", True),
        ("使123456", True),
        ("京A1234应急", True),
        ("", False),
        ("京I12345", False),
        ("京A·12345", False),
        (Plate.parse("京a·12345"), True),
        (Plate.parse("无牌车"), False),
        (Plate.parse("京A12"), False),
    ],
)
def test_is_valid(plate: str | Plate, valid: bool) -> None:
    assert is_valid(plate) is valid


# ---------------------------------------------------------------- match_candidates


def _plates(candidates: list[Candidate]) -> list[str]:
    return [candidate.plate for candidate in candidates]


def test_misread_exit_plate_finds_its_stay_first() -> None:
    # The exit camera swapped B and 8 and read a 2 as Z; 京A8B2Z7 differs in one place only, but not by confusion.
    found = match_candidates("京A8B2Z0", ["京A8B2Z7", "沪C12345", "京AB8220", "京AB8221"])
    assert _plates(found) == ["京AB8220", "京A8B2Z7", "京AB8221"]
    best = found[0]
    assert best.distance == pytest.approx(0.9)
    assert (best.equal, best.similar) == (3, 6)
    assert best.confusions == (Confusion(2, "8", "B"), Confusion(3, "B", "8"), Confusion(5, "Z", "2"))
    assert best.same_province


def test_misread_read_is_normalised_first() -> None:
    found = match_candidates("京a·8B2ZO", ["京AB8220"])
    assert _plates(found) == ["京AB8220"]
    assert found[0].distance == pytest.approx(0.9)


def test_known_plates_are_normalised_but_returned_as_given() -> None:
    found = match_candidates("京A12345", ["京A·12345"])
    assert _plates(found) == ["京A·12345"]
    assert found[0].distance == 0


def test_dropped_province_still_matches() -> None:
    found = match_candidates("A8B2Z0", ["京AB8221", "京AB8220", "沪C12345"])
    assert _plates(found) == ["京AB8220", "京AB8221"]
    assert found[0].distance == pytest.approx(1.9)  # the province deleted, three confusions
    assert (found[0].equal, found[0].similar) == (3, 6)
    assert not found[0].same_province


def test_no_province_on_either_side_is_not_the_same_province() -> None:
    found = match_candidates("A8B2Z0", ["AB8220"])
    assert _plates(found) == ["AB8220"]
    assert not found[0].same_province


def test_tails_are_right_aligned_across_lengths() -> None:
    # A new-energy plate whose extra character the camera missed: the ends line up, the fronts do not.
    found = match_candidates("京A12345", ["京AD12345"])
    assert _plates(found) == ["京AD12345"]
    assert found[0].distance == pytest.approx(1.0)
    assert (found[0].equal, found[0].similar) == (5, 5)


def test_province_is_ignored_by_the_tail_rule() -> None:
    found = match_candidates("沪A12345", ["京A12345"], min_equal=6)
    assert _plates(found) == ["京A12345"]
    assert found[0].equal == 6
    assert not found[0].same_province


def test_province_never_counts_as_a_tail_position() -> None:
    # A tail longer than the plate reaches the province; it still counts only the characters after it.
    found = match_candidates("京A12345", ["京A12349", "沪A12349"], tail=8, min_equal=5)
    assert [(c.plate, c.equal, c.similar) for c in found] == [("京A12349", 5, 5), ("沪A12349", 5, 5)]


def test_unrelated_plates_do_not_qualify() -> None:
    assert match_candidates("京A12345", ["沪B67890", "粤Z9876港", "京A98765", "京A12399", "京B54321", "使123456"]) == []


@pytest.mark.parametrize(
    ("known", "min_equal", "found"),
    [
        ("京A12349", 5, True),  # one position differs
        ("京A12349", 6, False),
        ("京A12399", 5, False),  # two positions differ
        ("京A12399", 4, True),
        ("京A1234S", 6, True),  # 5/S is a confusion: similar, not equal
        ("京A1Z34S", 6, True),  # two confusions, four equal
    ],
)
def test_min_equal_is_honoured(known: str, min_equal: int, found: bool) -> None:
    assert bool(match_candidates("京A12345", [known], min_equal=min_equal)) is found


_CONFUSABLE_PAIRS = ["8B", "2Z", "5S", "6G", "4A", "UV", "EF", "MN", "HN", "CG"]


@pytest.mark.parametrize(
    ("read", "known"),
    [
        *itertools.permutations("0DQ", 2),
        *itertools.permutations("1LT7", 2),
        *_CONFUSABLE_PAIRS,
        *(pair[::-1] for pair in _CONFUSABLE_PAIRS),
    ],
)
def test_confusable_characters_cost_less_than_other_substitutions(read: str, known: str) -> None:
    found = match_candidates(f"京A1234{read}", [f"京A1234{known}"], min_equal=6)
    assert [(c.equal, c.similar) for c in found] == [(5, 6)]
    assert found[0].distance == pytest.approx(0.3)


@pytest.mark.parametrize(("read", "known"), ["MH", "34", "9P", "C6", "AB", "08", "D8", "1Z", "UW", "KX"])
def test_other_characters_are_not_confusable(read: str, known: str) -> None:
    assert match_candidates(f"京A1234{read}", [f"京A1234{known}"], min_equal=6) == []
    assert [c.distance for c in match_candidates(f"京A1234{read}", [f"京A1234{known}"])] == [pytest.approx(1.0)]


def test_exact_plate_is_first_with_distance_zero() -> None:
    found = match_candidates("京A12345", ["京A1234S", "京A12346", "京A12345", "云A12345"])
    assert found[0] == Candidate("京A12345", 0.0, 6, 6, (), True)
    assert _plates(found) == ["京A12345", "京A1234S", "云A12345", "京A12346"]


def test_exact_plate_is_found_even_when_too_short_for_the_tail_rule() -> None:
    assert _plates(match_candidates("京A1", ["京A1", "京A2"])) == ["京A1"]


def test_smaller_distance_ranks_before_more_equal_positions() -> None:
    # 沪A12345: a province substitution (1.0), 6 equal; 京A1234S: a confusion (0.3), 5 equal.
    assert _plates(match_candidates("京A12345", ["沪A12345", "京A1234S"])) == ["京A1234S", "沪A12345"]


def test_more_equal_positions_rank_before_the_same_province() -> None:
    # Both cost one substitution; 沪A12345 has all six tail positions equal, 京A12346 the same province.
    assert _plates(match_candidates("京A12345", ["京A12346", "沪A12345"])) == ["沪A12345", "京A12346"]


def test_same_province_ranks_before_the_plate_text() -> None:
    # With a tail of 5 both have 5 equal positions and cost 1; 云 sorts before 京 as text.
    found = match_candidates("京A12345", ["云A12345", "京B12345"], tail=5)
    assert _plates(found) == ["京B12345", "云A12345"]


@pytest.mark.parametrize("known", list(itertools.permutations(["京A12347", "京A12346", "京A12348"])))
def test_ties_are_ranked_by_plate_text_whatever_the_input_order(known: tuple[str, ...]) -> None:
    assert _plates(match_candidates("京A12345", known)) == ["京A12346", "京A12347", "京A12348"]


def test_limit_is_honoured() -> None:
    known = [f"京A1234{char}" for char in "0679BCDEFS"]
    assert _plates(match_candidates("京A12345", known, limit=3)) == ["京A1234S", "京A12340", "京A12346"]
    assert len(match_candidates("京A12345", known)) == 5
    assert len(match_candidates("京A12345", known, limit=20)) == len(known)


def test_duplicate_known_plates_are_listed_once() -> None:
    assert _plates(match_candidates("京A12345", ["京A12345", "京A12346", "京A12345"])) == ["京A12345", "京A12346"]


@pytest.mark.parametrize("read", ["", "   ", "无牌车", "_无_"])
def test_no_plate_read_finds_nothing(read: str) -> None:
    assert match_candidates(read, ["京A12345", ""]) == []


def test_known_cars_without_a_plate_are_never_candidates() -> None:
    assert match_candidates("京A12345", ["", "无牌车", "_无_"], min_equal=1) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_equal": 0}, "min_equal must be between 1 and tail"),
        ({"min_equal": 7}, "min_equal must be between 1 and tail"),
        ({"tail": 4}, "min_equal must be between 1 and tail"),  # the default min_equal of 5 exceeds it
        ({"tail": 0, "min_equal": 0}, "tail must be at least 1"),
        ({"limit": 0}, "limit must be at least 1"),
        ({"limit": -1}, "limit must be at least 1"),
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        match_candidates("京A12345", ["京A12345"], **kwargs)


# ---------------------------------------------------------------- properties


def plates() -> st.SearchStrategy[str]:
    """Canonical ordinary and new-energy plates."""
    serial = st.text(alphabet=SERIAL_CHARACTERS, min_size=5, max_size=6)
    return st.builds(
        lambda p, letter, s: p + letter + s, st.sampled_from(sorted(PROVINCES)), st.sampled_from(LETTERS), serial
    )


@given(st.text())
def test_normalise_is_idempotent_and_never_raises(raw: str) -> None:
    once = normalise(raw)
    assert normalise(once) == once


@given(st.text())
def test_normalised_text_has_no_separators_lower_case_or_i_and_o(raw: str) -> None:
    text = normalise(raw)
    assert not any(char.isspace() or char in "-.·" for char in text)
    assert not any("a" <= char <= "z" for char in text)
    assert "O" not in text[1:]
    assert "I" not in text[1:]


@given(plates(), st.lists(st.sampled_from(["", " ", "·", "-", "\u3000"]), min_size=8, max_size=8), st.booleans())
def test_decorated_plates_normalise_back(plate: str, separators: list[str], lower: bool) -> None:
    decorated = "".join(char + separator for char, separator in zip(plate, separators, strict=False))
    assert normalise(decorated.lower() if lower else decorated) == plate


@given(plates())
def test_generated_plates_are_canonical_and_valid(plate: str) -> None:
    assert normalise(plate) == plate
    assert classify(plate) is (PlateKind.ORDINARY if len(plate) == 7 else PlateKind.NEW_ENERGY)


@given(st.text())
def test_classify_and_parse_never_raise(raw: str) -> None:
    assert classify(raw) in PlateKind
    assert Plate.parse(raw).kind is classify(normalise(raw))


@given(st.one_of(plates(), st.text(min_size=1)), st.lists(st.one_of(plates(), st.text()), max_size=20))
def test_a_plate_matches_itself_first(read: str, others: list[str]) -> None:
    assume(normalise(read))
    found = match_candidates(read, [*others, read])
    assert found[0].distance == 0
    assert normalise(found[0].plate) == normalise(read)


@given(
    st.one_of(plates(), st.text()),
    st.lists(st.one_of(plates(), st.text()), max_size=30),
    st.data(),
)
def test_match_candidates_never_raises_and_respects_limit(read: str, known: list[str], data: st.DataObject) -> None:
    tail = data.draw(st.integers(1, 8), label="tail")
    min_equal = data.draw(st.integers(1, tail), label="min_equal")
    limit = data.draw(st.integers(1, 6), label="limit")
    found = match_candidates(read, known, min_equal=min_equal, tail=tail, limit=limit)
    assert len(found) <= limit
    assert [c.distance for c in found] == sorted(c.distance for c in found)
    for candidate in found:
        assert candidate.similar >= min_equal or normalise(candidate.plate) == normalise(read)
        assert candidate.similar == candidate.equal + len(candidate.confusions)
