"""Cars in and out of a whole simulated car park: pushes over HTTP, bytes to the boards and the relay, Bolink over HTTP.

Each test asserts what the board showed and said, what the gate did, what Bolink received and what the store holds.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from booth_app.core.types import PaymentChannel, StayKind, StayState

from .conftest import Site, until


async def test_a_temporary_car_enters(site: Site) -> None:
    await site.cameras["A1"].push("京A12345")
    assert site.cameras["A1"].statuses[-1] == 200
    stay = await site.store.inside("京A12345")
    assert stay is not None
    assert stay.entry_lane == "A1"
    await site.boards.wait_for(lambda: site.board("A1").relay_on(1))  # the gate relay on the board
    board = site.board("A1")
    await site.boards.wait_for(lambda: "京A12345" in board.text())
    assert "欢迎光临" in " ".join(board.text())
    assert board.free_spaces == 99
    entry = await site.uploaded("in_park", stay.order_id)
    assert (entry["car_number"], entry["in_channel_id"], entry["empty_plot"]) == ("京A12345", "A1", 99)


async def test_a_camera_io_lane_opens_through_the_camera_answer(site: Site) -> None:
    answer = await site.cameras["A2"].push("京B23456")
    assert "ivs_ioctrl" in str(answer)  # the gate pulse rides back in the answer to the push itself
    assert await site.store.inside("京B23456") is not None


async def test_the_blacklist_is_refused_and_the_cashier_alerted(site: Site) -> None:
    await site.cameras["A1"].push("京C44444")
    await site.boards.wait_for(lambda: "禁止通行" in " ".join(site.board("A1").text()))
    assert await site.store.inside("京C44444") is None
    assert not site.board("A1").relay_on(1)
    assert any(event.level == "alarm" and "京C44444" in event.text for event in site.events)


async def test_a_month_card_leaves_free(site: Site) -> None:
    stay = await site.car_inside("京A88888", minutes_ago=300, kind=StayKind.MONTH)
    await site.cameras["B1"].push("京A88888")
    await until(lambda: site.relay_board.pulses(0), within=5)  # the Modbus gate relay pulsed
    left = await site.store.stay(stay.order_id)
    assert left is not None
    assert left.state is StayState.LEFT
    report = await site.uploaded("out_park", stay.order_id)
    assert report["pay_type"] == "monthuser"


async def test_the_same_plate_at_both_exits_at_once_leaves_once(site: Site) -> None:
    stay = await site.car_inside("京E55555", minutes_ago=10)  # within the free minutes: leaves with no one to wait for
    await asyncio.gather(site.cameras["B1"].push("京E55555"), site.cameras["B2"].push("京E55555"))

    def held() -> set[str]:  # the other exit waits for a person: it lost the race to close, or found no stay left
        # (losing the close is one alert; finding no stay is an alert and a request to match, both at that lane)
        return {e.lane_id for e in site.events if e.kind in ("alert", "match") and "京E55555" in e.text}

    await until(lambda: len(opened(site)) == 1 and len(held()) == 1, within=5)
    assert {*opened(site), *held()} == {"B1", "B2"}
    (lane,) = held()
    await site.boards.wait_for(lambda: "京E55555" in " ".join(site.board(lane).text()))
    left = await site.store.stay(stay.order_id)
    assert left is not None
    assert (left.state, left.exit_lane) == (StayState.LEFT, opened(site)[0])
    await site.uploaded("out_park", stay.order_id)
    await asyncio.sleep(0.5)  # and no second one
    assert [u.service for u in site.bolink_sim.uploads if u.data.get("order_id") == stay.order_id] == ["out_park"]
    assert opened(site) == [left.exit_lane]


def opened(site: Site) -> list[str]:
    return [e.lane_id for e in site.events if e.kind == "gate" and e.text == "open"]


async def test_cash_at_the_exit(site: Site) -> None:
    stay = await site.car_inside("京D11111", minutes_ago=130)  # 5 + 3 × 2 = 11 yuan
    await site.cameras["B2"].push("京D11111")
    lane = site.lane("B2")
    await until(lambda: lane.pending is not None)
    assert lane.pending is not None
    assert lane.pending.due == Decimal(11)
    await site.boards.wait_for(lambda: any("11.00" in line for line in site.board("B2").text()))
    assert site.board("B2").qr is not None  # online: the lane's payment code is on the exit screen too
    await lane.pay_cash(operator="7")
    await site.boards.wait_for(lambda: site.board("B2").relay_on(1))
    (payment,) = await site.store.payments(stay.order_id)
    assert (payment.channel, payment.amount, payment.operator) == (PaymentChannel.CASH, Decimal(11), "7")
    report = await site.uploaded("out_park", stay.order_id)
    assert (report["pay_type"], report["total"], report["cash_pay"]) == ("cash", 11, 11)


async def test_a_driver_scans_the_exit_code_and_pays(site: Site) -> None:
    stay = await site.car_inside("京E22222", minutes_ago=70)  # 5 + 2 = 7 yuan
    await site.cameras["B1"].push("京E22222")
    await until(lambda: site.lane("B1").pending is not None)
    paid = await site.bolink_sim.driver_scans_exit_qr("京E22222", channel_id="B1")
    assert paid.price == Decimal(7)
    await until(lambda: site.relay_board.pulses(0), within=5)
    (payment,) = await site.store.payments(stay.order_id)
    assert (payment.channel, payment.amount, payment.trade_no) == (PaymentChannel.SCANCODE, Decimal(7), paid.trade_no)
    report = await site.uploaded("out_park", stay.order_id)
    assert (report["pay_type"], report["electronic_pay"]) == ("scancode", 7)


async def test_a_payment_code_shown_at_the_exit_screen(site: Site) -> None:
    stay = await site.car_inside("京F33333", minutes_ago=70)
    await site.cameras["B2"].push("京F33333")
    await until(lambda: site.lane("B2").pending is not None)
    await site.bolink_sim.driver_shows_pay_code("B2", authcode="280000000000000001")
    await site.boards.wait_for(lambda: site.board("B2").relay_on(1), within=10)
    left = await site.store.stay(stay.order_id)
    assert left is not None
    assert left.state is StayState.LEFT
    report = await site.uploaded("out_park", stay.order_id)
    assert (report["pay_type"], report["auth_code"]) == ("sweepcode", "280000000000000001")
    await asyncio.sleep(0.5)
    assert len(site.bolink_sim.payments[stay.order_id]) == 1  # charged once, although out_park went up twice


async def test_the_wallet_pays_without_a_word(site: Site) -> None:
    site.bolink_sim.set_wallet("京G44444", Decimal(100), net_status=1)
    stay = await site.car_inside("京G44444", minutes_ago=70)
    await site.cameras["B1"].push("京G44444")
    await until(lambda: site.relay_board.pulses(0), within=5)
    (payment,) = await site.store.payments(stay.order_id)
    assert payment.channel is PaymentChannel.WALLET
    report = await site.uploaded("out_park", stay.order_id)
    assert report["pay_type"] == "wallet"


async def test_etc_paying_waits_for_the_asynchronous_result(site: Site) -> None:
    site.bolink_sim.set_etc("paying", then="paid", delay=0.3)
    stay = await site.car_inside("京H55555", minutes_ago=70)
    await site.cameras["B1"].push("京H55555")
    await until(lambda: site.lane("B1").pending is not None)
    assert await site.lane("B1").pay_by_etc("000124", wait_s=5)
    (payment,) = await site.store.payments(stay.order_id)
    assert payment.channel is PaymentChannel.ETC
    assert site.relay_board.pulses(0)


async def test_etc_refused_leaves_the_car_waiting_to_pay(site: Site) -> None:
    site.bolink_sim.set_etc("failed")
    await site.car_inside("京H66666", minutes_ago=70)
    await site.cameras["B1"].push("京H66666")
    await until(lambda: site.lane("B1").pending is not None)
    assert not await site.lane("B1").pay_by_etc("000124", wait_s=2)
    assert site.lane("B1").pending is not None
    assert not site.relay_board.pulses(0)


async def test_prepaid_inside_the_lot_leaves_free(site: Site) -> None:
    stay = await site.car_inside("京J77777", minutes_ago=70)
    prepay = await site.bolink_sim.driver_prepays("京J77777", order_id=stay.order_id)
    assert prepay.prepay_answer is not None
    assert prepay.prepay_answer["state"] == 1
    await site.cameras["B2"].push("京J77777")
    await site.boards.wait_for(lambda: site.board("B2").relay_on(1))
    report = await site.uploaded("out_park", stay.order_id)
    assert (report["pay_type"], report["electronic_prepay"]) == ("prepay", 7)


async def test_a_free_release_needs_and_records_a_reason(site: Site) -> None:
    stay = await site.car_inside("京K88888", minutes_ago=70)
    await site.cameras["B2"].push("京K88888")
    await until(lambda: site.lane("B2").pending is not None)
    await site.lane("B2").release_free("救护车", operator="7")
    report = await site.uploaded("out_park", stay.order_id)
    assert (report["pay_type"], report["freereasons"]) == ("free", "救护车")


async def test_an_unplated_car_enters_through_bolink(site: Site) -> None:
    answer = await site.bolink_sim.unplated_entry("A1")
    assert answer["state"] == 1
    stay = await site.store.stay(answer["order_id"])
    assert stay is not None
    assert stay.kind is StayKind.UNPLATED
    await site.boards.wait_for(lambda: site.board("A1").relay_on(1))
    await site.uploaded("in_park", stay.order_id)


async def test_bolink_lifts_a_gate_remotely_and_it_is_on_record(site: Site) -> None:
    answer = await site.bolink_sim.remote_gate("B1")
    assert answer["state"] == 1
    await until(lambda: site.relay_board.pulses(0), within=5)
    (release,) = await site.store.manual_releases()
    assert release.reason == "泊链远程抬杆"
    await until(lambda: any(r.service == "upload_liftrod" for r in site.bolink_sim.uploads))


async def test_the_cashier_opens_by_hand_with_a_reason(site: Site) -> None:
    await site.lane("B2").manual_open("道闸故障测试", operator_id=None, uid="7")
    await site.boards.wait_for(lambda: site.board("B2").relay_on(1))
    await until(lambda: any(r.service == "upload_liftrod" and r.data["reason"] == "道闸故障测试"
                            for r in site.bolink_sim.uploads))  # fmt: skip


async def test_a_misread_exit_plate_waits_for_the_cashier(site: Site) -> None:
    stay = await site.car_inside("京L12345", minutes_ago=70)
    await site.cameras["B2"].push("京L1234S")  # S read for 5
    lane = site.lane("B2")
    await until(lambda: lane.match is not None)
    assert lane.match is not None
    assert [c.plate for c in lane.match.candidates] == ["京L12345"]
    await lane.confirm_match(stay.order_id)
    assert lane.pending is not None
    assert lane.pending.due == Decimal(7)


async def test_offline_the_lane_keeps_working_and_uploads_later_in_order(site: Site) -> None:
    await site.bolink_sim.fault("down")
    await until(lambda: not site.bolink.link.online, within=10)
    await site.cameras["A1"].push("京M10001")
    entered = await site.store.inside("京M10001")
    assert entered is not None
    stay = await site.car_inside("京M10002", minutes_ago=70)
    await site.cameras["B2"].push("京M10002")
    lane = site.lane("B2")
    await until(lambda: lane.pending is not None)
    assert site.board("B2").qr is None  # no e-payment offered while Bolink is away
    assert any("泊链离线" in event.text for event in site.events)
    await lane.pay_cash(operator="7")
    await site.boards.wait_for(lambda: site.board("B2").relay_on(1))
    assert await site.store.outbox_backlog() >= 2
    await site.bolink_sim.fault(None)
    await site.uploaded("in_park", entered.order_id, within=15)
    await site.uploaded("out_park", stay.order_id, within=15)
    assert site.bolink_sim.duplicates == 0


async def test_garbage_on_the_board_line_does_not_stop_the_lane(site: Site) -> None:
    site.boards.send_garbage(b"\x00\xff\x64garbage\x13\x37" * 20)
    await site.cameras["A1"].push("京N20001")
    await site.boards.wait_for(lambda: "京N20001" in site.board("A1").text())
    assert await site.store.inside("京N20001") is not None


async def test_a_malformed_push_is_refused_with_one_log_line_and_the_lane_goes_on(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    assert site.lanes.listener is not None
    async with httpx.AsyncClient() as http:
        response = await http.post(site.lanes.listener.url, content=b'{"AlarmInfoPlate": {"serialno": "cam-a1"')
    assert response.status_code == 400
    assert len([r for r in caplog.records if r.levelname == "WARNING" and "cam-a1" in r.getMessage()]) <= 1
    await site.cameras["A1"].push("京P30001")
    assert await site.store.inside("京P30001") is not None


async def test_a_downlink_with_a_bad_sign_never_opens_a_gate(site: Site) -> None:
    site.bolink_sim.bad_downlink_signs = True
    answer = await site.bolink_sim.ask("operate_liftrod", {"channel_id": "B1", "operate": 1})
    assert answer["state"] == 0
    assert site.relay_board.pulses(0) == []
    assert await site.store.manual_releases() == []
    site.bolink_sim.bad_downlink_signs = False
    await site.cameras["A1"].push("京P30002")  # and the lanes carry on
    assert await site.store.inside("京P30002") is not None


async def test_a_read_the_camera_stored_offline_keeps_its_capture_time(site: Site) -> None:
    earlier = datetime.now(UTC) - timedelta(minutes=40)
    await site.cameras["A1"].push("京Q40001", at=earlier.timestamp(), offline=True)
    stay = await site.store.inside("京Q40001")
    assert stay is not None
    assert abs(stay.entered_at - earlier) < timedelta(seconds=1)


async def test_a_camera_with_a_wrong_clock_is_timed_by_this_pc(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    await site.cameras["A1"].push("京Q40002", at=(datetime.now(UTC) - timedelta(hours=5)).timestamp())
    stay = await site.store.inside("京Q40002")
    assert stay is not None
    assert abs(stay.entered_at - datetime.now(UTC)) < timedelta(seconds=10)
    assert any("clock" in r.getMessage() and "cam-a1" in r.getMessage() for r in caplog.records)


async def test_every_board_knows_the_offline_policy(site: Site) -> None:
    await site.boards.wait_for(lambda: all(site.board(lane).offline_policy == 2 for lane in ("A1", "A2", "B1", "B2")))
