"""The SDK client against the Bolink simulator over real HTTP: every uplink and downlink, tokens and signs."""

import asyncio
import time
from decimal import Decimal

import pytest

from booth_app.bolink.client import Account, Refused, SdkClient, Unreachable
from booth_app.bolink.downlinks import DownlinkPump, QuerySchedule, follow_payment
from booth_app.bolink.messages import (
    InPark,
    MonthcardPay,
    NolicenceInPark,
    OperateLiftrod,
    OutPark,
    Outpark,
    PayStatus,
    PayStatusReply,
    PrepayOrder,
    QueryOrderResult,
    QueryPrice,
    Sweepcode,
    UploadLiftrod,
    WorkRecord,
)
from booth_app.sim.bolink import BolinkSim

from .conftest import ACCOUNT, PARK, RecordingHandler, until

ENTRY = {
    "car_number": "京A12345",
    "in_time": 1763800000,
    "order_id": "A1-0001",
    "empty_plot": 120,
    "in_channel_id": "A1",
}


async def test_login_then_every_uplink_is_accepted_as_sent(sim: BolinkSim, client: SdkClient) -> None:
    uplinks = [
        InPark(**ENTRY),
        OutPark(
            **ENTRY, out_time=1763805700, out_channel_id="B1", duration=95, total=Decimal(12), cash_pay=Decimal(12)
        ),
        UploadLiftrod(liftrod_id="B1", channel_id="B1", reason="2", car_number="京A12345", order_id="A1-0001"),
        WorkRecord(uid="7", user_name="张三", state=1, time=1763800000),
    ]
    for uplink in uplinks:
        await client.send(uplink)
    assert client.logins == 1
    assert [received.service for received in sim.uploads] == ["in_park", "out_park", "upload_liftrod", "work_record"]
    assert [received.data_json for received in sim.uploads] == [uplink.json_text() for uplink in uplinks]


async def test_pay_status_tells_whether_the_wallet_can_pay(sim: BolinkSim, client: SdkClient) -> None:
    sim.set_wallet("京A12345", Decimal("50.00"), net_status=1)
    member = await client.send(PayStatus(car_number="京A12345", order_id="A1-0001"), PayStatusReply)
    stranger = await client.send(PayStatus(car_number="京Z99999", order_id="A1-0002"), PayStatusReply)
    assert (member.is_exist, member.balance, member.net_status) == (1, Decimal("50.00"), 1)
    assert stranger.is_exist == 0


async def test_an_expired_token_logs_in_again_and_the_upload_goes_through(sim: BolinkSim, client: SdkClient) -> None:
    await client.send(InPark(**ENTRY))
    sim.expire_tokens()
    await client.send(InPark(**(ENTRY | {"order_id": "A1-0002"})))
    assert client.logins == 2
    assert [r.data["order_id"] for r in sim.uploads] == ["A1-0001", "A1-0002"]


async def test_a_repeated_upload_counts_as_accepted(sim: BolinkSim, client: SdkClient) -> None:
    await client.send(InPark(**ENTRY))
    await client.send(InPark(**ENTRY))  # Bolink answers 数据已处理过, which is success
    assert sim.duplicates == 1
    assert len(sim.processed) == 1


async def test_a_wrong_ukey_is_refused_at_login(sim: BolinkSim) -> None:
    wrong = Account(union_id=ACCOUNT.union_id, park_id=PARK, local_id="x", ukey="NOT-THE-KEY")
    booth = SdkClient(sim.sdk_url, wrong, timeout=2.0)
    with pytest.raises(Refused, match="Bolink refused login"):
        await booth.send(InPark(**ENTRY))
    await booth.aclose()
    assert sim.uploads == []


async def test_a_booth_sign_that_does_not_match_is_refused_by_bolink(sim: BolinkSim, client: SdkClient) -> None:
    await client.login()
    client.account = Account(ACCOUNT.union_id, PARK, ACCOUNT.local_id, "ANOTHERKEY")  # the token stays valid
    with pytest.raises(Refused, match="签名错误"):
        await client.send(InPark(**ENTRY))
    assert sim.uploads == []


