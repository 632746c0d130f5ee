"""The Bolink simulator over real HTTP: its rules, downlinks and asks, the platform API, faults, control API, CLI."""

import asyncio
import contextlib
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from booth_app.bolink.signing import BadMessage, Envelope, compact, envelope, open_envelope
from booth_app.sim.bolink import BolinkSim, PaymentRecord, main, serve
from tests.conftest import ROOT

PARK, UKEY = "1001", "TESTUKEY12345678"
OTHER_PARK, OTHER_UKEY = "2002", "OTHERUKEY0000000"
UNION_ID = 200188
ENTRY = {
    "car_number": "京A12345",
    "in_time": 1_700_000_000,
    "order_id": "A1-0001",
    "empty_plot": 20,
    "in_channel_id": "A1",
}


class Booth:
    """Just enough of a booth to speak to the simulator by hand: sign, upload, poll, answer."""

    def __init__(
        self, http: httpx.AsyncClient, sim: BolinkSim, park: str = PARK, ukey: str = UKEY, name: str = "booth01"
    ) -> None:
        self.name = name
        self.http, self.sim, self.park, self.ukey = http, sim, park, ukey
        self.token = ""

    async def login(self, *, union_id: Any = str(UNION_ID), park: str | None = None, ukey: str | None = None) -> dict:
        data = compact({"union_id": union_id, "park_id": park or self.park, "local_id": f"{self.name}_channels_A1_B1"})
        reply = await self.post("upload.do", envelope(data, ukey or self.ukey, service_name="login"))
        self.token = reply.get("token", "")
        return reply

    async def post(self, path: str, body: str | bytes) -> dict:
        response = await self.http.post(f"{self.sim.sdk_url}/{path}", content=body)
        assert response.status_code == 200
        return response.json()

    async def upload(
        self, service: str, data: dict | str, *, sign: str | None = "good", token: str | None = None
    ) -> dict:
        data_json = data if isinstance(data, str) else compact(data)
        key = self.ukey if sign == "good" else "WRONGKEY"
        text = envelope(data_json, key, service_name=service, token=self.token if token is None else token)
        if sign is None:  # no sign at all
            text = text.replace(f'"sign":"{json.loads(text)["sign"]}",', "")
        elif sign not in ("good", "bad"):
            text = text.replace(json.loads(text)["sign"], sign)
        return await self.post("upload.do", text)

    async def poll(self) -> httpx.Response:
        return await self.http.post(f"{self.sim.sdk_url}/download.do", content=compact({"token": self.token}))

    async def next_downlink(self) -> Envelope:
        """Poll until a downlink comes, and check its sign."""
        while True:
            response = await self.poll()
            assert response.status_code == 200
            if response.content:
                return open_envelope(response.content, self.ukey)

    async def serve(self, answer: Callable[[Envelope], dict | None]) -> None:
        """Answer every downlink as `answer` says (None: no answer), until cancelled."""
        while True:
            message = await self.next_downlink()
            reply = answer(message)
            if message.service == "sweepcode" and message.data["type"] == 1:
                # A pay code: the booth reports the exit with the code, which Bolink then charges.
                out = ENTRY | {"out_time": 1_700_003_600, "out_channel_id": "B1", "pay_type": "sweepcode",
                               "total": 5, "electronic_pay": 5, "auth_code": message.data["authcode"]}  # fmt: skip
                assert (await self.upload("out_park", out))["state"] == 1
            if reply is not None:
                await self.upload(message.service, {"data_target": "bolink", **reply})


def cashier(message: Envelope) -> dict | None:
    """What a booth answers to each downlink: 5 yuan due, everything accepted."""
    data = message.data
    return {
        "query_price": {"state": 1, "order_id": data.get("order_id") or "A1-0001", "price": 5, "total": 5,
                        "query_order_no": data.get("query_order_no")},
        "prepay_order": {"state": 1, "order_id": data.get("order_id"), "prepay": data.get("prepay")},
        "outpark": {"state": 1, "order_id": data.get("order_id"), "trade_no": data.get("trade_no")},
        "nolicence_in_park": {"state": 1, "order_id": "U-1", "car_number": data.get("car_number"),
                              "channel_id": data.get("channel_id")},
        "operate_liftrod": {"state": 1, "channel_id": data.get("channel_id"), "operate": data.get("operate")},
        "sweepcode": {"state": 1, "order_id": "A1-0001", "channel_id": data.get("channel_id")},
        "monthcard_pay": {"state": 1, "trade_no": data.get("trade_no"), "pay_money": data.get("pay_money")},
    }.get(message.service)  # fmt: skip


