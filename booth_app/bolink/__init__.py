"""Bolink (泊链): signing, message tables, the SDK HTTP-mode client, the platform API and the outbox relay."""

from booth_app.bolink.signing import sign, verify

__all__ = ["sign", "verify"]
