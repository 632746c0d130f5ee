"""Glass-to-glass latency and CPU of the RTSP video reader, with synthetic cameras on loopback.

Each synthetic camera (its own process: Python painter + RTSP relay, and an ffmpeg libx264 encoder) draws its capture
time into every frame; the reader's `on_frame` reads it back from the decoded RGB picture. Latency = the reader's
`Frame.wall` (RGB picture ready) minus that drawn time, so it covers painting, encoding, RTP over TCP, relay,
demuxing, decoding and colour conversion. CPU is counted separately for this process (the readers), the camera
processes (painting + relay) and the ffmpeg encoders, from `time.process_time()` and /proc/PID/stat, in cores.

`--one-camera` points every reader at a single camera: each reader still has its own RTSP session, TCP connection
and decoder, so the reader side is the same work as N cameras, while the encoding cost is paid once (on a small
machine N live 720p x264 encoders can starve the readers and measure the encoders instead).

Run: `uv run python benchmarks/video_latency.py [--streams 1 4] [--seconds 30] [--size 1280x720] [--fps 25]
[--one-camera] [--max-size 960x540]`.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

from booth_app.sim.camera_video import read_timestamp
from drivers.video import Frame, VideoReader, VideoStats

TICKS = os.sysconf("SC_CLK_TCK")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime: fields 14 and 15 of proc(5)


def machine_busy_seconds() -> float:
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICKS  # all but idle and iowait


@dataclass
class Camera:
    process: subprocess.Popen[str]
    url: str
    encoder_pid: int

    @classmethod
    def start(cls, args: argparse.Namespace) -> "Camera":
        command = [sys.executable, "-m", "booth_app.sim.camera_video", "--port", "0", "--size", args.size]
        command += ["--fps", str(args.fps), "--noise", str(args.noise), "--bitrate", args.bitrate]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"at (rtsp://\S+), ffmpeg pid (\d+)", line)
        if not found:
            process.kill()
            raise SystemExit(f"the synthetic camera did not start: {line!r}")
        return cls(process, found[1], int(found[2]))

    def stop(self) -> None:
        self.process.terminate()  # the camera stops its ffmpeg on SIGTERM
        self.process.wait(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()


@dataclass
class Usage:
    """CPU seconds over `wall` seconds of measurement."""

    wall: float
    readers: float
    probe: float
    encoders: float
    cameras: float
    machine: float

    def cores(self, seconds: float) -> str:
        return f"{seconds / self.wall:.2f}"


@dataclass
class Stream:
    """What one reader measured; `on_frame` runs on its delivery thread."""

    recording: bool = False
    latency_ms: list[float] = field(default_factory=list)
    decode_ms: list[float] = field(default_factory=list)  # packet read → RGB ready
    unreadable: int = 0
    probe_cpu: float = 0.0  # CPU spent reading the time code: the benchmark's cost, not the reader's

    def on_frame(self, frame: Frame) -> None:
        started = time.thread_time()
        captured = read_timestamp(frame.image, now=frame.wall)
        self.probe_cpu += time.thread_time() - started
        if not self.recording:
            return
        if captured is None:
            self.unreadable += 1
            return
        self.latency_ms.append((frame.wall - captured) * 1000)
        self.decode_ms.append((frame.decoded - frame.received) * 1000)


def run(count: int, args: argparse.Namespace) -> None:
    cameras = [Camera.start(args) for _ in range(1 if args.one_camera else count)]
    streams = [Stream() for _ in range(count)]
    max_size = size(args.max_size) if args.max_size else None
    readers = [
        VideoReader(cameras[i % len(cameras)].url, on_frame=streams[i].on_frame, max_size=max_size)
        for i in range(count)
    ]
    try:
        for reader in readers:
            reader.start()
        deadline = time.monotonic() + 20
        while not all(reader.connected for reader in readers):
            if time.monotonic() > deadline:
                raise SystemExit(f"readers did not connect: {[r.stats() for r in readers]}")
            time.sleep(0.05)
        time.sleep(args.warmup)
        for stream in streams:
            stream.recording, stream.probe_cpu = True, 0.0
        bytes_read = [reader.stats().bytes_read for reader in readers]
        wall, own, busy = time.monotonic(), time.process_time(), machine_busy_seconds()
        cams = [cpu_seconds(c.process.pid) for c in cameras]
        encoders = [cpu_seconds(c.encoder_pid) for c in cameras]
        time.sleep(args.seconds)
        wall = time.monotonic() - wall
        own = time.process_time() - own
        busy = machine_busy_seconds() - busy
        cams = [cpu_seconds(c.process.pid) - before for c, before in zip(cameras, cams, strict=True)]
        encoders = [cpu_seconds(c.encoder_pid) - before for c, before in zip(cameras, encoders, strict=True)]
        for stream in streams:
            stream.recording = False
        stats = [reader.stats() for reader in readers]
        mbits = sum(s.bytes_read - before for s, before in zip(stats, bytes_read, strict=True)) * 8e-6 / wall / count
    finally:
        for reader in readers:
            reader.stop()
        for camera in cameras:
            camera.stop()
    probe = sum(s.probe_cpu for s in streams)
    usage = Usage(wall, own - probe, probe, sum(encoders), sum(cams), busy)
    report(count, len(cameras), streams, stats, args, usage)
    print(f"video received: {mbits:.2f} Mbit/s per stream")


def size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def report(
    count: int,
    camera_count: int,
    streams: list[Stream],
    stats: list[VideoStats],
    args: argparse.Namespace,
    usage: Usage,
) -> None:
    expected = round(args.fps * args.seconds)
    title = f"{count} stream(s), {camera_count} camera(s), {args.size} @ {args.fps} fps, {args.seconds} s"
    print(f"\n{title}" + (f", reader max_size {args.max_size}" if args.max_size else ""))
    print("| stream | frames | p50 | p95 | p99 | max | packet→RGB p50 | reconnects |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    everything: list[float] = []
    for i, (stream, stat) in enumerate(zip(streams, stats, strict=True), 1):
        lat = stream.latency_ms
        everything += lat
        if not lat:
            print(f"| {i} | 0 of {expected} | - | - | - | - | - | {stat.reconnects} |")
            continue
        print(
            f"| {i} | {len(lat)} of {expected} | {percentile(lat, 0.5):.1f} ms | {percentile(lat, 0.95):.1f} ms | "
            f"{percentile(lat, 0.99):.1f} ms | {max(lat):.1f} ms | {statistics.median(stream.decode_ms):.1f} ms | "
            f"{stat.reconnects} |"
        )
    unreadable = sum(s.unreadable for s in streams)
    print(f"all streams: p50 {percentile(everything, 0.5):.1f} ms, p99 {percentile(everything, 0.99):.1f} ms")
    print(
        f"CPU in cores: readers {usage.cores(usage.readers)} (+{usage.cores(usage.probe)} reading the time code), "
        f"encoders {usage.cores(usage.encoders)}, camera painters+relays {usage.cores(usage.cameras)}, "
        f"whole machine {usage.cores(usage.machine)} of {os.cpu_count()}; unreadable time codes {unreadable}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 4], help="reader counts to run (default 1 4)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per run (default 30)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds after connecting not measured (default 3)")
    parser.add_argument("--size", default="1280x720", help="camera picture WIDTHxHEIGHT (default 1280x720)")
    parser.add_argument("--fps", type=int, default=25, help="camera frames per second (default 25)")
    parser.add_argument("--one-camera", action="store_true", help="all readers watch one camera (one encoder)")
    parser.add_argument("--max-size", default="", help="reader max_size WIDTHxHEIGHT (default: full size)")
    parser.add_argument("--noise", type=int, default=8, help="camera sensor-like noise amplitude (default 8)")
    parser.add_argument("--bitrate", default="3M", help="camera encoder bit rate, '' for crf 23 (default 3M)")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for count in args.streams:
        run(count, args)


if __name__ == "__main__":
    main()