@pytest.fixture
async def sim() -> AsyncIterator[BolinkSim]:
    async with BolinkSim(parks={PARK: UKEY, OTHER_PARK: OTHER_UKEY}, poll_timeout=0.2) as simulator:
        yield simulator


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


@pytest.fixture
async def booth(sim: BolinkSim, http: httpx.AsyncClient) -> Booth:
    booth = Booth(http, sim)
    assert (await booth.login())["state"] == 1
    return booth


@pytest.fixture
async def serving(booth: Booth) -> AsyncIterator[Booth]:
    """The booth answering downlinks in the background."""
    task = asyncio.create_task(booth.serve(cashier))
    yield booth
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def until(condition: Callable[[], bool], *, within: float = 5.0) -> None:
    """Wait for something the simulator does in its own time (a timer, a request in flight)."""
    async with asyncio.timeout(within):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


def union_body(data: dict, *, ukey: str = UKEY, union_id: int = UNION_ID) -> str:
    return envelope(compact(data), ukey, union_id=union_id)


async def union(http: httpx.AsyncClient, sim: BolinkSim, path: str, data: dict, **options: Any) -> dict:
    response = await http.post(f"{sim.union_api_url}/{path}", content=union_body(data, **options))
    assert response.status_code == 200
    return response.json()


# ---------------------------------------------------------------- login, tokens, signs, bodies


async def test_login_gives_a_token_bound_to_its_park(sim: BolinkSim, http: httpx.AsyncClient) -> None:
    booth = Booth(http, sim)
    reply = await booth.login(union_id=UNION_ID)  # a number works as well as text
    assert reply["state"] == 1
    assert reply["service_name"] == "login"
    assert len(reply["token"]) >= 16
    other = Booth(http, sim, OTHER_PARK, OTHER_UKEY)
    assert (await other.login())["token"] != reply["token"]
    assert sim.logins == 2
    await sim.push("operate_liftrod", {"channel_id": "B1", "operate": 1}, park_id=OTHER_PARK)
    assert (await booth.poll()).content == b""  # the other park's downlink is not this booth's
    assert (await other.next_downlink()).service == "operate_liftrod"


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"park": "9999"}, "9999"),
        ({"union_id": "200999"}, "union_id"),
        ({"ukey": "NOTTHEUKEY"}, "签名错误"),
    ],
)
async def test_a_bad_login_is_refused(sim: BolinkSim, http: httpx.AsyncClient, options: dict, why: str) -> None:
    reply = await Booth(http, sim).login(**options)
    assert reply["state"] == 0
    assert why in reply["errmsg"]
    assert "token" not in reply
    assert sim.logins == 0
    assert sum(sim.refusals.values()) == 1


async def test_a_missing_or_expired_token_is_refused(sim: BolinkSim, booth: Booth) -> None:
    assert (await booth.upload("in_park", ENTRY, token=""))["errmsg"] == "error:token无效"
    sim.expire_tokens()
    assert (await booth.upload("in_park", ENTRY))["errmsg"] == "error:token无效"
    assert (await booth.poll()).json() == {"state": 0, "errmsg": "error:token无效"}
    assert sim.refusals["error:token无效"] == 3
    assert sim.uploads == []
    await booth.login()
    assert (await booth.upload("in_park", ENTRY))["state"] == 1


async def test_a_missing_or_bad_sign_is_refused(sim: BolinkSim, booth: Booth) -> None:
    assert await booth.upload("in_park", ENTRY, sign=None) == {"state": 0, "errmsg": "未识别到sign标记"}
    assert await booth.upload("in_park", ENTRY, sign="bad") == {"state": 0, "errmsg": "error:签名错误"}
    assert (await booth.upload("in_park", ENTRY, sign="签名"))["errmsg"] == "error:签名错误"  # not even hex
    assert sim.uploads == []
    assert sim.refusals == {"未识别到sign标记": 1, "error:签名错误": 2}


async def test_the_sign_covers_the_data_text_as_received(sim: BolinkSim, booth: Booth) -> None:
    spaced = json.dumps(ENTRY, ensure_ascii=False, indent=1)  # not compact: still good, because it is signed as sent
    assert (await booth.upload("in_park", spaced))["state"] == 1
    (received,) = sim.uploads
    assert received.data_json == spaced
    assert received.data == ENTRY
    assert received.token == booth.token


DEEP = b'{"data":' + b"[" * 50_000 + b"]" * 50_000 + b"}"


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe{}", b'{"service_name":"in_park"', b"[1,2]", DEEP])
async def test_a_body_that_is_not_a_message_is_refused_with_http_200(booth: Booth, body: bytes) -> None:
    reply = await booth.post("upload.do", body)
    assert reply["state"] == 0
    assert reply["errmsg"].startswith("error:")