async def test_bolink_down_is_unreachable_and_marks_the_link(sim: BolinkSim, client: SdkClient) -> None:
    changes: list[bool] = []
    client.link.subscribe(lambda online, _reason: changes.append(online))
    await client.send(InPark(**ENTRY))
    for fault in ("down", "5xx", "garbage"):
        await sim.fault(fault)
        with pytest.raises(Unreachable):
            await client.send(InPark(**(ENTRY | {"order_id": f"x-{fault}"})))
        await sim.fault(None)
    await client.send(InPark(**(ENTRY | {"order_id": "A1-0009"})))
    assert changes == [True, False, True]  # down through all three faults, up with the next answer


# ---------------------------------------------------------------- downlinks


async def test_a_driver_scans_the_exit_code_and_pays(
    sim: BolinkSim, pump: DownlinkPump, handler: RecordingHandler
) -> None:
    paid = pump.notices.expect("B1-7")
    result = await sim.driver_scans_exit_qr("京A12345", order_id="B1-7", channel_id="B1")
    assert result.price == Decimal("12.00")
    assert result.outpark_answer is not None
    assert result.outpark_answer["state"] == 1
    assert result.outpark_answer["trade_no"] == result.trade_no
    (query,) = handler.of(QueryPrice)
    assert (query.car_number, query.pay_scene) == ("京A12345", 1)
    (outpark,) = handler.of(Outpark)
    assert (outpark.order_id, outpark.state, outpark.total) == ("B1-7", 1, Decimal("12.00"))
    notice = await asyncio.wait_for(paid, 2)
    assert notice.paid
    assert notice.trade_no == result.trade_no


async def test_a_driver_prepays_inside_the_lot(sim: BolinkSim, pump: DownlinkPump, handler: RecordingHandler) -> None:
    result = await sim.driver_prepays("京A12345", order_id="A1-0001")
    assert result.prepay_answer["state"] == 1
    (prepay,) = handler.of(PrepayOrder)
    assert (prepay.order_id, prepay.prepay, prepay.trade_no) == ("A1-0001", Decimal("12.00"), result.trade_no)
    assert handler.of(QueryPrice)[0].pay_scene == 0


@pytest.mark.usefixtures("pump")
async def test_every_other_downlink_reaches_the_handler_and_is_answered(
    sim: BolinkSim, handler: RecordingHandler
) -> None:
    code = await sim.driver_shows_pay_code("B1", authcode="280000000000000001")
    receipt = await sim.driver_shows_paid_receipt("B1", "paid:abc")
    unplated = await sim.unplated_entry("A1")
    gate = await sim.remote_gate("B2", operate=1)
    month = await sim.monthcard_paid("京A88888", Decimal("300.00"))
    assert all(answer["state"] == 1 for answer in (code, receipt, unplated, gate, month))
    sweeps = handler.of(Sweepcode)
    assert [(s.type, s.authcode, s.pay_info) for s in sweeps] == [(1, "280000000000000001", ""), (2, "", "paid:abc")]
    assert handler.of(NolicenceInPark)[0].channel_id == "A1"
    assert unplated["car_number"] == handler.of(NolicenceInPark)[0].car_number
    assert (gate["channel_id"], handler.of(OperateLiftrod)[0].operate) == ("B2", 1)
    assert handler.of(MonthcardPay)[0].pay_money == Decimal("300.00")


async def test_a_downlink_with_a_bad_sign_is_refused_and_never_acted_on(
    sim: BolinkSim, pump: DownlinkPump, handler: RecordingHandler
) -> None:
    sim.bad_downlink_signs = True
    answer = await sim.ask("operate_liftrod", {"channel_id": "B1", "operate": 1})
    assert answer["state"] == 0
    assert handler.seen == []
    assert pump.rejected == 1
    sim.bad_downlink_signs = False
    assert (await sim.remote_gate("B1"))["state"] == 1  # and the next good one is handled


