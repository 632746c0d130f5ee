"""The platform API against the simulator: ETC in its three outcomes, order queries, refunds, lane QR codes."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from booth_app.bolink.client import Refused
from booth_app.bolink.downlinks import DownlinkPump, PaymentNotices
from booth_app.bolink.link import Link
from booth_app.bolink.messages import EtcPay, Outpark
from booth_app.bolink.unionapi import LaneQrCodes, UnionApi
from booth_app.sim.bolink import BolinkSim
from booth_app.store.store import Store

from .conftest import ACCOUNT, RecordingHandler, until


@pytest.fixture
async def api(sim: BolinkSim):
    union = UnionApi(sim.union_api_url, ACCOUNT, timeout=2.0, link=Link())
    yield union
    await union.aclose()


def etc_request(order_id: str = "B1-42") -> EtcPay:
    return EtcPay(
        park_id=ACCOUNT.park_id, car_number="川AK6F63", in_time=1621502665, out_time=1621509665, pay_type="jyyh",
        empty_plot=21, total="0.01", order_id=order_id, out_channel_id="B1", in_channel_id="A1",
        parking_time="117", lane_no="000139",
    )  # fmt: skip


async def test_etc_paid_at_once(sim: BolinkSim, api: UnionApi) -> None:
    sim.set_etc("paid")
    result = await api.etc_pay(etc_request(), PaymentNotices())
    assert (result.paid, result.state, result.total) == (True, 1, Decimal("0.01"))
    assert result.trade_no


async def test_etc_refused(sim: BolinkSim, api: UnionApi) -> None:
    sim.set_etc("failed")
    result = await api.etc_pay(etc_request(), PaymentNotices())
    assert (result.paid, result.state) == (False, 0)
    assert result.errmsg


@pytest.mark.parametrize(("then", "paid"), [("paid", True), ("failed", False)])
async def test_etc_paying_waits_for_the_asynchronous_result(
    sim: BolinkSim, api: UnionApi, pump: DownlinkPump, handler: RecordingHandler, then: str, paid: bool
) -> None:
    sim.set_etc("paying", then=then, delay=0.3)
    result = await api.etc_pay(etc_request(), pump.notices, wait_s=5.0)
    assert (result.paid, result.state, result.timed_out) == (paid, 2, False)
    (outpark,) = handler.of(Outpark)  # the lane heard it too, and it was answered
    assert outpark.order_id == "B1-42"
    await until(lambda: [a.service for a in sim.answers] == ["outpark"], within=5)


async def test_etc_paying_with_no_result_leaves_it_to_the_cashier(sim: BolinkSim, api: UnionApi) -> None:
    sim.set_etc("paying", delay=30.0)
    result = await api.etc_pay(etc_request(), PaymentNotices(), wait_s=0.3)
    assert (result.paid, result.timed_out) == (False, True)


async def test_etc_request_missing_a_seed_field_is_refused(sim: BolinkSim, api: UnionApi) -> None:
    request = etc_request().model_copy(update={"lane_no": ""})
    result = await api.etc_pay(request, PaymentNotices())
    assert not result.paid


async def test_order_state_history_and_refund(sim: BolinkSim, api: UnionApi) -> None:
    trade_no = sim.record_payment("B1-5", "京A12345", Decimal("10.00"))
    (record,) = await api.order_state("B1-5")
    assert (record.state, record.trade_no, record.money) == (1, trade_no, Decimal("10.00"))
    now = datetime.now(UTC)
    total, records = await api.orders(now - timedelta(hours=1), now + timedelta(minutes=1))
    assert total == 1
    assert records[0].order_id == "B1-5"
    await api.refund("B1-5", trade_no, Decimal("4.00"), "overcharged")
    with pytest.raises(Refused):
        await api.refund("B1-5", trade_no, Decimal("7.00"), "more than is left")
    assert await api.order_state("B1-unknown") == []


async def test_a_bad_ukey_is_refused_by_the_platform(sim: BolinkSim) -> None:
    wrong = UnionApi(sim.union_api_url, ACCOUNT.__class__(ACCOUNT.union_id, ACCOUNT.park_id, "x", "WRONG"))
    with pytest.raises(Refused):
        await wrong.qrcode("B1")
    await wrong.aclose()


async def test_lane_qr_codes_are_cached_and_fetched_again_when_bolink_is_back(
    sim: BolinkSim, api: UnionApi, store: Store
) -> None:
    assert api.link is not None
    codes = LaneQrCodes(api, store, ["B1", "B2"], api.link)
    assert await codes.refresh() == 2
    first = await codes.url("B1")
    assert first.startswith(sim.union_api_url.rsplit("/", 1)[0])
    assert "B1" in first

    await sim.fault("down")
    task = asyncio.create_task(codes.run(retry_s=60.0))
    await asyncio.sleep(0.3)
    assert not api.link.online
    assert await codes.url("B1") == first  # the exit screen keeps showing the cached code
    fetched_before = (await store.lane_qrcode("B1"))[1]  # type: ignore[index]

    await sim.fault(None)
    await api.qrcode("B2")  # any call that gets through marks Bolink back, which refreshes every lane

    async def fetched_again() -> bool:
        return (await store.lane_qrcode("B1"))[1] > fetched_before  # type: ignore[index]

    await until(fetched_again, within=5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
