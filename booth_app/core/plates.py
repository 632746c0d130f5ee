"""Chinese licence plates: one canonical text, what kind of plate it is, and which known plate a misread one may be.

Cameras and keyboards spell the same plate many ways (full-width digits, ``京A·12345``, a lower-case letter, an
``O`` for a ``0``); :func:`normalise` turns them into one text so that a car's entry read and exit read compare equal.
When they still differ, :func:`match_candidates` ranks the plates of the cars inside by how likely each is to be the
one the exit camera misread. It never picks one: the cashier does.
"""

from __future__ import annotations

import enum
import re
import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

# Characters a plate camera's OCR mixes up. Each string is a group whose members are all confusable with one another.
# Groups may share a member without merging: N is confused with M and with H, but M and H are not confused.
CONFUSABLE_GROUPS: tuple[str, ...] = (
    "0DQO",
    "8B",
    "2Z",
    "1ILT7",
    "5S",
    "6G",
    "4A",
    "UV",
    "EF",
    "MN",
    "HN",
    "CG",
)

# The 31 mainland provinces, regions and municipalities, by their one-character abbreviation.
PROVINCES: frozenset[str] = frozenset("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼")

# Plates never use I and O: they would be read as 1 and 0.
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
SERIAL_CHARACTERS = string.digits + LETTERS

# What cameras send when they saw a car but no plate, after normalisation.
NO_PLATE_MARKERS: frozenset[str] = frozenset({"_无_", "无牌车", "无车牌", "无牌", "无"})

# Separators people and cameras put inside plates. Dashes are Unicode category Pd; these are the dots and minus signs.
_DOTS = frozenset(".。·•・‧∙⋅ꞏ⸱")
_MINUS_SIGNS = frozenset("−⁃")
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_NO_I_OR_O = str.maketrans("OI", "01")

# Edit costs in tenths, so that equal distances compare equal (0.3 + 0.3 + 0.3 is not 0.9 in floating point).
_COSTS_PER_EDIT = 10
_CONFUSED_COST = 3
_OTHER_COST = _INDEL_COST = _COSTS_PER_EDIT
_CONFUSABLE: frozenset[tuple[str, str]] = frozenset(
    (a, b) for group in CONFUSABLE_GROUPS for a in group for b in group if a != b
)


class PlateKind(enum.StrEnum):
    """What a plate's shape says about the vehicle; UNKNOWN is any text that fits no shape (usually a misread)."""

    NONE = "none"  # the camera saw no plate
    ORDINARY = "ordinary"  # 京A12345
    NEW_ENERGY = "new_energy"  # 京AD12345
    COACH = "coach"  # 京A1234学
    POLICE = "police"  # 京A1234警
    TRAILER = "trailer"  # 京A1234挂
    HONG_KONG = "hong_kong"  # 粤Z1234港
    MACAU = "macau"  # 粤Z1234澳
    CONSULATE = "consulate"  # 沪A1234领
    EMBASSY = "embassy"  # 京A1234使 or 使123456
    EMERGENCY = "emergency"  # 京A1234应急
    UNKNOWN = "unknown"


_SPECIAL_ENDINGS: dict[str, PlateKind] = {
    "学": PlateKind.COACH,
    "警": PlateKind.POLICE,
    "挂": PlateKind.TRAILER,
    "港": PlateKind.HONG_KONG,
    "澳": PlateKind.MACAU,
    "领": PlateKind.CONSULATE,
    "使": PlateKind.EMBASSY,
    "应急": PlateKind.EMERGENCY,
}
_P = "[" + "".join(sorted(PROVINCES)) + "]"
_L = "[" + LETTERS + "]"
_S = "[" + SERIAL_CHARACTERS + "]"
_SHAPES: tuple[tuple[re.Pattern[str], PlateKind], ...] = (
    (re.compile(f"{_P}{_L}{_S}{{5}}"), PlateKind.ORDINARY),
    (re.compile(f"{_P}{_L}{_S}{{6}}"), PlateKind.NEW_ENERGY),
    *((re.compile(f"{_P}{_L}{_S}{{4}}{ending}"), kind) for ending, kind in _SPECIAL_ENDINGS.items()),
    (re.compile("使[0-9]{6}"), PlateKind.EMBASSY),
)


def _is_separator(char: str) -> bool:
    # Cf covers zero-width spaces and byte-order marks that copy-paste brings along.
    return char.isspace() or char in _DOTS or char in _MINUS_SIGNS or unicodedata.category(char) in ("Pd", "Cf")


def normalise(raw: str) -> str:
    """The canonical text of a plate as a camera or a keyboard gave it; "" when there is no plate."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(char for char in text if not _is_separator(char))
    # Only ASCII is upper-cased: plates hold A-Z, and full case mapping changes lengths (ß -> SS). NFKC again because
    # dropping a separator can bring a letter and its accent together.
    text = unicodedata.normalize("NFKC", text.translate(_ASCII_UPPER))
    if text in NO_PLATE_MARKERS:
        return ""
    return text[:1] + text[1:].translate(_NO_I_OR_O)


def classify(plate: str) -> PlateKind:
    """The kind of a normalised plate; UNKNOWN for anything that is not a plate's shape."""
    if not plate:
        return PlateKind.NONE
    for shape, kind in _SHAPES:
        if shape.fullmatch(plate):
            return kind
    return PlateKind.UNKNOWN