@pytest.mark.usefixtures("pump")
async def test_unknown_malformed_and_failing_downlinks_are_answered_state_0(
    sim: BolinkSim, handler: RecordingHandler
) -> None:
    unknown = await sim.ask("lock_car", {"car_number": "京A12345"})
    malformed = await sim.ask("outpark", {"order_id": "B1-1", "total": "lots", "state": 1})
    handler.fail_next = True
    failing = await sim.ask("operate_liftrod", {"channel_id": "B1", "operate": 1})
    assert [a["state"] for a in (unknown, malformed, failing)] == [0, 0, 0]
    assert "lock_car" in unknown["errmsg"]
    assert "total" in malformed["errmsg"]
    assert (await sim.remote_gate("B1"))["state"] == 1


async def test_the_poll_loop_survives_every_fault(
    sim: BolinkSim, pump: DownlinkPump, handler: RecordingHandler
) -> None:
    for fault in ("5xx", "garbage", "down"):
        await sim.fault(fault)
        await asyncio.sleep(0.4)
        await sim.fault(None)
    await sim.fault("slow", delay=2.6)  # longer than the client waits for a long poll (0.3 s + 2 s)
    await until(lambda: not pump.client.link.online, within=5)
    await sim.fault(None)
    sim.expire_tokens()
    assert (await sim.remote_gate("B1", timeout=10))["state"] == 1
    assert len(handler.of(OperateLiftrod)) == 1


# ---------------------------------------------------------------- query_order polling


async def test_query_order_finds_a_payment_whose_result_was_lost(
    sim: BolinkSim, client: SdkClient, pump: DownlinkPump, handler: RecordingHandler
) -> None:
    trade_no = sim.record_payment("B1-9", "京A12345", Decimal("8.00"))
    loop = asyncio.get_running_loop()
    priced_wall = time.time()
    schedule = QuerySchedule(start_after=0.3, every=0.1, give_up_after=3.0)
    notice = await follow_payment(client, pump.notices, "B1-9", "京A12345", priced_at=loop.time(), schedule=schedule)
    assert notice is not None
    assert (notice.paid, notice.trade_no, notice.total, notice.source) == (
        True,
        trade_no,
        Decimal("8.00"),
        "query_order",
    )
    queries = [r for r in sim.uploads if r.service == "query_order"]
    assert queries[0].at >= priced_wall + 0.3 - 0.05  # none before the schedule starts
    assert 1 <= len(queries) <= 3
    assert handler.of(QueryOrderResult)[0].records[0].trade_no == trade_no


async def test_query_order_gives_up_when_the_schedule_runs_out(
    sim: BolinkSim, client: SdkClient, pump: DownlinkPump
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    schedule = QuerySchedule(start_after=0.2, every=0.1, give_up_after=0.8)
    notice = await follow_payment(client, pump.notices, "B1-10", "京A1", priced_at=started, schedule=schedule)
    assert notice is None
    assert loop.time() - started >= 0.8
    queries = [r for r in sim.uploads if r.service == "query_order"]
    assert len(queries) == len(schedule.offsets())
    assert {q.data["order_id"] for q in queries} == {"B1-10"}


async def test_the_booth_answers_are_signed_and_carry_data_target(sim: BolinkSim, pump: DownlinkPump) -> None:
    await sim.remote_gate("B1")
    (answer,) = sim.answers
    assert answer.service == "operate_liftrod"
    assert answer.data["data_target"] == "bolink"


async def test_a_second_booth_on_the_same_park_logs_in_separately(sim: BolinkSim, client: SdkClient) -> None:
    other = SdkClient(sim.sdk_url, Account(ACCOUNT.union_id, PARK, "booth02", ACCOUNT.ukey), timeout=2.0)
    await client.send(InPark(**ENTRY))
    await other.send(InPark(**(ENTRY | {"order_id": "A2-1"})))
    await other.aclose()
    assert {r.token for r in sim.uploads} == {client.token, other.token}
    assert sim.logins == 2
