"""Every Bolink service and its `data` fields, uplinks and downlinks, in one place.

A deployment whose Bolink account speaks a slightly different dialect changes this module only: the service names,
the field names (as `alias=`), the code tables and the defaults. Uplink fields are written in the order declared here;
fields left as None are not sent. Downlinks keep any extra field Bolink adds. Money is Decimal yuan, written as a
JSON number.
Timestamps: `*_time` fields are 10-digit seconds, `time_temp` 13-digit milliseconds (see `seconds` and `millis`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from booth_app.core.types import PaymentChannel, StayKind
from booth_app.store.outbox import Report, encode_data

DATA_TARGET = "bolink"  # where a message goes: Bolink's payment platform ("cloud" would be the vendor cloud)


class Service(StrEnum):
    # SDK uplinks (upload.do)
    LOGIN = "login"
    IN_PARK = "in_park"
    OUT_PARK = "out_park"
    PAY_STATUS = "pay_status"
    QUERY_ORDER = "query_order"
    UPLOAD_LIFTROD = "upload_liftrod"
    WORK_RECORD = "work_record"
    # SDK downlinks (download.do); query_order is both
    QUERY_PRICE = "query_price"
    PREPAY_ORDER = "prepay_order"
    OUTPARK = "outpark"
    NOLICENCE_IN_PARK = "nolicence_in_park"
    OPERATE_LIFTROD = "operate_liftrod"
    SWEEPCODE = "sweepcode"
    MONTHCARD_PAY = "monthcard_pay"


class UnionPath(StrEnum):
    """Platform API paths below `bolink.union_api_url`."""

    ETC_PAY = "etcPayApi"
    QUERY_ORDER_STATE = "neworder/queryOrderState"
    QUERY_ORDERS = "neworder/queryorders"
    REFUND = "neworder/refund"
    QRCODE = "getqrcodecloud"


# Bolink's reply texts that mean something to the client.
ALREADY_PROCESSED = "数据已处理过"  # a duplicate upload: it was received before, so it counts as success
TOKEN_INVALID = "token无效"  # noqa: S105 - a reply text, not a secret; log in again
RATE_LIMITED = "request_over_times"  # over 100 requests in 10 s on one token
BAD_SIGN = "签名错误"
NO_SIGN = "未识别到sign标记"

# Code tables (assumed where Bolink's tables are not public; adjust here).
PAY_TYPES: dict[PaymentChannel, str] = {
    PaymentChannel.CASH: "cash",
    PaymentChannel.WALLET: "wallet",
    PaymentChannel.SWEEPCODE: "sweepcode",
    PaymentChannel.SCANCODE: "scancode",
    PaymentChannel.ETC: "etc_pay",
    PaymentChannel.PREPAY: "prepay",
    PaymentChannel.FREE: "free",
}
PAY_TYPE_MONTH = "monthuser"
C_TYPES: dict[StayKind, str] = {  # 入场车型 (assumed wording)
    StayKind.TEMPORARY: "临时车",
    StayKind.MONTH: "月卡车",
    StayKind.WHITELIST: "免费车",
    StayKind.UNPLATED: "无牌车",
}
CAR_TYPES: dict[str, str] = {"small": "小车", "large": "大车"}  # 车型 (assumed wording)
PAY_CHANNELS = {0: "微信", 1: "支付宝", 2: "余额", 3: "银联"}
QRCODE_TYPE_EXIT = 1  # getqrcodecloud `type` of a lane's exit payment code (assumed)
WORK_ON, WORK_OFF = 1, 0  # work_record `state`
LIFTROD_OPEN, LIFTROD_CLOSE = 1, 0  # operate_liftrod `operate`
SWEEP_PAY_CODE, SWEEP_PAID_RECEIPT = 1, 2  # sweepcode `type`
PRICE_SCENE_PREPAY, PRICE_SCENE_EXIT, PRICE_SCENE_UNPLATED = 0, 1, 2  # query_price `pay_scene`
OUTPARK_FAILED, OUTPARK_PAID, OUTPARK_PAYING = 0, 1, 2  # outpark `state`
ETC_FAILED, ETC_PAID, ETC_PAYING = 0, 1, 2  # etcPayApi synchronous `state`


def seconds(at: datetime) -> int:
    return int(at.timestamp())


def millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class Message(BaseModel):
    """A `data` object. Subclasses name their service in SERVICE."""

    SERVICE: ClassVar[str] = ""
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="allow")

    def data(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)

    def json_text(self) -> str:
        """The exact text to sign and send."""
        return encode_data(self.data())

    def report(self) -> Report:
        """This uplink as an outbox row, idempotent by its order_id."""
        return Report(self.SERVICE, self.data(), order_id=str(getattr(self, "order_id", "") or ""))

    @classmethod
    def parse(cls, data: Any) -> Any:
        """Validate a received `data` object; raises ValueError with one sentence naming the field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "data"
            raise ValueError(f"{cls.SERVICE or 'reply'}: {where}: {first['msg']}") from None