async def test_an_unknown_service_is_refused(sim: BolinkSim, booth: Booth) -> None:
    assert (await booth.upload("no_such_service", {"order_id": "X-1"}))["state"] == 0
    assert sim.uploads == []


# ---------------------------------------------------------------- what each uplink gets


async def test_reports_are_recorded_and_a_repeat_is_already_processed(sim: BolinkSim, booth: Booth) -> None:
    exit_ = ENTRY | {"out_time": 1_700_003_600, "out_channel_id": "B1", "pay_type": "cash", "total": 5}
    assert await booth.upload("in_park", ENTRY) == {"state": 1, "errmsg": "ok"}
    assert await booth.upload("in_park", ENTRY) == {"state": 0, "errmsg": "数据已处理过"}
    assert (await booth.upload("out_park", exit_))["state"] == 1
    assert (await booth.upload("out_park", exit_ | {"total": 6}))["state"] == 1  # re-sent with news: accepted
    assert (await booth.upload("out_park", exit_))["errmsg"] == "数据已处理过"
    lift = {"liftrod_id": "L1", "channel_id": "B1", "reason": "manual", "order_id": ""}
    assert (await booth.upload("upload_liftrod", lift))["state"] == 1
    assert (await booth.upload("upload_liftrod", lift))["state"] == 1  # no order_id: nothing to be a duplicate of
    assert (await booth.upload("work_record", {"uid": "7", "state": 1, "time": 1_700_000_000}))["state"] == 1
    assert sim.duplicates == 2
    assert [u.service for u in sim.uploads].count("out_park") == 3
    assert set(sim.processed) == {("in_park", "A1-0001"), ("out_park", "A1-0001")}
    assert sim.processed[("out_park", "A1-0001")].data["total"] == 5  # the first one accepted


async def test_pay_status_reads_the_wallets(sim: BolinkSim, booth: Booth) -> None:
    sim.set_wallet("京A12345", Decimal("50.50"), net_status=1)
    known = await booth.upload("pay_status", {"car_number": "京A12345", "order_id": "A1-0001"})
    unknown = await booth.upload("pay_status", {"car_number": "京B00000", "order_id": "A1-0002"})
    assert known == {"state": 1, "is_exist": 1, "balance": 50.5, "net_status": 1}
    assert unknown["is_exist"] == 0
    assert unknown["state"] == 1


async def test_query_order_answers_at_once_and_sends_this_months_payments_down(sim: BolinkSim, booth: Booth) -> None:
    assert (await booth.upload("in_park", ENTRY))["state"] == 1
    trade_no = sim.record_payment("A1-0001", "京A12345", Decimal("0.01"), pay_type="sweepcode", pay_channel=1)
    sim.ledger.add(
        PaymentRecord("A1-0001", "京A12345", Decimal(3), "old-trade", pay_time=int(time.time()) - 40 * 86400)
    )
    reply = await booth.upload("query_order", {"order_id": "A1-0001", "car_number": "京A12345", "time_temp": 1})
    assert reply == {"state": 1}
    message = await booth.next_downlink()
    assert message.service == "query_order"
    assert list(message.data) == ["time_temp", "query_order_no", "data"]
    assert len(str(message.data["time_temp"])) == 13
    assert len(message.data["query_order_no"]) <= 30
    (record,) = message.data["data"]  # last month's payment is not reported
    assert record == {
        "state": 1, "car_number": "京A12345", "order_id": "A1-0001", "pay_type": "sweepcode", "pay_scene": "outpay",
        "pay_channel": 1, "in_time": ENTRY["in_time"], "out_time": record["pay_time"], "pay_time": record["pay_time"],
        "money": "0.01", "errmsg": "查询成功", "trade_no": trade_no,
    }  # fmt: skip
    await booth.upload("query_order", {"order_id": "A1-none", "time_temp": 2})
    assert (await booth.next_downlink()).data["data"] == []


async def test_an_answer_to_one_booths_upload_goes_down_to_that_booth_only(
    sim: BolinkSim, booth: Booth, http: httpx.AsyncClient
) -> None:
    other = Booth(http, sim, name="booth02")  # a second booth of the same park
    assert (await other.login())["state"] == 1
    await other.upload("query_order", {"order_id": "A1-0001", "time_temp": 1})
    assert (await booth.poll()).content == b""  # not for booth01, even though it polls first
    assert (await other.next_downlink()).service == "query_order"
    await sim.push("operate_liftrod", {"channel_id": "B2"})  # from the platform, for a lane no booth names
    assert (await booth.next_downlink()).service == "operate_liftrod"  # any booth takes it


