"""The desktop entry, the AppStream metadata, the icon and install.sh, as a desktop sees them.

The Debian validators (`desktop-file-validate` from desktop-file-utils, `appstreamcli`
from appstream) are used when installed; those two tests skip otherwise.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from n1studio import __version__

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"
APP_ID = "io.github.n1studio.N1Studio"
DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"
ICON = REPO / "resources" / "n1studio.svg"


def _desktop_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def _tool(name: str) -> str:
    exe = shutil.which(name)
    if not exe:
        pytest.skip(f"{name} is not installed "
                    "(Debian: apt-get install desktop-file-utils appstream)")
    return exe


def test_desktop_entry_validates():
    res = subprocess.run([_tool("desktop-file-validate"), str(DESKTOP)], check=False,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "error" not in res.stdout.lower(), res.stdout


def test_metainfo_validates():
    res = subprocess.run([_tool("appstreamcli"), "validate", "--no-net", str(METAINFO)],
                         check=False, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_desktop_entry_launches_the_gui_with_the_app_icon():
    entry = _desktop_entry(DESKTOP)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "N-1 Studio"
    # SPEC.md: `n1studio gui [CASE]`; a file opened from the file manager becomes CASE.
    assert entry["Exec"] == "n1studio gui %f"
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"


def test_metainfo_matches_the_desktop_entry_the_licence_and_the_version():
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("project_license") == "MIT"
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    versions = [r.get("version") for r in root.iter("release")]
    assert versions and versions[0] == __version__, "newest <release> must be this version"
    assert root.find("provides/binary").text == "n1studio"


def test_icon_is_a_valid_svg_that_renders(qapp):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(ICON))
    assert renderer.isValid()
    assert renderer.defaultSize().width() == renderer.defaultSize().height() == 128
    image = QImage(48, 48, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    centre, corner = image.pixelColor(24, 24), image.pixelColor(0, 0)
    assert corner.alpha() == 0, "the rounded corners are transparent"
    assert centre.alpha() == 255, "the icon is painted"
    colours = {image.pixel(x, y) for x in range(48) for y in range(48)}
    assert len(colours) > 20, "a drawing, not a flat square"


def test_install_script_from_a_checkout(tmp_path):
    venv_exe = REPO / ".venv" / "bin" / "n1studio"
    if not venv_exe.exists():
        pytest.skip("no .venv/bin/n1studio (run `make` first)")
    prefix = tmp_path / "prefix"
    env = {**os.environ, "HOME": str(tmp_path)}
    res = subprocess.run(["bash", str(PACKAGING / "install.sh"), "--prefix", str(prefix)],
                         check=False, capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    installed = prefix / "share" / "applications" / DESKTOP.name
    entry = _desktop_entry(installed)
    assert entry["Exec"] == f"{prefix}/bin/n1studio gui %f"
    assert (prefix / "bin" / "n1studio").resolve() == venv_exe.resolve()
    icons = prefix / "share" / "icons" / "hicolor" / "scalable" / "apps"
    assert (icons / f"{APP_ID}.svg").is_file()
    assert (prefix / "share" / "metainfo" / METAINFO.name).is_file()
    # the installed program answers through the link the menu entry uses
    out = subprocess.run([str(prefix / "bin" / "n1studio"), "--version"], check=False,
                         capture_output=True, text=True)
    assert out.stdout.strip() == f"n1studio {__version__}"
    if shutil.which("desktop-file-validate"):
        val = subprocess.run(["desktop-file-validate", str(installed)], check=False,
                             capture_output=True, text=True)
        assert val.returncode == 0, val.stdout
    res = subprocess.run(["bash", str(PACKAGING / "install.sh"), "--uninstall", "--prefix",
                          str(prefix)], check=False, capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    assert not installed.exists() and not (prefix / "bin" / "n1studio").exists()
    assert venv_exe.exists(), "uninstalling never touches the checkout's venv"
