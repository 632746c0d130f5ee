"""Camera to pixels painted in the window tile: the reader, the hand-over to the GUI thread and the paint.

Synthetic cameras (as in `video_latency.py`) draw their capture time into every frame; each lane tile's `VideoView`
paints the frames its reader offers, and after each paint the benchmark reads the time code of the frame just painted.
Latency = end of `paintEvent` (wall clock) minus the drawn capture time. Under `QT_QPA_PLATFORM=offscreen` the paint
goes to Qt's raster backing store; on a real screen the compositor adds its frame (up to ~16 ms at 60 Hz) on top.
CPU: this process (readers + GUI thread), in cores, with the benchmark's own time-code reading taken out.

Run: `QT_QPA_PLATFORM=offscreen uv run python benchmarks/video_paint.py [--streams 1 4] [--seconds 30]
[--tile 640x360] [--one-camera]`.
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QGridLayout, QWidget

sys.path.insert(0, str(Path(__file__).parent))
from video_latency import Camera, percentile, size  # a sibling script, not a package

from booth_app.sim.camera_video import read_timestamp
from booth_app.ui.video_view import VideoView
from drivers.video import Frame, VideoReader


@dataclass
class Tile:
    recording: bool = False
    latency_ms: list[float] = field(default_factory=list)
    unreadable: int = 0
    probe_cpu: float = 0.0

    def on_painted(self, frame: Frame, _monotonic: float) -> None:
        painted = time.time()
        started = time.thread_time()
        captured = read_timestamp(frame.image, now=painted)
        self.probe_cpu += time.thread_time() - started
        if not self.recording:
            return
        if captured is None:
            self.unreadable += 1
            return
        self.latency_ms.append((painted - captured) * 1000)


def run(app: QApplication, count: int, args: argparse.Namespace) -> None:
    args.noise, args.bitrate = 8, "3M"  # like a real camera's main stream (see video_latency.py)
    cameras = [Camera.start(args) for _ in range(1 if args.one_camera else count)]
    tiles = [Tile() for _ in range(count)]
    window = QWidget()
    grid = QGridLayout(window)
    views = [VideoView(on_painted=tile.on_painted) for tile in tiles]
    tile_w, tile_h = size(args.tile)
    for index, view in enumerate(views):
        view.setFixedSize(tile_w, tile_h)
        grid.addWidget(view, index // 2, index % 2)
    window.show()
    readers = [
        VideoReader(cameras[i % len(cameras)].url, on_frame=views[i].offer, on_state=views[i].offer_state)
        for i in range(count)
    ]
    for reader in readers:
        reader.start()
    marks: dict[str, float] = {}

    def begin() -> None:
        for tile in tiles:
            tile.recording, tile.probe_cpu = True, 0.0
        marks["wall"], marks["cpu"] = time.monotonic(), time.process_time()
        marks["painted"] = sum(view.painted for view in views)

    def end() -> None:
        marks["wall"] = time.monotonic() - marks["wall"]
        marks["cpu"] = time.process_time() - marks["cpu"]
        marks["painted"] = sum(view.painted for view in views) - marks["painted"]
        for tile in tiles:
            tile.recording = False
        app.quit()

    QTimer.singleShot(int(args.warmup * 1000), begin)
    QTimer.singleShot(int((args.warmup + args.seconds) * 1000), end)
    app.exec()
    for reader in readers:
        reader.stop()
    for camera in cameras:
        camera.stop()
    window.close()
    report(count, tiles, marks, args)


def report(count: int, tiles: list[Tile], marks: dict[str, float], args: argparse.Namespace) -> None:
    samples = [ms for tile in tiles for ms in tile.latency_ms]
    probe = sum(tile.probe_cpu for tile in tiles)
    expected = count * args.fps * marks["wall"]
    print(f"{count} stream(s) at {args.size} {args.fps} fps into {args.tile} tiles, {marks['wall']:.0f} s:")
    unreadable = sum(tile.unreadable for tile in tiles)
    print(f"  painted {marks['painted']:.0f} of about {expected:.0f} frames; time code unreadable in {unreadable}")
    print(
        f"  camera → painted: p50 {statistics.median(samples):.1f} ms, p95 {percentile(samples, 0.95):.1f} ms, "
        f"p99 {percentile(samples, 0.99):.1f} ms, max {max(samples):.1f} ms"
    )
    print(f"  this process (readers + GUI): {(marks['cpu'] - probe) / marks['wall']:.2f} cores")


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--tile", default="640x360", help="the video area of a lane tile")
    parser.add_argument("--one-camera", action="store_true")
    args = parser.parse_args()
    app = QApplication([])
    for count in args.streams:
        run(app, count, args)


if __name__ == "__main__":
    main()