async def test_a_message_about_a_lane_goes_to_the_booth_whose_local_id_names_the_lane(
    sim: BolinkSim, booth: Booth, http: httpx.AsyncClient
) -> None:
    other = Booth(http, sim, name="booth02")  # its local_id, booth02_channels_A1_B1, names lanes A1 and B1
    assert (await other.login())["state"] == 1
    await sim.push("operate_liftrod", {"channel_id": "B1"})
    assert (await booth.poll()).content == b""
    assert (await other.next_downlink()).data["channel_id"] == "B1"


async def test_uploads_faster_than_ten_a_second_are_counted_not_refused(sim: BolinkSim, booth: Booth) -> None:
    for n in range(12):
        assert (await booth.upload("in_park", ENTRY | {"order_id": f"A1-{n}"}))["state"] == 1
    await booth.poll()  # polls do not count
    assert sim.too_fast == 3  # the 10th, 11th and 12th each had 9 or more in the second before them


async def test_over_the_rate_limit_is_refused_until_the_window_slides(sim: BolinkSim, booth: Booth) -> None:
    sim.rate_limit, sim.rate_window = 10, 0.5
    await sim.push("operate_liftrod", {"channel_id": "B1"})
    assert (await booth.poll()).content  # download.do counts too
    for n in range(9):
        assert (await booth.upload("in_park", ENTRY | {"order_id": f"A1-{n}"}))["state"] == 1
    assert await booth.upload("in_park", ENTRY | {"order_id": "A1-late"}) == {
        "state": 0,
        "errmsg": "request_over_times",
    }
    assert sim.refusals["request_over_times"] == 1
    assert len(sim.uploads) == 9
    await asyncio.sleep(0.55)  # the window is time itself: nothing to await but the clock
    assert (await booth.upload("in_park", ENTRY | {"order_id": "A1-late"}))["state"] == 1


# ---------------------------------------------------------------- download.do and asks


async def test_a_poll_with_nothing_queued_ends_empty_after_the_poll_timeout(booth: Booth) -> None:
    started = time.monotonic()
    response = await booth.poll()
    assert (response.status_code, response.content) == (200, b"")
    assert time.monotonic() - started >= 0.2


async def test_a_pushed_downlink_is_signed_over_its_exact_text_and_delivered_once(sim: BolinkSim, booth: Booth) -> None:
    sim.poll_timeout = 5.0
    waiting = asyncio.create_task(booth.poll())  # already polling when the message is queued
    await sim.push("operate_liftrod", {"channel_id": "出口B1", "operate": 1})
    response = await waiting
    text = response.content.decode("utf-8")
    assert '"data":{"channel_id":"出口B1","operate":1}' in text
    message = open_envelope(text, UKEY)
    assert (message.service, message.data) == ("operate_liftrod", {"channel_id": "出口B1", "operate": 1})
    sim.poll_timeout = 0.2
    assert (await booth.poll()).content == b""
    assert sim.pending_downlinks() == 0


async def test_downlinks_signed_wrongly_on_request(sim: BolinkSim, booth: Booth) -> None:
    sim.bad_downlink_signs = True
    await sim.push("operate_liftrod", {"channel_id": "B1", "operate": 1})
    with pytest.raises(BadMessage):
        open_envelope((await booth.poll()).content, UKEY)


async def test_each_answer_resolves_its_own_ask(sim: BolinkSim, booth: Booth) -> None:
    first = asyncio.create_task(sim.ask("query_price", {"order_id": "A1-1", "query_order_no": "q1"}))
    second = asyncio.create_task(sim.ask("query_price", {"order_id": "A1-2", "query_order_no": "q2"}))
    one, two = await booth.next_downlink(), await booth.next_downlink()
    await booth.upload("query_price", {"state": 1, "order_id": "A1-2", "price": 2, "query_order_no": "q2"})
    await booth.upload("query_price", {"state": 1, "order_id": "A1-1", "price": 1, "query_order_no": "q1"})
    assert ((await first)["price"], (await second)["price"]) == (1, 2)
    assert (one.data["order_id"], two.data["order_id"]) == ("A1-1", "A1-2")
    assert await booth.upload("operate_liftrod", {"state": 1, "channel_id": "B9"}) == {"state": 1}  # unasked: kept
    assert [a.service for a in sim.answers] == ["query_price", "query_price", "operate_liftrod"]
    assert sim.processed == {}
    assert sim.duplicates == 0


async def test_an_ask_nobody_answers_times_out(sim: BolinkSim) -> None:
    with pytest.raises(TimeoutError, match="lock_car"):
        await sim.ask("lock_car", {"car_number": "京A12345"}, timeout=0.05)


async def test_an_answer_to_an_unknown_downlink_still_resolves_it(sim: BolinkSim, booth: Booth) -> None:
    asked = asyncio.create_task(sim.ask("lock_car", {"car_number": "京A12345"}))
    assert (await booth.next_downlink()).service == "lock_car"
    await booth.upload("lock_car", {"state": 0, "errmsg": "unknown service lock_car"})
    assert (await asked)["state"] == 0