class Uplink(Message):
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="forbid")
    data_target: str | None = DATA_TARGET


# ---------------------------------------------------------------- uplinks


class Login(Uplink):
    SERVICE = Service.LOGIN
    data_target: str | None = None
    union_id: str
    park_id: str
    local_id: str


class InPark(Uplink):
    SERVICE = Service.IN_PARK
    car_number: str
    in_time: int
    order_id: str
    empty_plot: int
    in_channel_id: str
    car_type: str = CAR_TYPES["small"]
    c_type: str = C_TYPES[StayKind.TEMPORARY]
    uid: str = ""
    work_station_uuid: str = ""
    license_color: str = ""
    remark: str = ""


class OutPark(InPark):
    SERVICE = Service.OUT_PARK
    out_time: int
    out_channel_id: str
    out_uid: str = ""
    duration: int = 0  # minutes
    pay_type: str = PAY_TYPES[PaymentChannel.CASH]
    total: Decimal = Decimal(0)
    amount_receivable: Decimal = Decimal(0)
    cash_pay: Decimal = Decimal(0)
    cash_prepay: Decimal = Decimal(0)
    electronic_pay: Decimal = Decimal(0)
    electronic_prepay: Decimal = Decimal(0)
    reduce_amount: Decimal = Decimal(0)
    auth_code: str | None = None  # the driver's payment code, for pay_type sweepcode
    freereasons: str | None = None


class PayStatus(Uplink):
    SERVICE = Service.PAY_STATUS
    car_number: str
    order_id: str


class QueryOrder(Uplink):
    SERVICE = Service.QUERY_ORDER
    car_number: str | None = None
    order_id: str
    time_temp: int


class UploadLiftrod(Uplink):
    SERVICE = Service.UPLOAD_LIFTROD
    liftrod_id: str
    channel_id: str
    reason: str
    car_number: str = ""
    order_id: str = ""
    uid: str = ""
    liftrod_time: int | None = None  # assumed field name


class WorkRecord(Uplink):
    SERVICE = Service.WORK_RECORD
    uid: str
    user_name: str = ""
    state: int = WORK_ON
    time: int


# ---------------------------------------------------------------- synchronous replies to uplinks


class Reply(Message):
    """What upload.do and the unionapi answer: state 1 ok, 0 failed (errmsg says why), 2 in progress where stated."""

    state: int = 0
    errmsg: str = ""

    @property
    def ok(self) -> bool:
        return self.state == 1 or ALREADY_PROCESSED in self.errmsg


class LoginReply(Reply):
    token: str = ""


class PayStatusReply(Reply):
    is_exist: int = 0  # a Bolink member with the no-password wallet
    balance: Decimal = Decimal(0)
    net_status: int = 0  # 1: the wallet can be charged now


# ---------------------------------------------------------------- downlinks and the answer each wants


class Downlink(Message):
    order_id: str = ""
    car_number: str = ""


class Answer(Uplink):
    state: int = 1
    errmsg: str | None = None


class QueryPrice(Downlink):
    SERVICE = Service.QUERY_PRICE
    pay_scene: int = PRICE_SCENE_EXIT
    channel_id: str = ""
    query_time: int | None = None
    query_order_no: str = ""


class QueryPriceAnswer(Answer):
    SERVICE = Service.QUERY_PRICE
    order_id: str = ""
    car_number: str | None = None
    price: Decimal = Decimal(0)  # due now
    total: Decimal = Decimal(0)
    duration: int = 0  # minutes
    free_out_time: int = 0  # minutes allowed to leave after paying
    derate_money: Decimal = Decimal(0)
    derate_duration: int = 0
    query_time: int | None = None
    query_order_no: str = ""


class PrepayOrder(Downlink):
    SERVICE = Service.PREPAY_ORDER
    prepay: Decimal = Decimal(0)
    prepay_type: int = 1  # 1 e-pay, 2 cash
    trade_no: str = ""
    pay_channel: int | None = None
    query_time: int | None = None


class PrepayOrderAnswer(Answer):
    SERVICE = Service.PREPAY_ORDER
    order_id: str = ""
    prepay: Decimal = Decimal(0)
    trade_no: str | None = None
    query_time: int | None = None


class Outpark(Downlink):
    SERVICE = Service.OUTPARK
    state: int = OUTPARK_PAID
    trade_no: str = ""
    pay_type: str = ""
    total: Decimal = Decimal(0)
    pay_channel: int | None = None
    out_channel_id: str = ""


