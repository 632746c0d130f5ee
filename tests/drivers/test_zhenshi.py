"""ZhenShi push parsing, resend recognition and the answers to the camera (lpr-camera.md)."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.zhenshi import (
    NO_PLATE,
    IoValue,
    PlateColour,
    PlatePush,
    PushError,
    ResendCache,
    decode_body,
    encode_response,
    idle_response,
    info_response,
    ioctrl_response,
    merge_responses,
    parse_push,
    serial_chunk,
    serial_data_response,
)

JPEG = b"\xff\xd8\xff\xe0 fake jpeg \xff\xd9"


def sample(licence: str = "京A12345", **result_changes: Any) -> dict[str, Any]:
    """The push printed on the protocol page, with its placeholders filled in."""
    result = {
        "license": licence,
        "colorType": 1,
        "type": 1,
        "confidence": 92,
        "direction": 0,
        "triggerType": 8,
        "plateid": 1234,
        "timeStamp": {"Timeval": {"sec": 1621502665, "usec": 0}},
        "location": {"RECT": {"left": 10, "top": 20, "right": 110, "bottom": 50}},
        "imageFile": base64.b64encode(JPEG).decode(),
        "imageFragmentFile": "",
        "isoffline": 0,
    }
    result.update(result_changes)
    return {
        "AlarmInfoPlate": {
            "channel": 0,
            "deviceName": "东门入口",
            "ipaddr": "192.0.2.10",
            "serialno": "e1b2c3d4-5e6f7a8b",
            "result": {"PlateResult": result},
        }
    }


def body(document: Any, encoding: str = "utf-8") -> bytes:
    return json.dumps(document, ensure_ascii=False).encode(encoding)


# ---------------------------------------------------------------- good pushes


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_the_sample_push_parses_in_either_encoding(encoding: str) -> None:
    push = parse_push(body(sample(), encoding))

    assert push.plate == "京A12345"
    assert push.has_plate
    assert push.colour is PlateColour.BLUE
    assert push.colour_code == 1
    assert push.confidence == 92
    assert push.plate_id == 1234
    assert push.read_at == datetime(2021, 5, 20, 9, 24, 25, tzinfo=UTC)
    assert push.timestamp == (1621502665, 0)
    assert push.serialno == "e1b2c3d4-5e6f7a8b"
    assert push.ip == "192.0.2.10"
    assert push.camera == "e1b2c3d4-5e6f7a8b"
    assert push.device_name == "东门入口"
    assert (push.channel, push.plate_type, push.direction, push.trigger_type) == (0, 1, 0, 8)
    assert not push.is_offline
    assert push.location == (10, 20, 110, 50)
    assert push.image_jpeg == JPEG
    assert push.plate_image_jpeg is None


def test_a_gbk_plate_that_happens_to_be_valid_utf8_is_still_read_as_gbk() -> None:
    # "鲁" is C2 B3 in GBK, which UTF-8 decodes as "³": with only ASCII around it both decodings succeed
    document = sample("鲁A12345")
    document["AlarmInfoPlate"]["deviceName"] = "gate"
    raw = body(document, "gbk")
    raw.decode("utf-8")  # the trap is real

    assert parse_push(raw).plate == "鲁A12345"


def test_a_utf8_body_with_a_bom_or_a_wrong_charset_hint_is_read_as_utf8() -> None:
    raw = body(sample("苏E·12345"))
    assert parse_push(b"\xef\xbb\xbf" + raw).plate == "苏E·12345"
    assert parse_push(raw, charset="gbk").plate == "苏E·12345"
    assert parse_push(body(sample(), "gbk"), charset="no-such-charset").plate == "京A12345"


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
@pytest.mark.parametrize("licence", [NO_PLATE, "", "  "])
def test_no_plate_is_an_explicit_read_not_an_error(licence: str, encoding: str) -> None:
    push = parse_push(body(sample(licence, colorType=0, confidence=0), encoding))

    assert push.plate is None
    assert not push.has_plate
    assert push.colour is PlateColour.UNKNOWN


def test_optional_fields_may_be_missing_or_null() -> None:
    document = sample(location=None, imageFile=None)
    alarm = document["AlarmInfoPlate"]
    for key in ("channel", "deviceName", "serialno"):
        del alarm[key]
    for key in ("type", "direction", "triggerType", "isoffline", "imageFragmentFile"):
        del alarm["result"]["PlateResult"][key]
    del alarm["result"]["PlateResult"]["timeStamp"]["Timeval"]["usec"]

    push = parse_push(body(document))

    assert push.serialno is None
    assert push.camera == "192.0.2.10"
    assert push.location is None
    assert push.image_jpeg is None
    assert (push.channel, push.device_name, push.trigger_type, push.is_offline) == (0, "", 0, False)


def test_an_unlisted_colour_code_is_kept_raw_and_the_plate_is_stripped() -> None:
    push = parse_push(body(sample(" 粤B12345 ", colorType=42, isoffline=1)))

    assert push.plate == "粤B12345"
    assert (push.colour, push.colour_code) == (PlateColour.UNKNOWN, 42)
    assert push.is_offline


def test_a_damaged_picture_does_not_cost_the_read() -> None:
    push = parse_push(body(sample(imageFile="not base64 at all!")))

    assert push.plate == "京A12345"
    assert push.image_jpeg is None


def test_pictures_stay_out_of_the_repr() -> None:
    assert "fake jpeg" not in repr(parse_push(body(sample())))


# ---------------------------------------------------------------- bad pushes


def _without(path: str) -> dict[str, Any]:
    document = sample()
    *parents, last = path.split(".")
    node = document
    for key in parents:
        node = node[key]
    del node[last]
    return document


def _with(path: str, value: Any) -> dict[str, Any]:
    document = sample()
    *parents, last = path.split(".")
    node = document
    for key in parents:
        node = node[key]
    node[last] = value
    return document


PLATE = "AlarmInfoPlate.result.PlateResult"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not JSON"),
        (b"{not json", "not JSON"),
        (b"\xff\xff\xff", "neither UTF-8 nor GBK"),
        (b"[1, 2]", "must be a JSON object, not an array"),
        (b"null", "must be a JSON object, not null"),
        (body({}), "has no AlarmInfoPlate"),
        (body({"AlarmInfoPlate": "x"}), "AlarmInfoPlate must be a JSON object, not a string"),
        (body(_without("AlarmInfoPlate.result")), "has no AlarmInfoPlate.result"),
        (body(_with("AlarmInfoPlate.result.PlateResult", [])), f"{PLATE} must be a JSON object, not an array"),
        (body(_without(f"{PLATE}.license")), f"has no {PLATE}.license"),
        (body(_with(f"{PLATE}.license", 5)), f"{PLATE}.license must be a string, not an integer"),
        (json.dumps(_with(f"{PLATE}.license", "\ud800")).encode(), f"{PLATE}.license is not valid Unicode"),
        (body(_with(f"{PLATE}.confidence", "92")), f"{PLATE}.confidence must be an integer, not a string"),
        (body(_with(f"{PLATE}.confidence", 9.5)), "must be an integer, not a fractional number"),
        (body(_with(f"{PLATE}.plateid", True)), f"{PLATE}.plateid must be an integer, not a boolean"),
        (body(_without(f"{PLATE}.colorType")), f"has no {PLATE}.colorType"),
        (body(_without(f"{PLATE}.timeStamp")), f"has no {PLATE}.timeStamp"),
        (body(_with(f"{PLATE}.timeStamp.Timeval.sec", -1)), "sec must be seconds since 1970"),
        (body(_with(f"{PLATE}.timeStamp.Timeval.sec", 10**20)), "sec must be seconds since 1970"),
        (body(_with(f"{PLATE}.timeStamp.Timeval.usec", 1_000_000)), "usec must be 0 to 999999"),
        (body(_with(f"{PLATE}.location", {"RECT": {"left": 1}})), f"has no {PLATE}.location.RECT.top"),
        (body(_with("AlarmInfoPlate.serialno", 7)), "AlarmInfoPlate.serialno must be a string"),
        (body(_with("AlarmInfoPlate.channel", "0")), "AlarmInfoPlate.channel must be an integer"),
        (b'{"AlarmInfoPlate": {"result": {"PlateResult": {}}}}', "neither by AlarmInfoPlate.serialno nor"),
        (b"[" * 100_000, "too deeply nested"),
        (b"1" * 5000, "too long a number"),
    ],
)
def test_malformed_pushes_raise_one_sentence_naming_the_problem(raw: bytes, message: str) -> None:
    with pytest.raises(PushError) as caught:
        parse_push(raw)

    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert ". " not in text  # one sentence


def test_push_error_is_a_value_error() -> None:
    assert issubclass(PushError, ValueError)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
PATHS = [
    "AlarmInfoPlate",
    "AlarmInfoPlate.result",
    "AlarmInfoPlate.serialno",
    "AlarmInfoPlate.ipaddr",
    "AlarmInfoPlate.channel",
    "AlarmInfoPlate.deviceName",
    *(
        f"{PLATE}.{key}"
        for key in [
            "license",
            "colorType",
            "type",
            "confidence",
            "direction",
            "triggerType",
            "plateid",
            "timeStamp",
            "timeStamp.Timeval",
            "timeStamp.Timeval.sec",
            "timeStamp.Timeval.usec",
            "location",
            "location.RECT",
            "imageFile",
            "imageFragmentFile",
            "isoffline",
        ]
    ),
]


def _parses_or_refuses(raw: bytes) -> None:
    try:
        outcome: PlatePush | PushError = parse_push(raw)
    except PushError as exc:
        outcome = exc
    if isinstance(outcome, PushError):
        assert str(outcome)
        assert "\n" not in str(outcome)
    else:
        assert isinstance(outcome, PlatePush)


@settings(max_examples=300)
@given(json_values)
def test_random_json_only_ever_raises_push_error(document: Any) -> None:
    _parses_or_refuses(json.dumps(document).encode())


@settings(max_examples=300)
@given(st.sampled_from(PATHS), json_values, st.sampled_from(["utf-8", "gb18030"]))
def test_a_sample_with_one_field_replaced_by_random_json_only_ever_raises_push_error(
    path: str, value: Any, encoding: str
) -> None:
    # lone surrogates in random text: pass them through as bytes (UTF-8) or replace them (GB18030 cannot carry them)
    errors = "surrogatepass" if encoding == "utf-8" else "replace"
    _parses_or_refuses(json.dumps(_with(path, value), ensure_ascii=False).encode(encoding, errors))


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_random_bytes_only_ever_raise_push_error(raw: bytes) -> None:
    _parses_or_refuses(raw)


PLATE_CHARACTERS = (
    "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领警学港澳挂ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
)


@settings(max_examples=300)
@given(
    st.text(st.sampled_from(PLATE_CHARACTERS), min_size=1, max_size=8), st.booleans(), st.sampled_from(["utf-8", "gbk"])
)
def test_every_plate_survives_either_encoding(plate: str, chinese_name: bool, encoding: str) -> None:
    document = sample(plate)
    document["AlarmInfoPlate"]["deviceName"] = "东门入口" if chinese_name else "gate"

    assert parse_push(body(document, encoding)).plate == plate


def test_decode_body_refuses_undecodable_bytes() -> None:
    with pytest.raises(PushError):
        decode_body(b"\x80\xff")


# ---------------------------------------------------------------- resends


def _push(**changes: Any) -> PlatePush:
    return parse_push(body(sample(**changes)))


def test_a_resend_of_the_same_read_is_recognised() -> None:
    cache = ResendCache()
    first = _push()

    assert not cache.seen(first)
    assert cache.seen(_push())  # the camera sent it again: same plate id and timestamp
    assert not cache.seen(_push(plateid=1235))
    assert not cache.seen(_push(timeStamp={"Timeval": {"sec": 1621502665, "usec": 1}}))


def test_the_same_plate_id_from_another_camera_is_not_a_resend() -> None:
    cache = ResendCache()
    other = sample()
    other["AlarmInfoPlate"]["serialno"] = "another-camera"

    assert not cache.seen(_push())
    assert not cache.seen(parse_push(body(other)))


def test_the_resend_cache_is_bounded_and_forgets_the_oldest_read() -> None:
    cache = ResendCache(capacity=3)
    pushes = [_push(plateid=n) for n in range(4)]
    for push in pushes:
        assert not cache.seen(push)

    assert len(cache) == 3
    assert cache.seen(pushes[3])
    assert not cache.seen(pushes[0])  # forgotten: it was the oldest
    with pytest.raises(ValueError, match="at least one"):
        ResendCache(capacity=0)


# ---------------------------------------------------------------- answers


def test_info_answers_are_exactly_the_page_s_json() -> None:
    assert info_response(True) == {"Response_AlarmInfoPlate": {"info": "ok", "channelNum": 0}}
    assert info_response(False) == {"Response_AlarmInfoPlate": {"info": "no", "channelNum": 0}}
    frame = bytes.fromhex("00 64 FF FF 0F 06 00 01 00 00 00 05 24 B7")
    assert info_response(True, serial_data=[frame]) == {
        "Response_AlarmInfoPlate": {
            "info": "ok",
            "channelNum": 0,
            "serialData": [{"serialChannel": 0, "data": "AGT//w8GAAEAAAAFJLc=", "dataLen": 14}],
        }
    }


def test_serial_data_passes_bytes_through_as_base64_with_their_channel() -> None:
    assert serial_chunk(b"\x01\x02\x03", serial_channel=1) == {"serialChannel": 1, "data": "AQID", "dataLen": 3}
    assert serial_data_response(b"\x01", b"\x02\x03") == {
        "Response_AlarmInfoPlate": {
            "serialData": [
                {"serialChannel": 0, "data": "AQ==", "dataLen": 1},
                {"serialChannel": 0, "data": "AgM=", "dataLen": 2},
            ]
        }
    }
    with pytest.raises(ValueError, match="at least one byte"):
        serial_chunk(b"")


def test_an_io_pulse_is_exactly_the_page_s_json() -> None:
    assert ioctrl_response() == {"Response_AlarmInfoPlate": {"ivs_ioctrl": {"io": 0, "value": 2, "delay": 500}}}
    assert ioctrl_response(1, IoValue.HOLD_ON, 0) == {
        "Response_AlarmInfoPlate": {"ivs_ioctrl": {"io": 1, "value": 1, "delay": 0}}
    }
    with pytest.raises(ValueError, match="output 8"):
        ioctrl_response(8)
    with pytest.raises(ValueError, match="-1 ms"):
        ioctrl_response(0, IoValue.PULSE, -1)


def test_an_idle_poll_answer_and_merged_answers() -> None:
    assert idle_response() == {"status": "ok"}
    assert merge_responses() == {"status": "ok"}
    assert merge_responses(idle_response()) == {"status": "ok"}
    merged = merge_responses(
        info_response(False, serial_data=[b"\x01"]), ioctrl_response(), serial_data_response(b"\x02")
    )
    assert merged == {
        "Response_AlarmInfoPlate": {
            "info": "no",
            "channelNum": 0,
            "serialData": [
                {"serialChannel": 0, "data": "AQ==", "dataLen": 1},
                {"serialChannel": 0, "data": "Ag==", "dataLen": 1},
            ],
            "ivs_ioctrl": {"io": 0, "value": 2, "delay": 500},
        }
    }


def test_merging_does_not_alter_its_inputs() -> None:
    first = info_response(True, serial_data=[b"\x01"])
    kept = copy.deepcopy(first)
    merge_responses(first, serial_data_response(b"\x02"))
    assert first == kept


def test_answers_encode_as_compact_ascii_json() -> None:
    assert (
        encode_response(ioctrl_response())
        == b'{"Response_AlarmInfoPlate":{"ivs_ioctrl":{"io":0,"value":2,"delay":500}}}'
    )
    assert encode_response(idle_response()) == b'{"status":"ok"}'