# ---------------------------------------------------------------- the driver's side


@pytest.mark.usefixtures("serving")
async def test_a_driver_scans_the_exit_code_and_pays(sim: BolinkSim) -> None:
    paid = await sim.driver_scans_exit_qr("京A12345", order_id="A1-0001", channel_id="B1", pay_channel=1)
    assert paid.price == Decimal(5)
    assert paid.outpark_answer == {
        "data_target": "bolink",
        "state": 1,
        "order_id": "A1-0001",
        "trade_no": paid.trade_no,
    }
    query, outpark = sim.answers
    assert query.service == "query_price"
    assert outpark.service == "outpark"
    (payment,) = sim.payments["A1-0001"]
    assert (payment.money, payment.pay_type, payment.pay_scene, payment.pay_channel) == (5, "scancode", "outpay", 1)
    unpaid = await sim.driver_scans_exit_qr("京A12345", order_id="A1-0001", pay=False)
    assert (unpaid.outpark_answer, unpaid.trade_no) == (None, "")


async def test_the_exit_price_query_carries_the_order_bolink_knows(sim: BolinkSim, booth: Booth) -> None:
    await booth.upload("in_park", ENTRY)
    asked = asyncio.create_task(sim.driver_scans_exit_qr("京A12345", pay=False))
    message = await booth.next_downlink()
    assert message.data["order_id"] == "A1-0001"
    assert message.data["pay_scene"] == 1
    assert message.data["query_order_no"]
    assert abs(message.data["query_time"] - time.time()) < 5
    await booth.upload("query_price", {"state": 1, "order_id": "A1-0001", "price": 0})
    assert (await asked).price == 0


@pytest.mark.usefixtures("serving")
async def test_a_driver_prepays(sim: BolinkSim) -> None:
    prepaid = await sim.driver_prepays("京A12345", order_id="A1-0001")
    assert prepaid.amount == 5
    assert prepaid.prepay_answer is not None
    assert prepaid.prepay_answer["prepay"] == 5
    assert sim.payments["A1-0001"][0].pay_scene == "prepay"
    chosen = await sim.driver_prepays("京A12345", order_id="A1-0001", amount=Decimal("2.50"))
    assert chosen.amount == Decimal("2.50")
    assert sim.payments["A1-0001"][1].trade_no == chosen.trade_no


async def test_a_pay_code_is_charged_when_the_exit_reports_it(sim: BolinkSim, serving: Booth) -> None:
    answer = await sim.driver_shows_pay_code("B1", authcode="280000000000000001")
    assert answer["state"] == 1
    (payment,) = sim.payments["A1-0001"]
    assert (payment.pay_type, payment.money) == ("sweepcode", 5)
    outpark = next(a for a in await _answers_of(sim, "outpark"))
    assert outpark.data["trade_no"] == payment.trade_no  # the booth heard the result and answered it
    random_code = await sim.driver_shows_pay_code("B1")
    assert random_code["state"] == 1
    assert len(sim.payments["A1-0001"]) == 2


async def _answers_of(sim: BolinkSim, service: str) -> list:
    await until(lambda: any(a.service == service for a in sim.answers))
    return [a for a in sim.answers if a.service == service]


async def test_a_wallet_exit_is_charged_or_refused(sim: BolinkSim, booth: Booth) -> None:
    sim.set_wallet("京A12345", Decimal(3))
    exit_ = ENTRY | {"out_time": 1_700_003_600, "out_channel_id": "B1", "pay_type": "wallet", "total": 5}
    await booth.upload("out_park", exit_)
    refused = await booth.next_downlink()
    assert (refused.service, refused.data["state"]) == ("outpark", 0)
    sim.set_wallet("京A12345", Decimal(8))
    await booth.upload("out_park", exit_ | {"remark": "again"})
    charged = await booth.next_downlink()
    assert charged.data["state"] == 1
    assert charged.data["pay_type"] == "wallet"
    assert sim.wallets["京A12345"] == (Decimal(3), 1)


@pytest.mark.usefixtures("serving")
async def test_the_other_driver_scripts(sim: BolinkSim) -> None:
    receipt = await sim.driver_shows_paid_receipt("B1", "paid:abc")
    unplated = await sim.unplated_entry("A1")
    gate = await sim.remote_gate("B2", operate=0)
    month = await sim.monthcard_paid("京A88888", Decimal("300.00"), months=3)
    assert all(a["state"] == 1 for a in (receipt, unplated, gate, month))
    assert re.fullmatch(r"临[A-Z0-9]{7}", unplated["car_number"])
    assert (gate["channel_id"], gate["operate"]) == ("B2", 0)
    assert month["pay_money"] == 300
    assert month["trade_no"]
    assert sim.payments == {}