class OutparkAnswer(Answer):
    SERVICE = Service.OUTPARK
    trade_no: str = ""
    order_id: str = ""


class NolicenceInPark(Downlink):
    SERVICE = Service.NOLICENCE_IN_PARK
    channel_id: str = ""


class NolicenceInParkAnswer(Answer):
    SERVICE = Service.NOLICENCE_IN_PARK
    order_id: str = ""
    car_number: str = ""
    channel_id: str = ""


class QueryOrderRecord(Message):
    state: int = 0
    car_number: str = ""
    order_id: str = ""
    pay_type: str = ""
    pay_scene: str = ""
    pay_channel: int | None = None
    in_time: int | None = None
    out_time: int | None = None
    pay_time: int | None = None
    money: Decimal = Decimal(0)
    errmsg: str = ""
    trade_no: str = ""


class QueryOrderResult(Message):
    """The downlink answering a query_order uplink (no answer wanted)."""

    SERVICE = Service.QUERY_ORDER
    time_temp: int | str | None = None
    query_order_no: str = ""
    records: list[QueryOrderRecord] = Field(default_factory=list, alias="data")

    @classmethod
    def parse(cls, data: Any) -> Any:
        # Seed 004 sends `data` as the array itself; accept that shape as well as an object holding it.
        return super().parse({"data": data} if isinstance(data, list) else data)


class OperateLiftrod(Downlink):
    SERVICE = Service.OPERATE_LIFTROD
    channel_id: str
    operate: int = LIFTROD_OPEN
    uid: str = ""


class OperateLiftrodAnswer(Answer):
    SERVICE = Service.OPERATE_LIFTROD
    channel_id: str = ""
    operate: int = LIFTROD_OPEN


class Sweepcode(Downlink):
    SERVICE = Service.SWEEPCODE
    type: int = SWEEP_PAY_CODE
    authcode: str = ""
    pay_info: str = ""
    channel_id: str = ""


class SweepcodeAnswer(Answer):
    SERVICE = Service.SWEEPCODE
    order_id: str = ""
    channel_id: str = ""


class MonthcardPay(Downlink):
    SERVICE = Service.MONTHCARD_PAY
    trade_no: str = ""
    pay_money: Decimal = Decimal(0)
    months: int | None = None
    b_time: int | None = None  # new validity start, seconds (assumed field name)
    e_time: int | None = None  # new validity end, seconds (assumed field name)


class MonthcardPayAnswer(Answer):
    SERVICE = Service.MONTHCARD_PAY
    trade_no: str = ""
    pay_money: Decimal = Decimal(0)


DOWNLINKS: dict[str, type[Message]] = {
    model.SERVICE: model
    for model in (
        QueryPrice,
        PrepayOrder,
        Outpark,
        NolicenceInPark,
        QueryOrderResult,
        OperateLiftrod,
        Sweepcode,
        MonthcardPay,
    )
}


# ---------------------------------------------------------------- platform API (unionapi)


class EtcPay(Uplink):
    """etcPayApi, field for field as seed 000 lists them."""

    data_target: str | None = None
    park_id: str
    car_number: str
    in_time: int
    out_time: int
    pay_type: str  # my | cj | jyyh | ystx
    empty_plot: int | None = None
    total_original: str | None = None
    total: str
    order_id: str
    out_channel_id: str
    inpark_img: str | None = None
    outpark_img: str | None = None
    in_channel_id: str
    parking_time: str
    lane_no: str
    license_color: int | None = None


class EtcPayReply(Reply):
    order_id: str = ""
    pay_type: str = ""
    trade_no: str = ""
    total: Decimal = Decimal(0)
    car_number: str = ""
    out_channel_id: str = ""
    pay_time: int | None = None
    arrive_money: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)
    account_type: int | None = None


class QueryOrderState(Uplink):
    data_target: str | None = None
    park_id: str
    union_id: str
    order_id: str | None = None
    car_number: str | None = None
    trade_no: str | None = None


class QueryOrders(Uplink):
    data_target: str | None = None
    park_id: str
    union_id: str
    start_time: int
    end_time: int
    page: int = 1
    size: int = 20


class Refund(Uplink):
    data_target: str | None = None
    park_id: str
    union_id: str
    order_id: str
    trade_no: str
    refund_money: Decimal
    refund_reason: str


class QrCode(Uplink):
    data_target: str | None = None
    type: int = QRCODE_TYPE_EXIT
    channel_id: str
    union_id: str
    park_id: str


class DataReply(Reply):
    """A unionapi answer carrying its result under `data` (a list of records, or an object with a page of them)."""

    body: Any = Field(default=None, alias="data")


class QrCodeReply(Reply):
    url: str = ""
