"""Bolink (泊链): signing, message tables, the SDK HTTP-mode client and the outbox relay."""