# ---------------------------------------------------------------- unionapi


def etc_request(**changes: Any) -> dict:
    return {
        "park_id": PARK, "car_number": "川AK6F63", "in_time": 1621502665, "out_time": 1621509665, "pay_type": "jyyh",
        "total": "0.01", "order_id": "B1-42", "out_channel_id": "出口D-(13)", "in_channel_id": "A1",
        "parking_time": "60", "lane_no": "000139",
    } | changes  # fmt: skip


async def test_etc_paid_answers_every_field_of_the_seed(sim: BolinkSim, http: httpx.AsyncClient) -> None:
    reply = await union(http, sim, "etcPayApi", etc_request())
    assert list(reply) == ["state", "errmsg", "order_id", "pay_type", "trade_no", "total", "car_number",
                           "out_channel_id", "pay_time", "arrive_money", "fee", "account_type"]  # fmt: skip
    assert (reply["state"], reply["pay_type"], reply["total"], reply["order_id"]) == (1, "etc", 0.01, "B1-42")
    assert sim.payments["B1-42"][0].trade_no == reply["trade_no"]


async def test_etc_missing_field_and_failure(sim: BolinkSim, http: httpx.AsyncClient) -> None:
    missing = await union(http, sim, "etcPayApi", etc_request(lane_no=""))
    assert missing["state"] == 0
    assert "lane_no" in missing["errmsg"]
    sim.set_etc("failed")
    failed = await union(http, sim, "etcPayApi", etc_request())
    assert failed["state"] == 0
    assert failed["errmsg"]
    assert sim.payments == {}


@pytest.mark.parametrize(("then", "state"), [("paid", 1), ("failed", 0)])
async def test_etc_paying_sends_the_result_down_later(
    sim: BolinkSim, http: httpx.AsyncClient, booth: Booth, then: str, state: int
) -> None:
    sim.set_etc("paying", then=then, delay=0.05)
    reply = await union(http, sim, "etcPayApi", etc_request())
    assert reply["state"] == 2
    assert sim.payments == {}
    result = await booth.next_downlink()
    assert result.service == "outpark"
    assert {k: result.data[k] for k in ("state", "pay_type", "order_id", "car_number", "total")} == {
        "state": state, "pay_type": "etc_pay", "order_id": "B1-42", "car_number": "川AK6F63", "total": 0.01,
    }  # fmt: skip
    assert result.data["trade_no"] == reply["trade_no"]
    assert len(sim.payments.get("B1-42", [])) == state


async def test_order_state_history_and_refunds(sim: BolinkSim, http: httpx.AsyncClient) -> None:
    ids = {"park_id": PARK, "union_id": str(UNION_ID)}
    trade_no = sim.record_payment("B1-5", "京A12345", "10.00")
    sim.record_payment("B1-6", "京A00001", 3)
    state = await union(http, sim, "neworder/queryOrderState", ids | {"order_id": "B1-5"})
    assert (state["state"], state["errmsg"]) == (1, "查询成功")
    assert [(r["trade_no"], r["money"]) for r in state["data"]] == [(trade_no, "10.00")]
    by_car = await union(http, sim, "neworder/queryOrderState", ids | {"car_number": "京A00001"})
    assert [r["order_id"] for r in by_car["data"]] == ["B1-6"]
    now = int(time.time())
    page = await union(http, sim, "neworder/queryorders", ids | {"start_time": now - 60, "end_time": now + 60,
                                                                  "page": 2, "size": 1})  # fmt: skip
    assert page["data"]["total"] == 2
    assert (page["data"]["page"], page["data"]["size"]) == (2, 1)
    assert [r["order_id"] for r in page["data"]["orders"]] == ["B1-6"]
    none = await union(http, sim, "neworder/queryorders", ids | {"start_time": 0, "end_time": 10})
    assert none["data"]["total"] == 0
    refund = ids | {"order_id": "B1-5", "trade_no": trade_no, "refund_reason": "overcharged"}
    first = await union(http, sim, "neworder/refund", refund | {"refund_money": "4.00"})
    assert first["state"] == 1
    assert first["refund_no"]
    too_much = await union(http, sim, "neworder/refund", refund | {"refund_money": "6.01"})
    assert too_much["state"] == 0
    assert too_much["errmsg"]
    assert (await union(http, sim, "neworder/refund", refund | {"refund_money": "6.00"}))["state"] == 1
    unknown = await union(http, sim, "neworder/refund", refund | {"trade_no": "nope", "refund_money": "1"})
    assert unknown["state"] == 0


