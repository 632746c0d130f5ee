"""The sign is over the exact text sent, and downlinks are checked the same way."""

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booth_app.bolink import sign, verify
from booth_app.bolink.messages import InPark, Login
from booth_app.bolink.signing import BadMessage, compact, envelope, open_envelope

PUBLISHED_DATA = '{"union_id":"200208","park_id":"21835","local_id":"0071cc97102b_1001_qh321_quanhao-atest1"}'
PUBLISHED_UKEY = "8403A41ED5EF20BC"
PUBLISHED_SIGN = "CB649425CB5548A375099103AB04CC1E"


def test_the_published_example_signs_correctly() -> None:
    assert sign(PUBLISHED_DATA, PUBLISHED_UKEY) == PUBLISHED_SIGN


def test_the_login_model_writes_the_published_text() -> None:
    login = Login(union_id="200208", park_id="21835", local_id="0071cc97102b_1001_qh321_quanhao-atest1")
    assert login.json_text() == PUBLISHED_DATA
    assert sign(login.json_text(), PUBLISHED_UKEY) == PUBLISHED_SIGN


def test_non_ascii_is_signed_as_utf8_and_sent_unescaped() -> None:
    data = InPark(car_number="京A12345", in_time=1, order_id="o1", empty_plot=3, in_channel_id="A1").json_text()
    assert "京A12345" in data
    assert "\\u" not in data
    body = envelope(data, "K", service_name="in_park", token="t")
    assert body.endswith(f',"data":{data}}}')
    assert json.loads(body)["sign"] == sign(data, "K")


def test_verify_is_case_insensitive_and_rejects_other_keys() -> None:
    assert verify(PUBLISHED_DATA, PUBLISHED_SIGN.lower(), PUBLISHED_UKEY)
    assert not verify(PUBLISHED_DATA, PUBLISHED_SIGN, "0000000000000000")


def test_an_envelope_opens_with_its_head_data_and_exact_text() -> None:
    data = '{"order_id":"o1","price":12.5}'
    opened = open_envelope(envelope(data, "K", service_name="query_price"), "K")
    assert opened.service == "query_price"
    assert opened.data == {"order_id": "o1", "price": 12.5}
    assert opened.data_json == data


def test_the_received_text_is_what_is_checked_even_when_spaced() -> None:
    # Another sender may lay the JSON out differently: the sign is over the text that arrived.
    data = '{ "order_id" : "o1",  "price" : 12.50 }'
    body = '{{"service_name": "query_price", "sign": "{}", "data": {}}}'.format(sign(data, "K"), data)
    assert open_envelope(body, "K").data_json == data


def test_a_sign_over_the_compact_form_is_accepted_too() -> None:
    data = {"order_id": "o1", "car_number": "京A1"}
    body = '{{"service_name":"outpark","sign":"{}","data": {{"order_id": "o1", "car_number": "京A1"}}}}'.format(
        sign(compact(data), "K")
    )
    assert open_envelope(body, "K").data == data


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('{"service_name":"outpark","data":{"a":1}}', "no sign"),
        ('{"service_name":"outpark","sign":"ABC","data":{"a":1}}', "does not match"),
        ('{"service_name":"outpark","sign":"ABC"}', "no data"),
        ("not json", "not a JSON object"),
        ("[1,2]", "not a JSON object"),
        ('{"service_name":"outpark",', "not valid JSON"),
        ('{"a":1} trailing', "not valid JSON"),
        ("", "not a JSON object"),
    ],
)
def test_bad_downlinks_are_one_clear_sentence(body: str, words: str) -> None:
    with pytest.raises(BadMessage, match=words) as caught:
        open_envelope(body, "K")
    if "service_name" in body and "trailing" not in body and body.endswith("}"):
        assert caught.value.service == "outpark"


@pytest.mark.parametrize(
    "body",
    [
        b'{"service_name":"x","sign":"\xff\xfe","data":{}}',
        '{"service_name":"x","sign":"签名","data":{}}',
        '{"service_name":"x","sign":"A","data":' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
    ids=["not-utf8", "non-ascii-sign", "deep-nesting"],
)
def test_hostile_bodies_are_bad_messages_too(body: str | bytes) -> None:
    with pytest.raises(BadMessage):
        open_envelope(body, "K")


def test_a_tampered_field_fails_the_check() -> None:
    body = envelope('{"order_id":"o1","total":5}', "K", service_name="outpark")
    with pytest.raises(BadMessage, match="does not match"):
        open_envelope(body.replace('"total":5', '"total":0'), "K")


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=12), st.booleans()), max_size=6))
def test_any_data_round_trips_through_an_envelope(data: dict[str, object]) -> None:
    text = compact(data)
    opened = open_envelope(envelope(text, "UKEY", service_name="x", token="t"), "UKEY")
    assert opened.data == data
    assert opened.data_json == text
    assert opened.head["token"] == "t"


@given(st.one_of(st.text(max_size=80), st.binary(max_size=80)))
def test_garbage_bodies_raise_only_bad_message(body: str | bytes) -> None:
    with contextlib.suppress(BadMessage):
        open_envelope(body, "K")
