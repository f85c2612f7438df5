#!/usr/bin/env bash
# Install N-1 Studio into the desktop's menus: the program, its .desktop entry, icons and
# AppStream metadata, under PREFIX (default ~/.local; /usr/local for all users, as root).
#
#   from the bundle:   ./install.sh [--prefix DIR]          (run inside the n1studio folder)
#   from a checkout:   packaging/install.sh [--prefix DIR]  (after `make`, uses .venv)
#   remove:            install.sh --uninstall [--prefix DIR]
set -euo pipefail

APP_ID=io.github.n1studio.N1Studio
PREFIX="${HOME}/.local"
UNINSTALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="$2"; shift 2 ;;
    --prefix=*) PREFIX="${1#--prefix=}"; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

HERE="$(cd "$(dirname "$0")" && pwd)"
SHARE="$PREFIX/share"
LIBDIR="$PREFIX/lib/n1studio"
BIN="$PREFIX/bin/n1studio"

refresh() {
  command -v update-desktop-database >/dev/null && update-desktop-database -q "$SHARE/applications" || true
  command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" || true
}

if [ "$UNINSTALL" = 1 ]; then
  rm -f "$BIN" "$SHARE/applications/$APP_ID.desktop" "$SHARE/metainfo/$APP_ID.metainfo.xml"
  find "$SHARE/icons/hicolor" -name "$APP_ID.*" -delete 2>/dev/null || true
  rm -rf "$LIBDIR"
  refresh
  echo "N-1 Studio removed from $PREFIX"
  exit 0
fi

mkdir -p "$PREFIX/bin" "$SHARE/applications" "$SHARE/metainfo" "$SHARE/icons/hicolor/scalable/apps"
if [ -x "$HERE/n1studio" ] && [ -d "$HERE/_internal" ]; then
  # the bundle: copy it under PREFIX/lib (unless it is already there) and link the program
  DATA="$HERE/share"
  if [ "$HERE" != "$LIBDIR" ]; then
    rm -rf "$LIBDIR" && mkdir -p "$(dirname "$LIBDIR")" && cp -a "$HERE" "$LIBDIR"
  fi
  ln -sfn "$LIBDIR/n1studio" "$BIN"
  cp -r "$DATA/icons/hicolor/." "$SHARE/icons/hicolor/"
  SRC_DESKTOP="$DATA/applications/$APP_ID.desktop"
  SRC_META="$DATA/metainfo/$APP_ID.metainfo.xml"
else
  # a source checkout: link the program installed in the project's virtualenv
  REPO="$(cd "$HERE/.." && pwd)"
  if [ ! -x "$REPO/.venv/bin/n1studio" ]; then
    echo "install.sh: $REPO/.venv/bin/n1studio not found; run 'make' first" >&2
    exit 1
  fi
  ln -sfn "$REPO/.venv/bin/n1studio" "$BIN"
  cp "$REPO/resources/n1studio.svg" "$SHARE/icons/hicolor/scalable/apps/$APP_ID.svg"
  SRC_DESKTOP="$HERE/$APP_ID.desktop"
  SRC_META="$HERE/$APP_ID.metainfo.xml"
fi
# the menu entry starts the program by its absolute path: PREFIX/bin need not be on PATH
sed -e "s|^Exec=n1studio |Exec=$BIN |" -e "s|^TryExec=n1studio\$|TryExec=$BIN|" \
  "$SRC_DESKTOP" > "$SHARE/applications/$APP_ID.desktop"
cp "$SRC_META" "$SHARE/metainfo/$APP_ID.metainfo.xml"
refresh
echo "N-1 Studio installed: $BIN (menu entry $SHARE/applications/$APP_ID.desktop)"
