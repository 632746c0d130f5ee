"""`booth-app sim encoder URL`: what the synthetic camera's `ffmpeg` does, for a machine that has no ffmpeg program.

Reads raw yuv420p frames of `--size` from standard input at `--fps`, encodes them with x264 as a camera does for live
view (ultrafast, zero latency, no B-frames, a keyframe a second) using PyAV's own FFmpeg libraries, and publishes them
to the RTSP address (ANNOUNCE/RECORD over TCP), until standard input ends.
"""

from __future__ import annotations

import argparse
import sys
from typing import cast

import av
import numpy as np
from av.video.stream import VideoStream


def encoder_command() -> list[str]:
    """How to start `booth-app sim encoder` from this installation: the frozen program itself, or this Python."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "sim", "encoder"]
    return [sys.executable, "-m", "booth_app.cli", "sim", "encoder"]


def bits_per_second(rate: str) -> int:
    """ "4M" or "800k", as ffmpeg's command line takes them, in bits per second."""
    scale = {"k": 1_000, "m": 1_000_000}.get(rate[-1:].lower(), 1)
    return int(float(rate[:-1] if scale > 1 else rate) * scale)


def encode(url: str, size: tuple[int, int], fps: int, bitrate: str = "", threads: int = 0) -> int:
    width, height = size
    frame_bytes = width * height * 3 // 2
    source = sys.stdin.buffer
    output = av.open(url, mode="w", format="rtsp", options={"rtsp_transport": "tcp"})
    try:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        options = {"preset": "ultrafast", "tune": "zerolatency", "bf": "0", "g": str(fps)}
        stream = cast(VideoStream, output.add_stream(codec, rate=fps, options=options if codec == "libx264" else {}))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.thread_count = threads
        if bitrate:
            stream.bit_rate = bits_per_second(bitrate)
        index = 0
        while len(raw := source.read(frame_bytes)) == frame_bytes:
            planes = np.frombuffer(raw, dtype=np.uint8).reshape(height * 3 // 2, width)  # Y, then U, then V
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts = index
            output.mux(stream.encode(frame))
            index += 1
        output.mux(stream.encode(None))
    finally:
        output.close()
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="booth-app sim encoder", description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the RTSP address to publish to")
    parser.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT of the raw frames (default 1280x720)")
    parser.add_argument("--fps", type=int, default=25, help="frames per second (default 25)")
    parser.add_argument("--bitrate", default="", help="bit rate, e.g. 4M (default: x264's choice)")
    parser.add_argument("--threads", type=int, default=0, help="encoder threads (default 0: x264 decides)")
    args = parser.parse_args(argv)
    width, _, height = args.size.partition("x")
    try:
        return encode(args.url, (int(width), int(height)), args.fps, args.bitrate, args.threads)
    except (av.FFmpegError, OSError, ValueError) as exc:
        print(f"encoder: {exc}", file=sys.stderr)
        return 1
