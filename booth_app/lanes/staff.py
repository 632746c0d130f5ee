"""Who is at the booth: operators, their passwords (argon2), shifts and the handover.

Logging in starts a shift, handing over ends it; both are reported to Bolink as a `work_record` written in the same
transaction. Password hashing is slow on purpose, so it runs off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from booth_app.bolink.messages import WORK_OFF, WORK_ON, WorkRecord, seconds
from booth_app.core.types import ZERO, Operator, Role
from booth_app.store import Report, Store, StoreError
from booth_app.store.shift_report import ShiftReport

MIN_PASSWORD_LENGTH = 6
MAX_USERNAME_LENGTH = 32  # the operators table's limits
MAX_DISPLAY_NAME_LENGTH = 64
MAX_CASH = Decimal("1e8")  # a Numeric(10, 2) column


class StaffError(Exception):
    """Something an operator asked that cannot be done as asked; the message is one sentence to show them."""


class LoginError(StaffError):
    """A login refused: never says whether the username or the password was wrong."""


class PasswordRejected(StaffError):
    """A new password that does not meet the policy."""


@dataclass(frozen=True)
class OnDuty:
    """The operator at the booth now and the shift their login started."""

    operator: Operator
    shift_id: int
    started_at: datetime

    @property
    def name(self) -> str:
        return self.operator.display_name or self.operator.username

    @property
    def is_admin(self) -> bool:
        return self.operator.role is Role.ADMIN


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符。")


def _check_names(username: str, display_name: str) -> None:
    if not username or username != username.strip():
        raise StaffError("用户名不能为空，也不能以空格开头或结尾。")
    if len(username) > MAX_USERNAME_LENGTH:
        raise StaffError(f"用户名最多 {MAX_USERNAME_LENGTH} 个字符。")
    if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        raise StaffError(f"姓名最多 {MAX_DISPLAY_NAME_LENGTH} 个字符。")


class Staff:
    """Operators, logins and shifts at this booth (the store knows which booth it is)."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = _utcnow,
        reported: Callable[[], None] = lambda: None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._reported = reported  # wakes the Bolink relay: a report waits in the outbox
        self._hasher = hasher or PasswordHasher()
        self._unknown_user_hash: str | None = None

    # ------------------------------------------------------------ operators

    async def needs_first_admin(self) -> bool:
        """True on the first start, before any operator exists."""
        return not await self._store.operators()

    async def create_first_admin(self, username: str, password: str, display_name: str = "") -> Operator:
        _check_names(username, display_name)
        _check_password(password)
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        admin = await self._store.add_first_operator(username, password_hash, Role.ADMIN, display_name)
        if admin is None:
            raise StaffError("管理员账号已经建立，请用已有账号登录。")
        return admin

    async def add_operator(
        self, by: OnDuty, username: str, password: str, role: Role, display_name: str = ""
    ) -> Operator:
        if not by.is_admin:
            raise PermissionError("只有管理员可以添加操作员。")
        _check_names(username, display_name)
        _check_password(password)
        if await self._store.operator(username) is not None:
            raise StaffError(f"用户名“{username}”已被使用。")
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        try:
            return await self._store.add_operator(username, password_hash, role, display_name)
        except StoreError as exc:  # the shared database server is away: nothing was added
            raise StaffError(str(exc)) from exc

    async def operators(self) -> list[Operator]:
        """Everyone who may log in here, by username."""
        return sorted(await self._store.operators(), key=lambda operator: operator.username)

    async def set_password(self, by: OnDuty, username: str, password: str) -> None:
        """An operator changes their own password; an admin may change anyone's."""
        if not by.is_admin and by.operator.username != username:
            raise PermissionError("只能修改自己的密码。")
        _check_password(password)
        if await self._store.operator(username) is None:
            raise StaffError(f"没有用户名为“{username}”的操作员。")
        try:
            await self._store.set_password_hash(username, await asyncio.to_thread(self._hasher.hash, password))
        except StoreError as exc:  # the shared database server is away: the old password stands
            raise StaffError(str(exc)) from exc

    # ------------------------------------------------------------ shifts

    async def login(self, username: str, password: str) -> OnDuty:
        """Check the password and put the operator on duty.

        Their own shift left open (the booth stopped before they handed over) is taken up again; a shift another
        operator left open here is ended now, with a note, so two shifts never count the same cars.
        """
        operator = await self._store.operator(username)
        if operator is None:
            await self._verify(await self._dummy_hash(), password)  # take as long as for a real operator
            raise LoginError("用户名或密码错误。")
        if not await self._verify(operator.password_hash, password):
            raise LoginError("用户名或密码错误。")
        if not operator.active:
            raise LoginError("该账号已停用，请联系管理员。")
        if self._hasher.check_needs_rehash(operator.password_hash) and not self._store.offline:
            await self._store.set_password_hash(username, await asyncio.to_thread(self._hasher.hash, password))
        now = self._clock()
        left_open = await self._store.open_shifts()
        own = next((shift for shift in left_open if shift.operator.id == operator.id), None)
        for other in (shift for shift in left_open if shift is not own):
            note = f"未交班：{operator.display_name or username} 登录时结束"
            off = _work_record(other.operator, WORK_OFF, now)
            await self._store.end_shift(other.shift_id, now, note=note, reports=[off])
        if own is not None:
            if len(left_open) > 1:
                self._reported()
            return OnDuty(operator, own.shift_id, own.started_at)
        shift_id = await self._store.start_shift(operator.id, now, [_work_record(operator, WORK_ON, now)])
        self._reported()
        return OnDuty(operator, shift_id, now)

    async def report(self, on_duty: OnDuty, until: datetime | None = None) -> ShiftReport:
        """The shift's figures so far."""
        self._need_whole_park()
        return await self._store.shift_report(on_duty.shift_id, until=until or self._clock())

    async def hand_over(self, on_duty: OnDuty, *, cash_counted: Decimal | None, note: str = "") -> ShiftReport:
        """End the shift with the cash the operator counted; returns the final report."""
        self._need_whole_park()
        if cash_counted is not None:
            cash_counted = _money(cash_counted)
        now = self._clock()
        try:
            await self._store.end_shift(
                on_duty.shift_id,
                now,
                cash_counted=cash_counted,
                note=note.strip(),
                reports=[_work_record(on_duty.operator, WORK_OFF, now)],
            )
        except StoreError as exc:  # ended already: by an earlier handover, or by the next login after a restart
            raise StaffError("这个班次已经交班结束，不能再次交班。") from exc
        self._reported()
        return await self._store.shift_report(on_duty.shift_id)

    def _need_whole_park(self) -> None:
        if self._store.offline:  # the journal holds this booth's part of the shift since the server went, no more
            raise StaffError("暂时连不上停车场的数据库服务器：班次报表要用全部数据，请在恢复连接后再查看或交班。")

    # ------------------------------------------------------------ passwords

    async def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _dummy_hash(self) -> str:
        if self._unknown_user_hash is None:
            self._unknown_user_hash = await asyncio.to_thread(self._hasher.hash, "no such operator")
        return self._unknown_user_hash


def _money(amount: Decimal) -> Decimal:
    try:
        amount = amount.quantize(ZERO)
    except InvalidOperation:
        raise StaffError("实收现金金额无效。") from None
    if amount < ZERO:
        raise StaffError("实收现金不能为负数。")
    if amount >= MAX_CASH:
        raise StaffError("实收现金金额过大。")
    return amount


def _work_record(operator: Operator, state: int, at: datetime) -> Report:
    name = operator.display_name or operator.username
    return WorkRecord(uid=operator.username, user_name=name, state=state, time=seconds(at)).report()
