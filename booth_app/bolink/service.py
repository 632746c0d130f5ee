"""Everything the booth does with Bolink, built from plain settings and started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from booth_app.bolink.client import Account, SdkClient
from booth_app.bolink.downlinks import DownlinkHandler, DownlinkPump, PaymentNotices
from booth_app.bolink.link import Link
from booth_app.bolink.relay import OutboxRelay
from booth_app.bolink.unionapi import LaneQrCodes, UnionApi
from booth_app.store.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BolinkOptions:
    sdk_url: str
    union_api_url: str
    account: Account
    timeout_s: float = 5.0
    poll_timeout_s: float = 30.0
    uploads_per_s: float = 9.0


class BolinkService:
    """The link, the SDK client, the platform API, the relay, the downlink pump and the lanes' QR codes.

    The pump runs only when a handler is given (the lanes answer downlinks); the relay and QR codes always run.
    """

    def __init__(
        self,
        options: BolinkOptions,
        store: Store,
        *,
        exit_lanes: Iterable[str] = (),
        handler: DownlinkHandler | None = None,
    ) -> None:
        self.options = options
        self.link = Link()
        self.notices = PaymentNotices()
        # Long polls hold a connection open; the pool leaves room for uploads beside them.
        self._http = httpx.AsyncClient(limits=httpx.Limits(max_connections=8, max_keepalive_connections=4))
        self.client = SdkClient(
            options.sdk_url,
            options.account,
            http=self._http,
            timeout=options.timeout_s,
            poll_timeout=options.poll_timeout_s,
            link=self.link,
        )
        self.api = UnionApi(
            options.union_api_url, options.account, http=self._http, timeout=options.timeout_s, link=self.link
        )
        self.relay = OutboxRelay(store, self.client, uploads_per_s=options.uploads_per_s)
        self.qrcodes = LaneQrCodes(self.api, store, exit_lanes, self.link)
        self.pump = None if handler is None else DownlinkPump(self.client, handler, self.notices)
        self._tasks: list[asyncio.Task[None]] = []

    def attach(self, handler: DownlinkHandler) -> None:
        """Answer downlinks with `handler` (the lanes), from the next `start()`."""
        self.pump = DownlinkPump(self.client, handler, self.notices)

    async def start(self) -> None:
        """Start the background work (call inside the running loop)."""
        self._tasks = [
            asyncio.create_task(self.relay.run(), name="bolink-relay"),
            asyncio.create_task(self.qrcodes.run(), name="bolink-qrcodes"),
        ]
        if self.pump is not None:
            self._tasks.append(asyncio.create_task(self.pump.run(), name="bolink-downlinks"))
        log.info("Bolink reporting started (%s)", self.options.sdk_url)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._http.aclose()