@dataclass(frozen=True, slots=True)
class Plate:
    """A plate's canonical text with its kind and province."""

    text: str  # normalised; "" when the camera saw no plate
    kind: PlateKind
    province: str = ""  # the province abbreviation, "" when the text does not start with one

    @classmethod
    def parse(cls, raw: str) -> Plate:
        text = normalise(raw)
        return cls(text, classify(text), text[:1] if text[:1] in PROVINCES else "")


def is_valid(plate: str | Plate) -> bool:
    """Whether a plate (normalised text or parsed) has the shape of a real plate."""
    kind = plate.kind if isinstance(plate, Plate) else classify(plate)
    return kind not in (PlateKind.NONE, PlateKind.UNKNOWN)


class Confusion(NamedTuple):
    """A tail position where the read and the known plate differ only by an OCR mix-up."""

    position: int  # index in the normalised read
    read: str
    known: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A known plate that a misread plate may be, with the evidence for it."""

    plate: str  # as given in `known`
    distance: float  # weighted edit distance between the normalised texts; 0 = the same plate
    equal: int  # tail positions that are exactly equal
    similar: int  # tail positions that are equal or confusable (includes `equal`)
    confusions: tuple[Confusion, ...]  # the tail positions that are similar only by confusion
    same_province: bool


def _province_slot(plate: str) -> str:
    # A leading non-Latin character stands where the province is, even when the camera misread it as another one.
    return plate[:1] if plate[:1] and not plate[0].isascii() else ""


def _compare_tails(read: str, known: str, tail: int, read_offset: int) -> tuple[int, tuple[Confusion, ...]]:
    """Exactly equal positions and confusions among the last `tail` characters, right-aligned."""
    equal = 0
    confusions: list[Confusion] = []
    for back in range(min(tail, len(read), len(known)), 0, -1):
        read_char, known_char = read[-back], known[-back]
        if read_char == known_char:
            equal += 1
        elif (read_char, known_char) in _CONFUSABLE:
            confusions.append(Confusion(read_offset + len(read) - back, read_char, known_char))
    return equal, tuple(confusions)


def _edit_cost(a: str, b: str) -> int:
    """Weighted Levenshtein distance in tenths: a confusable substitution is cheaper than any other edit."""
    previous = list(range(0, (len(b) + 1) * _INDEL_COST, _INDEL_COST))
    for i, a_char in enumerate(a, 1):
        current = [i * _INDEL_COST]
        for j, b_char in enumerate(b, 1):
            if a_char == b_char:
                substitution = 0
            elif (a_char, b_char) in _CONFUSABLE:
                substitution = _CONFUSED_COST
            else:
                substitution = _OTHER_COST
            current.append(min(previous[j] + _INDEL_COST, current[j - 1] + _INDEL_COST, previous[j - 1] + substitution))
        previous = current
    return previous[-1]


def match_candidates(
    read: str, known: Iterable[str], *, min_equal: int = 5, tail: int = 6, limit: int = 5
) -> list[Candidate]:
    """The known plates a (mis)read plate may be, best first, at most `limit` of them.

    A known plate qualifies when it is the same plate, or when at least `min_equal` of the last `tail` characters after
    the province are similar (equal or confusable), right-aligned so that a dropped province or a missing character at
    the front still lines up. Ranking: smaller weighted edit distance, then more exactly equal tail positions, then the
    same province, then the plate text.
    """
    if tail < 1:
        raise ValueError(f"tail must be at least 1, got {tail}")
    if not 1 <= min_equal <= tail:
        raise ValueError(f"min_equal must be between 1 and tail ({tail}), got {min_equal}")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    target = normalise(read)
    if not target:
        return []
    target_province = _province_slot(target)
    target_body = target[len(target_province) :]
    ranked: list[tuple[tuple[int, int, bool, str], Candidate]] = []
    seen: set[str] = set()
    for plate in known:
        if plate in seen:
            continue
        seen.add(plate)
        text = normalise(plate)
        province = _province_slot(text)
        equal, confusions = _compare_tails(target_body, text[len(province) :], tail, len(target_province))
        if text != target and equal + len(confusions) < min_equal:
            continue  # this also drops cars that came in without a plate: "" has no tail
        cost = _edit_cost(target, text)  # only for qualifiers: the tail test is the cheap filter
        same_province = bool(target_province) and province == target_province
        candidate = Candidate(plate, cost / _COSTS_PER_EDIT, equal, equal + len(confusions), confusions, same_province)
        ranked.append(((cost, -equal, not same_province, plate), candidate))
    ranked.sort(key=lambda entry: entry[0])
    return [candidate for _, candidate in ranked[:limit]]
