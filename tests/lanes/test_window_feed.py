"""What the cashier's window learns from the lanes, through the whole simulated park: the events in order, the
pictures kept for each read, the devices' health, and the cashier's plate corrections."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from booth_app.core.decisions import Outcome
from booth_app.core.types import PaymentChannel, StayKind, StayState
from booth_app.lanes.controller import LaneEvent
from booth_app.lanes.pictures import PictureStore
from booth_app.sim.camera import SimCamera, paint_car
from drivers.zhenshi import PlateColour

from .conftest import ADDRESSES, Site, until

PAYMENT_KINDS = {"read", "decision", "pending", "paying", "paid", "payment_failed"}


def events(site: Site, lane: str, kinds: set[str] | None = None) -> list[LaneEvent]:
    return [e for e in site.events if e.lane_id == lane and (kinds is None or e.kind in kinds)]


def kinds(site: Site, lane: str, wanted: set[str] = PAYMENT_KINDS) -> list[str]:
    return [e.kind for e in events(site, lane, wanted)]


# ---------------------------------------------------------------- events


async def test_a_payment_code_at_the_exit_in_events(site: Site) -> None:
    stay = await site.car_inside("京F33333", minutes_ago=70)  # 7 yuan
    await site.cameras["B2"].push("京F33333")
    await until(lambda: site.lane("B2").pending is not None)
    read, decision, pending = events(site, "B2", PAYMENT_KINDS)
    assert read.kind == "read"
    assert read.read is not None
    assert (read.read.plate, read.read.lane_id) == ("京F33333", "B2")
    assert read.plate_jpeg == paint_car("京F33333", PlateColour.BLUE).plate  # the crop as the camera sent it
    assert decision.kind == "decision"
    assert decision.decision is not None
    assert decision.decision.outcome is Outcome.EXIT_FEE_DUE
    assert pending.kind == "pending"
    assert pending.amount == Decimal(7)
    assert pending.qr_url
    await site.boards.wait_for(lambda: site.board("B2").qr is not None)
    assert pending.qr_url == site.board("B2").qr.content  # type: ignore[union-attr]
    assert pending.decision is not None
    assert pending.decision.fee is not None
    assert pending.decision.fee.total == Decimal(7)
    snapshot = site.lane("B2").snapshot()
    assert snapshot is not None
    assert (snapshot.qr_url, snapshot.paying, snapshot.due) == (pending.qr_url, "", Decimal(7))

    await site.bolink_sim.driver_shows_pay_code("B2", authcode="280000000000000001")
    await until(lambda: "paid" in kinds(site, "B2"), within=10)
    assert kinds(site, "B2") == ["read", "decision", "pending", "paying", "paid"]
    paying, paid = events(site, "B2", {"paying", "paid"})
    assert (paying.channel, paying.amount) == (PaymentChannel.SWEEPCODE.value, Decimal(7))
    assert (paid.channel, paid.amount) == (PaymentChannel.SWEEPCODE.value, Decimal(7))
    assert paid.decision is not None
    assert paid.decision.stay is not None
    assert paid.decision.stay.order_id == stay.order_id
    await until(lambda: [e.text for e in events(site, "B2", {"gate"})] == ["open"])
    assert events(site, "B2", {"gate"})[0].level == "info"


async def test_while_a_payment_code_is_charged_the_pending_exit_says_so(site: Site) -> None:
    site.bolink_sim.charge_on_out_park = False  # the failure below is the only answer: no real charge may race it
    await site.car_inside("京F33334", minutes_ago=70)
    await site.cameras["B1"].push("京F33334")
    lane = site.lane("B1")
    await until(lambda: lane.pending is not None)
    assert await lane.charge_payment_code("280000000000000002")
    snapshot = lane.snapshot()
    assert snapshot is not None
    assert snapshot.paying == PaymentChannel.SWEEPCODE.value
    lane.payment_failed(PaymentChannel.SWEEPCODE, "京F33334 支付失败", order_id=snapshot.stay.order_id)
    failed = events(site, "B1", {"payment_failed"})
    assert [(e.channel, e.level) for e in failed] == [(PaymentChannel.SWEEPCODE.value, "warning")]
    assert lane.pending is not None
    assert (lane.pending.paying, lane.pending.sweep) == ("", None)  # cash now writes its own exit report
    await lane.pay_cash(operator="7")
    assert events(site, "B1", {"paid"})[-1].channel == PaymentChannel.CASH.value


async def test_etc_refused_is_a_failed_payment_and_the_car_still_waits(site: Site) -> None:
    site.bolink_sim.set_etc("failed")
    await site.car_inside("京H66667", minutes_ago=70)
    await site.cameras["B1"].push("京H66667")
    lane = site.lane("B1")
    await until(lambda: lane.pending is not None)
    assert not await lane.pay_by_etc("000124", wait_s=2)
    assert kinds(site, "B1") == ["read", "decision", "pending", "paying", "payment_failed"]
    paying, failed = events(site, "B1", {"paying", "payment_failed"})
    assert paying.channel == failed.channel == PaymentChannel.ETC.value
    assert "京H66667" in failed.text
    assert lane.pending is not None
    assert lane.pending.paying == ""


async def test_the_wallet_pays_with_no_failure_and_no_payment_under_way(site: Site) -> None:
    site.bolink_sim.set_wallet("京G44445", Decimal(100), net_status=1)
    await site.car_inside("京G44445", minutes_ago=70)
    await site.cameras["B1"].push("京G44445")
    await until(lambda: "paid" in kinds(site, "B1"), within=5)
    assert kinds(site, "B1") == ["read", "decision", "pending", "paid"]
    paid = events(site, "B1", {"paid"})[0]
    assert (paid.channel, paid.amount) == (PaymentChannel.WALLET.value, Decimal(7))


async def test_a_free_release_is_paid_nothing(site: Site) -> None:
    await site.car_inside("京K88889", minutes_ago=70)
    await site.cameras["B2"].push("京K88889")
    await until(lambda: site.lane("B2").pending is not None)
    await site.lane("B2").release_free("救护车", operator="7")
    paid = events(site, "B2", {"paid"})[0]
    assert (paid.channel, paid.amount) == (PaymentChannel.FREE.value, Decimal(0))


async def test_a_silent_board_is_a_device_event_and_a_gate_alarm_and_both_come_back(site: Site) -> None:
    await site.boards.wait_for(lambda: site.board("A1").offline_policy == 2)
    assert site.lanes.health()["A1"].board_answering is True
    assert site.lanes.listener is not None
    # every command to a silent board takes its retries: a patient camera waits them out instead of resending
    patient = SimCamera(site.lanes.listener.url, serialno="cam-a1", timeout_s=30)
    site.boards.behaviour(ADDRESSES["A1"]).answer = False  # unplugged: commands go out, nothing comes back
    await patient.push("京N20011")
    device = [e for e in events(site, "A1", {"device"}) if e.level == "warning"]
    assert len(device) == 1
    assert (device[0].device, device[0].text) == ("board", "显示屏无响应")
    assert "board 1" in device[0].detail
    gate = events(site, "A1", {"gate"})[-1]
    assert (gate.text, gate.level) == ("error", "alarm")
    assert gate.detail
    health = site.lanes.health()["A1"]
    assert health.board_answering is False
    assert health.board_message
    assert (health.gate_state, health.gate_error) == ("error", gate.detail)
    assert await site.store.inside("京N20011") is not None  # the stay stands; a person lifts the arm

    site.boards.behaviour(ADDRESSES["A1"]).answer = True
    await patient.push("京N20012")
    assert site.lanes.health()["A1"].board_answering is True
    assert events(site, "A1", {"device"})[-1].level == "info"
    assert events(site, "A1", {"gate"})[-1].text == "open"
    assert site.lanes.health()["A1"].gate_error is None


async def test_health_says_when_each_camera_was_last_heard(site: Site) -> None:
    await site.boards.wait_for(lambda: all(site.board(lane).offline_policy == 2 for lane in ADDRESSES))
    before = datetime.now(UTC)
    await site.cameras["A2"].push("京B23457")
    await site.cameras["B2"].poll()
    health = site.lanes.health()
    assert set(health) == set(ADDRESSES)
    for lane in ("A2", "B2"):
        seen = health[lane].camera_last_seen
        assert seen is not None
        assert before <= seen <= datetime.now(UTC)
    assert health["A1"].camera_last_seen is None
    assert health["B1"].gate_state == "unknown"
    assert health["A2"].gate_state == "open"  # the pulse rode back in the answer
    assert all(h.board_answering for h in health.values())
    assert not any(h.camera_quiet for h in health.values())


async def test_a_broken_listener_never_breaks_a_lane(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: LaneEvent) -> None:
        raise RuntimeError("the window fell over")

    site.lanes.context.listeners.insert(0, broken)
    await site.cameras["A1"].push("京P30011")
    assert await site.store.inside("京P30011") is not None
    assert [e.kind for e in events(site, "A1", {"read", "decision"})] == ["read", "decision"]
    assert any("listener failed" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- pictures


async def test_the_pictures_of_a_read_are_kept_and_found_from_the_stay(site: Site, tmp_path: Path) -> None:
    site.lanes.pictures = PictureStore(tmp_path / "pictures")
    await site.cameras["A1"].push("京R50001", colour=PlateColour.YELLOW)
    stay = await site.store.inside("京R50001")
    assert stay is not None
    painted = paint_car("京R50001", PlateColour.YELLOW)
    await until(lambda: PictureStore(tmp_path / "pictures").find(stay.entry_read_id).any)
    found = PictureStore(tmp_path / "pictures").find(stay.entry_read_id)  # as after a restart
    assert found.full is not None
    assert found.plate is not None
    assert (found.full.read_bytes(), found.plate.read_bytes()) == (painted.full, painted.plate)


async def test_a_push_with_no_pictures_keeps_none(site: Site, tmp_path: Path) -> None:
    pictures = site.lanes.pictures = PictureStore(tmp_path / "pictures")
    assert site.lanes.listener is not None
    async with SimCamera(site.lanes.listener.url, serialno="cam-a1", pictures=False) as camera:
        await camera.push("京R50002")
    bare = await site.store.inside("京R50002")
    assert bare is not None
    assert events(site, "A1", {"read"})[-1].plate_jpeg is None
    await site.cameras["A1"].push("京R50003")  # written after it, so once these are there, those would be too
    pictured = await site.store.inside("京R50003")
    assert pictured is not None
    await until(lambda: pictures.find(pictured.entry_read_id).any)
    assert not pictures.find(bare.entry_read_id).any


async def test_pictures_that_cannot_be_written_cost_one_warning_and_nothing_else(
    site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "pictures"
    blocked.write_text("a file where the folder should be")
    site.lanes.pictures = PictureStore(blocked)
    for plate in ("京R50004", "京R50005"):
        await site.cameras["A1"].push(plate)
        assert await site.store.inside(plate) is not None
    await site.boards.wait_for(lambda: site.board("A1").relay_on(1))

    def warnings() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.levelno >= logging.WARNING and "pictures" in r.getMessage()]

    await until(lambda: warnings())
    await until(lambda: not [t for t in site.lanes._tasks if t.get_name() == "pictures"])  # both writes are over
    [warning] = warnings()
    assert str(blocked) in warning.getMessage()
    assert warning.exc_info is None  # one sentence, no traceback
    assert "\n" not in warning.getMessage()


# ---------------------------------------------------------------- plate corrections


async def test_correcting_the_plate_of_a_car_let_in_fixes_its_stay(site: Site, tmp_path: Path) -> None:
    site.lanes.pictures = PictureStore(tmp_path / "pictures")
    inside_before = await site.store.count_inside()
    await site.cameras["A1"].push("京A8888B", shows="京A88888")  # a month card, 8 read as B
    misread = await site.store.inside("京A8888B")
    assert misread is not None
    assert misread.kind is StayKind.TEMPORARY
    decision = await site.lane("A1").correct_plate("京a 88888", operator="7")
    fixed = decision.stay
    assert fixed is not None
    assert (decision.outcome, decision.plate, fixed.plate, fixed.kind) == (
        Outcome.ENTRY_OPEN, "京A88888", "京A88888", StayKind.MONTH)  # fmt: skip
    assert (fixed.entered_at, fixed.entry_lane, fixed.entry_read_id) == (
        misread.entered_at, "A1", misread.entry_read_id)  # fmt: skip
    assert fixed.order_id != misread.order_id
    assert await site.store.inside("京A8888B") is None
    assert await site.store.inside("京A88888") == fixed
    assert await site.store.count_inside() == inside_before + 1  # one car, one stay
    superseded = await site.store.stay(misread.order_id)
    assert superseded is not None
    assert superseded.state is StayState.SUPERSEDED
    entry = await site.uploaded("in_park", fixed.order_id)
    assert (entry["car_number"], entry["in_channel_id"]) == ("京A88888", "A1")
    closed = await site.uploaded("out_park", misread.order_id)
    assert (closed["pay_type"], closed["total"]) == ("free", 0)
    assert "京A88888" in closed["freereasons"]
    await until(lambda: site.lanes.pictures is not None and site.lanes.pictures.find(fixed.entry_read_id).any)
    assert [e.text for e in events(site, "A1", {"decision"})][-1] == "京A8888B 更正为 京A88888"

    again = await site.lane("A1").correct_plate("京A88888")  # said twice: nothing more happens
    assert again.stay == fixed
    assert await site.store.count_inside() == inside_before + 1


async def test_correcting_a_car_refused_for_no_plate_lets_it_in(site: Site) -> None:
    await site.cameras["A1"].push(None)
    lane = site.lane("A1")
    assert lane.last_read is not None
    no_plate_read = lane.last_read.read_id
    await site.boards.wait_for(lambda: "无牌车" in site.board("A1").text())
    decision = await lane.correct_plate("京S60001")
    assert decision.outcome is Outcome.ENTRY_OPEN
    stay = await site.store.inside("京S60001")
    assert stay is not None
    assert stay.entry_read_id == no_plate_read  # its pictures are the ones the camera took of it
    await site.boards.wait_for(lambda: site.board("A1").relay_on(1))
    await site.uploaded("in_park", stay.order_id)


async def test_correcting_a_misread_exit_plate_goes_on_to_payment(site: Site) -> None:
    stay = await site.car_inside("京L12346", minutes_ago=70)
    await site.cameras["B2"].push("京L1234B")
    lane = site.lane("B2")
    await until(lambda: lane.match is not None)
    assert lane.last_read is not None
    exit_read = lane.last_read.read_id
    with pytest.raises(ValueError, match="cannot be empty"):
        await lane.correct_plate(" ")
    decision = await lane.correct_plate("京L12346")
    assert decision.outcome is Outcome.EXIT_FEE_DUE
    assert lane.match is None
    pending = lane.snapshot()
    assert pending is not None
    assert (pending.stay.order_id, pending.due, pending.read_id) == (stay.order_id, Decimal(7), exit_read)
    assert kinds(site, "B2", {"pending"}) == ["pending"]
    await lane.pay_cash(operator="7")
    left = await site.store.stay(stay.order_id)
    assert left is not None
    assert (left.state, left.exit_read_id) == (StayState.LEFT, exit_read)


async def test_no_correction_while_a_payment_is_under_way(site: Site) -> None:
    site.bolink_sim.charge_on_out_park = False  # the charge stays under way: no success may settle it first
    await site.car_inside("京L12347", minutes_ago=70)
    await site.cameras["B2"].push("京L12347")
    lane = site.lane("B2")
    await until(lambda: lane.pending is not None)
    assert await lane.charge_payment_code("280000000000000003")
    with pytest.raises(ValueError, match="under way"):
        await lane.correct_plate("京L12348")
    assert lane.pending is not None


async def test_a_stale_read_is_not_the_car_at_the_lane(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    await site.cameras["A1"].push("京T70001")
    first = await site.store.inside("京T70001")
    assert first is not None
    monkeypatch.setattr("booth_app.lanes.controller.CORRECTS_WITHIN_S", -1.0)  # as if long ago
    decision = await site.lane("A1").correct_plate("京T70002")
    assert decision.outcome is Outcome.ENTRY_OPEN
    assert await site.store.inside("京T70001") == first  # left alone: the typed plate is another car
    second = await site.store.inside("京T70002")
    assert second is not None
    assert second.entry_read_id == ""
    assert abs(second.entered_at - datetime.now(UTC)) < timedelta(seconds=10)