async def test_a_lane_qr_code_points_at_a_page(sim: BolinkSim, http: httpx.AsyncClient) -> None:
    data = {"type": 1, "channel_id": "出口B1", "union_id": str(UNION_ID), "park_id": PARK}
    reply = await union(http, sim, "getqrcodecloud", data)
    assert reply["state"] == 1
    assert reply["url"].startswith(f"{sim.base_url}/qr/{PARK}/")
    page = await http.get(reply["url"])
    assert page.status_code == 200
    assert "出口B1" in page.text
    assert page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (union_body({"park_id": PARK, "channel_id": "B1"}, ukey="WRONG"), "error:签名错误"),
        (union_body({"park_id": "9999", "channel_id": "B1"}), "车场"),
        (union_body({"park_id": PARK, "channel_id": "B1"}, union_id=1), "union_id"),
        (compact({"union_id": UNION_ID, "data": {"park_id": PARK, "channel_id": "B1"}}), "未识别到sign标记"),
        ("garbage", "error:"),
        (DEEP.decode(), "error:"),
    ],
)
async def test_the_platform_refuses_what_is_not_a_good_message(
    sim: BolinkSim, http: httpx.AsyncClient, body: str, why: str
) -> None:
    response = await http.post(f"{sim.union_api_url}/getqrcodecloud", content=body)
    assert response.status_code == 200
    assert response.json()["state"] == 0
    assert why in response.json()["errmsg"]
    assert sum(sim.refusals.values()) == 1


# ---------------------------------------------------------------- faults


async def test_down_refuses_connections_then_comes_back_on_the_same_port(sim: BolinkSim, booth: Booth) -> None:
    port = sim.port
    sim.poll_timeout = 10.0
    polling = asyncio.create_task(booth.poll())
    await until(lambda: bool(sim._inflight))  # the poll is in the server: going down has a request in flight to cut
    await sim.fault("down")
    with pytest.raises(httpx.HTTPError):
        await polling  # the long poll is cut, not left hanging
    with pytest.raises(httpx.TransportError):
        await booth.upload("in_park", ENTRY)
    await sim.fault(None)
    assert sim.port == port
    assert (await booth.upload("in_park", ENTRY))["state"] == 1  # the token survived the outage


async def test_slow_delays_every_answer(sim: BolinkSim, booth: Booth) -> None:
    await sim.fault("slow", delay=0.3)
    started = time.monotonic()
    assert (await booth.upload("in_park", ENTRY))["state"] == 1
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(("kind", "status"), [("5xx", 503), ("garbage", 200)])
async def test_5xx_and_garbage(sim: BolinkSim, booth: Booth, http: httpx.AsyncClient, kind: str, status: int) -> None:
    await sim.fault(kind)
    for url in (f"{sim.sdk_url}/upload.do", f"{sim.sdk_url}/download.do", f"{sim.union_api_url}/etcPayApi"):
        response = await http.post(url, content=compact({"token": booth.token}))
        assert response.status_code == status
        with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
            response.json()
    assert sim.uploads == []
    assert (await http.get(f"{sim.base_url}/_sim/state")).json()["fault"] == kind  # the control API stays up
    await sim.fault(None)
    assert (await booth.upload("in_park", ENTRY))["state"] == 1


# ---------------------------------------------------------------- control API


async def test_the_control_api_reports_and_sets(sim: BolinkSim, booth: Booth, http: httpx.AsyncClient) -> None:
    control = f"{sim.base_url}/_sim"
    await booth.upload("in_park", ENTRY)
    await booth.upload("in_park", ENTRY)
    await booth.upload("in_park", ENTRY, sign="bad")
    state = (await http.get(f"{control}/state")).json()
    assert (state["uploads"], state["duplicates"], state["refusals"]) == ({"in_park": 2}, 1, {"error:签名错误": 1})
    assert (state["logins"], state["too_fast"], state["pending_downlinks"], state["fault"]) == (1, 0, 0, None)
    assert state["sdk_url"] == sim.sdk_url

    assert (await http.post(f"{control}/wallet", json={"car_number": "京A1", "balance": 9.5})).status_code == 200
    assert sim.wallets["京A1"] == (Decimal("9.5"), 1)
    await http.post(f"{control}/etc", json={"result": "paying", "then": "failed", "delay": 2})
    assert (sim.union.etc.result, sim.union.etc.then, sim.union.etc.delay) == ("paying", "failed", 2.0)
    await http.post(f"{control}/fault", json={"kind": "slow", "delay": 0.01})
    assert sim.current_fault == "slow"
    await http.post(f"{control}/fault", json={"kind": None})
    assert sim.current_fault is None
    await http.post(f"{control}/push", json={"service": "operate_liftrod", "data": {"channel_id": "B1"}})
    assert (await booth.next_downlink()).data == {"channel_id": "B1"}
    paid = await http.post(f"{control}/payment", json={"order_id": "A1-0001", "car_number": "京A12345", "money": 2})
    assert sim.payments["A1-0001"][0].trade_no == paid.json()["trade_no"]
    await http.post(f"{control}/expire_tokens")
    assert (await booth.upload("in_park", ENTRY))["errmsg"] == "error:token无效"


