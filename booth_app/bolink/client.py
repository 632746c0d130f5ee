"""The SDK client in HTTP mode: log in for a token, send uplinks through upload.do, take downlinks from download.do.

Every request goes through one sliding window so the booth never makes more than Bolink allows on its token (100 in
10 s); the relay asks for its slots with a reserve, so an answer to a driver waiting at the exit never queues behind it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import httpx

from booth_app.bolink.link import Link, SlidingWindow
from booth_app.bolink.messages import (
    ALREADY_PROCESSED,
    BAD_SIGN,
    NO_SIGN,
    RATE_LIMITED,
    TOKEN_INVALID,
    Login,
    LoginReply,
    Message,
    Reply,
    Service,
)
from booth_app.bolink.signing import BadMessage, Envelope, compact, envelope, open_envelope

log = logging.getLogger(__name__)

R = TypeVar("R", bound=Reply)

REQUESTS_PER_WINDOW = 98  # Bolink refuses a token's 101st request in 10 s; two spare for clock skew
WINDOW_S = 10.0


@dataclass(frozen=True, slots=True)
class Account:
    """Who this booth is to Bolink: the vendor account, the park, this SDK instance and the signing key."""

    union_id: int | str
    park_id: str
    local_id: str
    ukey: str


class BolinkError(Exception):
    """A Bolink call that did not succeed."""


class Unreachable(BolinkError):
    """No usable answer: network error, timeout, an HTTP error status or a body that is not JSON. Worth retrying."""


class Refused(BolinkError):
    """Bolink answered state 0; `errmsg` says why."""

    def __init__(self, service: str, errmsg: str) -> None:
        super().__init__(f"Bolink refused {service}: {errmsg or 'no reason given'}")
        self.service = service
        self.errmsg = errmsg

    @property
    def rate_limited(self) -> bool:
        return RATE_LIMITED in self.errmsg

    @property
    def bad_sign(self) -> bool:
        return BAD_SIGN in self.errmsg or NO_SIGN in self.errmsg

    @property
    def token_invalid(self) -> bool:
        return TOKEN_INVALID in self.errmsg


async def post_json(
    http: httpx.AsyncClient, url: str, body: str, *, wait_s: float, link: Link | None
) -> tuple[str, Any]:
    """POST a JSON body; returns (text, parsed or None for an empty body). Raises Unreachable and marks the link."""
    try:
        response = await http.post(
            url,
            content=body.encode("utf-8"),
            headers={"Content-Type": "application/json;charset=utf-8"},
            timeout=wait_s,
        )
    except httpx.TimeoutException:
        _unreachable(link, f"no answer from {url} within {wait_s:g} s")
    except httpx.HTTPError as exc:
        _unreachable(link, f"{url} cannot be reached ({type(exc).__name__}: {exc or 'connection failed'})")
    if response.status_code >= 300:
        _unreachable(link, f"{url} answered HTTP {response.status_code}")
    text = response.content.decode("utf-8", errors="replace")
    if not text.strip():
        if link is not None:
            link.up()
        return text, None
    try:
        parsed = json.loads(text)
    except ValueError:
        _unreachable(link, f"{url} answered something that is not JSON: {text[:60]!r}")
    if link is not None:
        link.up()
    return text, parsed


def _unreachable(link: Link | None, reason: str) -> NoReturn:
    if link is not None:
        link.down(reason)
    raise Unreachable(reason)


class SdkClient:
    """Bolink's SDK over HTTP for one booth (one token)."""

    def __init__(
        self,
        sdk_url: str,
        account: Account,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
        poll_timeout: float = 30.0,
        link: Link | None = None,
        window: SlidingWindow | None = None,
    ) -> None:
        self.sdk_url = sdk_url.rstrip("/")
        self.account = account
        self.timeout = timeout
        self.poll_timeout = poll_timeout
        self.link = link or Link()
        self.window = window or SlidingWindow(REQUESTS_PER_WINDOW, WINDOW_S)
        self._http = http or httpx.AsyncClient()
        self._owns_http = http is None
        self._token = ""
        self._login_lock = asyncio.Lock()
        self.logins = 0

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    @property
    def token(self) -> str:
        return self._token

    async def login(self) -> str:
        """Log in and keep the token. Raises Unreachable or Refused."""
        data = Login(
            union_id=str(self.account.union_id), park_id=self.account.park_id, local_id=self.account.local_id
        ).json_text()
        await self.window.acquire()
        _, reply = await post_json(
            self._http,
            f"{self.sdk_url}/upload.do",
            envelope(data, self.account.ukey, service_name=Service.LOGIN),
            wait_s=self.timeout,
            link=self.link,
        )
        answer = LoginReply.parse(reply) if isinstance(reply, dict) else LoginReply(errmsg="empty answer to login")
        if answer.state != 1 or not answer.token:
            raise Refused(Service.LOGIN, answer.errmsg)
        self._token = answer.token
        self.logins += 1
        log.info("logged in to Bolink as park %s (%s)", self.account.park_id, self.account.local_id)
        return self._token

    async def _ensure_token(self, stale: str = "") -> str:
        async with self._login_lock:
            if not self._token or self._token == stale:
                self._token = ""
                await self.login()
            return self._token

    async def upload(self, service: str, data_json: str, *, reserve: int = 0) -> dict[str, Any]:
        """Send one uplink (its `data` text exactly as given) and return Bolink's answer.

        A `token无效` answer logs in again and sends once more. Raises Unreachable when Bolink gives no usable answer;
        a state-0 answer is returned as it is (the caller decides; see `Reply.ok`).
        """
        for attempt in range(2):
            token = await self._ensure_token()
            await self.window.acquire(reserve)
            body = envelope(data_json, self.account.ukey, service_name=service, token=token)
            _, reply = await post_json(
                self._http, f"{self.sdk_url}/upload.do", body, wait_s=self.timeout, link=self.link
            )
            if not isinstance(reply, dict):
                raise Unreachable(f"Bolink gave no answer object to {service}: {compact(reply)[:60]}")
            if TOKEN_INVALID in str(reply.get("errmsg", "")) and attempt == 0:
                log.info("Bolink says the token expired; logging in again")
                await self._ensure_token(stale=token)
                continue
            return reply
        raise Unreachable(f"Bolink kept refusing the token for {service}")

    async def send(self, message: Message, reply_type: type[R] = Reply, *, reserve: int = 0) -> R:  # type: ignore[assignment]
        """Send a typed uplink and parse the answer; raises Refused on state 0 (a duplicate counts as success)."""
        raw = await self.upload(message.SERVICE, message.json_text(), reserve=reserve)
        try:
            reply: R = reply_type.parse(raw)
        except ValueError as exc:
            raise Unreachable(f"Bolink's answer to {message.SERVICE} does not fit: {exc}") from None
        if not reply.ok:
            raise Refused(message.SERVICE, reply.errmsg)
        return reply

    async def answer(self, service: str, answer: Message) -> None:
        """Answer a downlink (another upload.do with the downlink's service_name). Raises Unreachable or Refused."""
        raw = await self.upload(service, answer.json_text())
        if not Reply.parse(raw).ok and ALREADY_PROCESSED not in str(raw.get("errmsg", "")):
            raise Refused(service, str(raw.get("errmsg", "")))

    async def download(self) -> Envelope | None:
        """Long-poll download.do for one downlink: None when there is none.

        Raises Unreachable when Bolink is away, BadMessage when what came down is not a properly signed message.
        """
        token = await self._ensure_token()
        await self.window.acquire()
        text, reply = await post_json(
            self._http,
            f"{self.sdk_url}/download.do",
            compact({"token": token}),
            wait_s=self.poll_timeout + self.timeout,
            link=self.link,
        )
        if reply is None:
            return None
        if not isinstance(reply, dict):
            raise BadMessage(f"download.do sent a JSON value that is not a message: {text[:60]!r}")
        if "service_name" not in reply and "state" in reply:
            errmsg = str(reply.get("errmsg", ""))
            if TOKEN_INVALID in errmsg:
                log.info("Bolink says the token expired; logging in again")
                await self._ensure_token(stale=token)
                return None
            if reply.get("state") == 0:
                raise Refused("download", errmsg)
            return None
        return open_envelope(text, self.account.ukey)
