"""The cashier's window under load: is the GUI thread still responsive?

Runs the real window of `booth-app --demo` in this process (the same `booth_app.app.window_running` the app uses):
four lane tiles each painting live video from the demo's synthetic RTSP cameras (960x540 at 25 fps, H.264 through
ffmpeg, decoded by the PyAV readers), the demo's Bolink simulator, display boards and relay board, the demo traffic
(cars in and out paying every way, now and then a misread plate or a Bolink outage), plus --reads-per-s extra plate
pushes over HTTP spread over the four lanes, with the cashier logged in and the queues, payment panels and status bar
updating as they do for a cashier.

Measured after --warmup s, for --seconds s:
* event-loop lag: a coroutine asks to wake every 10 ms (asyncio.sleep on qasync's loop, i.e. Qt's event loop on the
  GUI thread); lag = how late it woke. p50/p99/max;
* frames painted per tile per second (VideoView.painted), so the video really was live;
* the process's CPU (time.process_time over wall time: all threads, decoders and encoders' readers included; the
  ffmpeg encoders of the synthetic cameras are separate processes and reported apart) and resident memory (VmRSS)
  at the start and the end of the measured run.

Run: `QT_QPA_PLATFORM=offscreen uv run python benchmarks/gui.py [--seconds 60] [--reads-per-s 2]`
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rss_mb(pid: int | None = None) -> float:
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ffmpeg_cpu_s() -> float:
    """CPU seconds used so far by this process's ffmpeg children (the synthetic cameras' encoders)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            if (proc / "comm").read_text().strip() != "ffmpeg" or int(stat.rsplit(")", 1)[1].split()[1]) != os.getpid():
                continue
        except (OSError, ValueError, IndexError):
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def lag_probe(samples: list[float], stop: asyncio.Event, every: float = 0.010) -> None:
    while not stop.is_set():
        asked = time.perf_counter()
        await asyncio.sleep(every)
        samples.append(time.perf_counter() - asked - every)
        moments.append(asked)


moments: list[float] = []  # when each lag sample was taken, beside it


async def rss_probe(samples: list[float], stop: asyncio.Event, every: float = 30.0) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        samples.append(round(rss_mb(), 1))


async def extra_reads(settings: object, rate: float, stop: asyncio.Event) -> int:
    from booth_app.sim.camera import SimCamera, random_plate

    if rate <= 0:
        return 0
    listener = settings.camera_listener  # type: ignore[attr-defined]
    url = f"http://{listener.host}:{listener.port}{listener.path}"
    rng = random.Random(7)
    cameras = [SimCamera(url, serialno=lane.camera.serialno) for lane in settings.lanes]  # type: ignore[attr-defined]
    sent = 0
    for camera in cameras:
        await camera.__aenter__()
    try:
        while not stop.is_set():
            plate, colour = random_plate(rng)
            await rng.choice(cameras).push(plate, colour=colour)
            sent += 1
            await asyncio.sleep(1 / rate)
    finally:
        for camera in cameras:
            await camera.__aexit__(None, None, None)
    return sent


async def measure(args: argparse.Namespace, data_dir: Path) -> dict[str, object]:
    from booth_app.app import demo_settings, window_running

    settings = demo_settings()
    async with window_running(settings, data_dir, demo=True, video=True, traffic=True) as shell:
        staff = shell.bridge.services.staff
        shell.bridge.set_on_duty(await staff.login("cashier", "cashier123"))
        stop = asyncio.Event()
        await asyncio.sleep(args.warmup)
        samples: list[float] = []
        painted_before = {tile.lane.id: tile.video.painted for tile in shell.window.tiles}
        rss_start = rss_mb()
        cpu_start, ffmpeg_start, wall_start = time.process_time(), ffmpeg_cpu_s(), time.perf_counter()
        probe = asyncio.create_task(lag_probe(samples, stop))
        rss: list[float] = []
        memory = asyncio.create_task(rss_probe(rss, stop))
        pushes = asyncio.create_task(extra_reads(settings, args.reads_per_s, stop))
        await asyncio.sleep(args.seconds)
        stop.set()
        sent = await pushes
        await probe
        await memory
        wall = time.perf_counter() - wall_start
        cpu = time.process_time() - cpu_start
        ffmpeg = ffmpeg_cpu_s() - ffmpeg_start
        fps = {tile.lane.id: (tile.video.painted - painted_before[tile.lane.id]) / wall for tile in shell.window.tiles}
        inside = await shell.window.store.count_inside()
        counts = await shell.window.store.outbox_counts()
    lag_ms = [sample * 1000 for sample in samples]
    by_half_minute: dict[int, list[float]] = {}
    for moment, lag in zip(moments, lag_ms, strict=True):
        by_half_minute.setdefault(int((moment - moments[0]) // 30), []).append(lag)
    return {
        "seconds": round(wall, 1),
        "lag_samples": len(lag_ms),
        "lag_p50_ms": round(statistics.median(lag_ms), 2),
        "lag_p99_ms": round(percentile(lag_ms, 0.99), 2),
        "lag_max_ms": round(max(lag_ms), 2),
        "lag_p99_ms_every_30_s": [round(percentile(part, 0.99), 1) for part in by_half_minute.values()],
        "lag_over_20_ms": sum(lag > 20 for lag in lag_ms),
        "fps_painted": {lane: round(value, 1) for lane, value in fps.items()},
        "cpu_cores_app": round(cpu / wall, 2),
        "cpu_cores_ffmpeg_cameras": round(ffmpeg / wall, 2),
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": round(rss_mb(), 1),
        "rss_mb_every_30_s": rss,
        "extra_pushes": sent,
        "cars_inside_at_end": inside,
        "outbox": counts,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to measure (default 60)")
    parser.add_argument("--warmup", type=float, default=8.0, help="seconds before measuring (default 8)")
    parser.add_argument("--reads-per-s", type=float, default=2.0, help="extra plate pushes a second (default 2)")
    args = parser.parse_args()

    import qasync
    from PySide6.QtWidgets import QApplication

    from booth_app.ui.theme import apply_theme, configure_high_dpi

    configure_high_dpi()
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app)
    with tempfile.TemporaryDirectory(prefix="booth-gui-") as folder:
        result = qasync.run(measure(args, Path(folder)))
    cpu = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"machine: {platform.node()} · {platform.processor() or platform.machine()} · {cpu} cores · "
          f"Python {platform.python_version()} · Qt platform {os.environ['QT_QPA_PLATFORM']}")  # fmt: skip
    for key, value in result.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