async def test_the_control_api_plays_the_driver(sim: BolinkSim, serving: Booth, http: httpx.AsyncClient) -> None:
    control = f"{sim.base_url}/_sim"
    scan = (await http.post(f"{control}/scan_exit", json={"car_number": "京A12345", "order_id": "A1-0001"})).json()
    assert scan["price"] == 5
    assert scan["outpark_answer"]["trade_no"] == scan["trade_no"]
    prepay = (await http.post(f"{control}/prepay", json={"car_number": "京A12345", "amount": 1})).json()
    assert prepay["amount"] == 1
    assert prepay["prepay_answer"]["state"] == 1
    for route, body in [
        ("pay_code", {"channel_id": "B1", "authcode": "280000000000000009"}),
        ("paid_receipt", {"channel_id": "B1", "pay_info": "x"}),
        ("gate", {"channel_id": "B1", "operate": 1}),
        ("unplated", {"channel_id": "A1"}),
        ("monthcard", {"car_number": "京A88888", "pay_money": 300}),
    ]:
        response = await http.post(f"{control}/{route}", json=body)
        assert response.status_code == 200, route
        assert response.json()["answer"]["state"] == 1, route


async def test_the_control_api_says_what_went_wrong(sim: BolinkSim, http: httpx.AsyncClient) -> None:
    control = f"{sim.base_url}/_sim"
    assert (await http.post(f"{control}/gate", content=b"{not json")).status_code == 400
    assert (await http.post(f"{control}/gate", json={})).json() == {"error": "channel_id is required"}
    assert (await http.post(f"{control}/fault", json={"kind": "flood"})).status_code == 400
    timed_out = await http.post(f"{control}/gate", json={"channel_id": "B1", "timeout": 0.05})
    assert timed_out.status_code == 504
    assert "operate_liftrod" in timed_out.json()["error"]


async def test_down_over_http_answers_then_comes_back_after_the_seconds_given(
    sim: BolinkSim, http: httpx.AsyncClient
) -> None:
    state = f"{sim.base_url}/_sim/state"
    reply = await http.post(f"{sim.base_url}/_sim/fault", json={"kind": "down", "seconds": 0.3})
    assert reply.json() == {"fault": "down", "back_in": 0.3}
    await until(lambda: sim.current_fault == "down" and sim._runner is None)
    with pytest.raises(httpx.TransportError):
        await http.get(state)
    await until(lambda: sim.current_fault is None)
    assert (await http.get(state)).json()["fault"] is None


# ---------------------------------------------------------------- standalone


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_runs_until_cancelled(http: httpx.AsyncClient) -> None:
    port = free_port()
    task = asyncio.create_task(serve("127.0.0.1", port, parks={PARK: UKEY}, union_id=UNION_ID, poll_timeout=0.2))
    async with asyncio.timeout(5):
        while True:
            with contextlib.suppress(httpx.ConnectError):
                state = (await http.get(f"http://127.0.0.1:{port}/_sim/state")).json()
                break
            await asyncio.sleep(0.02)
    assert state["sdk_url"] == f"http://127.0.0.1:{port}/bpd"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(httpx.ConnectError):
        await http.get(f"http://127.0.0.1:{port}/_sim/state")


def test_main_rejects_a_bad_park_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--park", "no-equals-sign"]) == 2
    assert "PARK_ID=UKEY" in capsys.readouterr().err


def test_main_says_when_the_port_is_taken(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["--port", str(taken.getsockname()[1])]) == 1
    assert "cannot listen on 127.0.0.1:" in capsys.readouterr().err


def test_main_serves_until_interrupted() -> None:
    command = [sys.executable, "-m", "booth_app.sim.bolink", "--port", "0", "--park", f"{OTHER_PARK}={OTHER_UKEY}"]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        lines: list[str] = []
        while not (found := re.search(r"Bolink simulator on (http://127\.0\.0\.1:\d+)", "".join(lines[-1:]))):
            lines.append(process.stderr.readline())
            assert lines[-1], "".join(lines)  # the process ended without saying where it listens
        data = compact({"union_id": str(UNION_ID), "park_id": OTHER_PARK, "local_id": "x"})
        reply = httpx.post(f"{found[1]}/bpd/upload.do", content=envelope(data, OTHER_UKEY, service_name="login"))
        assert reply.json()["state"] == 1
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
