"""Record the app writing typed text, as the README's animated GIF: the real main window,
offscreen, with the shipped models; a frame is grabbed from the window every FRAME_MS
while the synthesizer samples and the canvas draws (nothing is drawn for the recording).

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/make_animation.py \
        [--text TEXT] [--seed S] [--speed fast|realtime] [--out docs/screenshots/write.gif]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image  # noqa: E402
from PySide6.QtCore import QBuffer, QIODevice, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

FRAME_MS = 80  # ~12 frames per second
HOLD_MS = 2500  # the finished line stays on screen this long before the loop restarts
WIDTH = 760  # frames are scaled to this width: a GIF of a few hundred KB


def to_pil(qimage) -> Image.Image:
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    qimage.save(buf, "PNG")
    return Image.open(io.BytesIO(bytes(buf.data()))).convert("RGB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", default="Hello from an LSTM that learned to write")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--speed", choices=("fast", "realtime"), default="fast")
    parser.add_argument("--size", default="1100x430")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "write.gif")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from gui.main_window import MainWindow

    window = MainWindow(threads=2, offer_restore=False, restore_geometry=False)
    window.resize(*(int(v) for v in args.size.split("x")))
    window.show()
    frames: list[Image.Image] = []

    def wait_for_models() -> None:  # start writing once the window is idle (models loaded)
        if not window.is_idle():
            QTimer.singleShot(50, wait_for_models)
            return
        window.write_text(args.text, speed="fast" if args.speed == "fast" else "realtime",
                          seed=args.seed)
        QTimer.singleShot(FRAME_MS, grab)

    def grab() -> None:
        frames.append(to_pil(window.grab().toImage()))
        if window.is_idle():
            QTimer.singleShot(300, finish)
        else:
            QTimer.singleShot(FRAME_MS, grab)

    def finish() -> None:
        frames.append(to_pil(window.grab().toImage()))
        app.quit()

    QTimer.singleShot(0, wait_for_models)
    app.exec()
    if len(frames) < 3:
        print("make_animation: the text was written before a frame could be grabbed",
              file=sys.stderr)
        return 1
    scale = WIDTH / frames[0].width
    size = (WIDTH, round(frames[0].height * scale))
    small = [f.resize(size, Image.LANCZOS).quantize(colors=64) for f in frames]
    durations = [FRAME_MS] * (len(small) - 1) + [HOLD_MS]
    tmp = args.out.with_suffix(".tmp.gif")
    small[0].save(tmp, save_all=True, append_images=small[1:], duration=durations, loop=0,
                  optimize=True)
    tmp.replace(args.out)
    print(f"{args.out}: {len(small)} frames, {args.out.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
