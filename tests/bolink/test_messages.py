"""The message tables: uplinks write Bolink's fields in order, downlinks parse with one clear error."""

from decimal import Decimal

import pytest

from booth_app.bolink.messages import (
    DOWNLINKS,
    EtcPay,
    OutPark,
    Outpark,
    QueryOrder,
    QueryOrderResult,
    QueryPrice,
    QueryPriceAnswer,
    Reply,
    Service,
)

SEED_004_RESULT = {
    "data": [
        {
            "state": 1,
            "car_number": "苏BH0355",
            "order_id": "A1_2C1516935325",
            "pay_type": "sweepcode",
            "pay_scene": "outpay",
            "money": "0.01",
            "in_time": 1516935325,
            "out_time": 1516935360,
            "trade_no": "paauthcode2001591516935399756",
            "pay_channel": 0,
            "pay_time": 1516935402,
            "errmsg": "查询成功",
        }
    ],
    "service_name": "query_order",
    "time_temp": "15899230132",
    "query_order_no": "query_order21313123123123123",
}


def test_query_order_matches_seed_004() -> None:
    text = QueryOrder(order_id="A1_2C1516935325", car_number="苏BH0355", time_temp=1516934957889).json_text()
    assert text == (
        '{"data_target":"bolink","car_number":"苏BH0355","order_id":"A1_2C1516935325","time_temp":1516934957889}'
    )


def test_the_query_order_answer_of_seed_004_parses_in_both_shapes() -> None:
    whole = QueryOrderResult.parse(SEED_004_RESULT)
    bare = QueryOrderResult.parse(SEED_004_RESULT["data"])
    for result in (whole, bare):
        (record,) = result.records
        assert record.state == 1
        assert record.money == Decimal("0.01")
        assert record.order_id == "A1_2C1516935325"
    assert whole.query_order_no == "query_order21313123123123123"


def test_the_etc_request_has_every_field_of_seed_000() -> None:
    seed_fields = [
        "park_id",
        "car_number",
        "in_time",
        "out_time",
        "pay_type",
        "empty_plot",
        "total_original",
        "total",
        "order_id",
        "out_channel_id",
        "inpark_img",
        "outpark_img",
        "in_channel_id",
        "parking_time",
        "lane_no",
        "license_color",
    ]
    assert list(EtcPay.model_fields)[1:] == seed_fields  # after data_target, which the unionapi does not send
    request = EtcPay(
        park_id="20180427", car_number="川AK6F63", in_time=1621502665, out_time=1621509665, pay_type="my",
        total="0.01", order_id="o", out_channel_id="D", in_channel_id="A1", parking_time="60", lane_no="000139",
    )  # fmt: skip
    assert "data_target" not in request.data()


def test_money_goes_as_a_number_and_empty_options_are_left_out() -> None:
    data = OutPark(
        car_number="京A1", in_time=1, order_id="o", empty_plot=1, in_channel_id="A1", out_time=2,
        out_channel_id="B1", total=Decimal("12.50"), cash_pay=Decimal("12.50"),
    ).data()  # fmt: skip
    assert data["total"] == Decimal("12.50")
    assert '"total":12.5,' in OutPark.model_validate(data).json_text()
    assert "auth_code" not in data
    assert "freereasons" not in data


def test_an_uplink_refuses_an_unknown_field() -> None:
    with pytest.raises(ValueError, match="extra"):
        QueryOrder(order_id="o", time_temp=1, bogus=1)  # type: ignore[call-arg]


def test_a_downlink_keeps_fields_bolink_adds() -> None:
    message = QueryPrice.parse({"order_id": "o", "pay_scene": 1, "new_field": "x"})
    assert message.model_extra == {"new_field": "x"}


def test_a_malformed_downlink_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"outpark: total: .*decimal"):
        Outpark.parse({"order_id": "o", "total": "lots"})


def test_every_downlink_service_has_a_model_and_an_answer_has_data_target() -> None:
    assert set(DOWNLINKS) == {
        Service.QUERY_PRICE, Service.PREPAY_ORDER, Service.OUTPARK, Service.NOLICENCE_IN_PARK, Service.QUERY_ORDER,
        Service.OPERATE_LIFTROD, Service.SWEEPCODE, Service.MONTHCARD_PAY,
    }  # fmt: skip
    assert QueryPriceAnswer(order_id="o", price=Decimal(5)).data()["data_target"] == "bolink"


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ({"state": 1}, True),
        ({"state": 0, "errmsg": "数据已处理过"}, True),
        ({"state": 0, "errmsg": "error:签名错误"}, False),
        ({}, False),
    ],
)
def test_a_duplicate_counts_as_accepted(raw: dict[str, object], ok: bool) -> None:
    assert Reply.parse(raw).ok is ok
