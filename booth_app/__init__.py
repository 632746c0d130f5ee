"""Booth: the car-park booth (岗亭) PC application."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("booth-app")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
