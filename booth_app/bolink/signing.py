"""Bolink's message signature and the envelope that carries it.

sign = upper(md5(DATA + "key=" + UKEY)), where DATA is the `data` JSON text exactly as it travels. The sender serialises
`data` once, signs that text and splices the same text into the body; the receiver checks the text it received.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


class BadMessage(ValueError):
    """A body from the other side that is not a well-formed, correctly signed Bolink message.

    `service` is the service_name it claimed, when it got that far (so it can be answered with a refusal).
    """

    def __init__(self, message: str, *, service: str = "") -> None:
        super().__init__(message)
        self.service = service


def sign(data_json: str, ukey: str) -> str:
    """The 32 uppercase hex digits Bolink expects for `data_json` under `ukey`."""
    return hashlib.md5((data_json + "key=" + ukey).encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def verify(data_json: str, signature: str, ukey: str) -> bool:
    return hmac.compare_digest(sign(data_json, ukey).encode(), signature.strip().upper().encode("utf-8"))


def compact(value: Any) -> str:
    """JSON the way Bolink writes it: no spaces, keys in the order given, non-ASCII characters as themselves."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def envelope(data_json: str, ukey: str, **head: Any) -> str:
    """The body text `{head…,"sign":S,"data":DATA}` with DATA spliced in verbatim, so the sign matches what is sent."""
    fields = [f"{compact(key)}:{compact(value)}" for key, value in head.items() if value is not None]
    fields.append(f'"sign":{compact(sign(data_json, ukey))}')
    fields.append(f'"data":{data_json}')
    return "{" + ",".join(fields) + "}"


@dataclass(frozen=True, slots=True)
class Envelope:
    """A received message: its head fields (service_name, token, …), the parsed `data` and the text it was signed as."""

    head: dict[str, Any]
    data: Any
    data_json: str
    signature: str

    @property
    def service(self) -> str:
        value = self.head.get("service_name", "")
        return value if isinstance(value, str) else ""


def open_envelope(body: str | bytes, ukey: str | None) -> Envelope:
    """Parse a body and check its sign over the `data` text as received; `ukey=None` skips the check (login replies).

    Raises BadMessage with one sentence saying what is wrong.
    """
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        raise BadMessage(f"the body is not UTF-8 text (byte {exc.start})") from None
    try:
        members = _members(text)
    except RecursionError:
        raise BadMessage("the body nests JSON too deeply to read") from None
    head = {key: value for key, (value, _) in members.items() if key not in ("data", "sign")}
    data, data_json = members.get("data", (None, ""))
    signature = members.get("sign", ("", ""))[0]
    if not isinstance(signature, str):
        signature = ""
    claimed = head.get("service_name")
    service = claimed if isinstance(claimed, str) else ""
    if ukey is not None:
        if not signature:
            raise BadMessage("the message carries no sign", service=service)
        if "data" not in members:
            raise BadMessage("the message carries no data to check its sign against", service=service)
        # The raw text is what was signed; Bolink's own side may also sign its compact re-serialisation.
        if not (verify(data_json, signature, ukey) or verify(compact(data), signature, ukey)):
            raise BadMessage(
                f"the sign {signature[:32]!r} does not match the data (wrong ukey or altered message)", service=service
            )
    return Envelope(head=head, data=data, data_json=data_json, signature=signature)


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WHITESPACE:
        i += 1
    return i


def _members(text: str) -> dict[str, tuple[Any, str]]:
    """The top-level members of a JSON object, each as (value, its exact text)."""
    try:
        i = _skip(text, 0)
        if text[i : i + 1] != "{":
            raise BadMessage("the body is not a JSON object")
        i = _skip(text, i + 1)
        members: dict[str, tuple[Any, str]] = {}
        if text[i : i + 1] == "}":
            return members
        while True:
            if text[i : i + 1] != '"':
                raise BadMessage(f"the body is not valid JSON (expected a key at character {i})")
            key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            i = _skip(text, i)
            if text[i : i + 1] != ":":
                raise BadMessage(f"the body is not valid JSON (expected ':' at character {i})")
            i = _skip(text, i + 1)
            value, end = _DECODER.raw_decode(text, i)
            members[key] = (value, text[i:end])
            i = _skip(text, end)
            if text[i : i + 1] == ",":
                i = _skip(text, i + 1)
                continue
            if text[i : i + 1] == "}" and not text[i + 1 :].strip():
                return members
            raise BadMessage(f"the body is not valid JSON (unexpected text at character {i})")
    except json.JSONDecodeError as exc:
        raise BadMessage(f"the body is not valid JSON ({exc.msg} at character {exc.pos})") from None
