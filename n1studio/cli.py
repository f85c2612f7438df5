"""The `n1studio` command line (SPEC.md's stable contract).

Each command group lives in `n1studio/commands/<group>.py` (never importing Qt) or, for the
commands that need Qt, in `n1studio/app/commands.py`; each exposes `register(subparsers)`
and a handler returns the exit code. Building the parser imports only the group modules,
which import nothing heavy at module level: each handler imports what it uses, so
`n1studio --help` and `n1studio cases` never load pandapower, Qt, CasADi or llama.cpp
(bench/bench_cli.py measures it). User mistakes (N1Error) print
one line on stderr and exit 2; `--json` prints exactly one JSON document on stdout. Any
other exception is a bug: one line on stderr naming the file that holds the traceback, exit 3
(never 1, which `check` and `solve` use for "infeasible").
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from n1studio import __version__
from n1studio.errors import N1Error, mask_secrets

# Command group modules in help order. A group module registers its subcommands.
GROUPS = ("n1studio.commands.core", "n1studio.commands.prompt", "n1studio.commands.check",
          "n1studio.commands.ask", "n1studio.commands.likelihood", "n1studio.commands.sweep",
          "n1studio.commands.curate", "n1studio.app.commands")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="n1studio",
        description="N-1 Studio: does a language model solve a power-grid OPF, or recall one?",
    )
    parser.add_argument("--version", action="version", version=f"n1studio {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        importlib.import_module(group).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version", "-v",
                                                                 "--verbose")):
        argv = ["gui", *argv]
    args = parser.parse_args(argv)
    secrets = named_secrets(argv, getattr(args, "api_key_env", None))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter(secrets))
    if not getattr(args, "func", None):
        if args.command is None:
            args = parser.parse_args(["gui"])
        else:
            parser.print_help()
            return 2
    try:
        return int(args.func(args) or 0)
    except N1Error as exc:
        print(f"n1studio: error: {mask_secrets(str(exc), secrets)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("n1studio: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 -- a bug is exit 3, never a verdict (exit 1)
        where = write_crash_report(argv, exc, secrets)
        text = " ".join(mask_secrets(str(exc), secrets).split())
        text = text if len(text) <= 120 else text[:117] + "..."
        print(f"n1studio: internal error: {type(exc).__name__}"
              + (f": {text}" if text else "") + f" (full report: {where})", file=sys.stderr)
        return 3


def named_secrets(argv: list[str], name: str | None = None) -> list[str]:
    """The values of the environment variables the command line names with --api-key-env
    (the keys themselves, raw and stripped): masked wherever text is shown or written."""
    names = [name] if name else []
    names += [b for a, b in zip(argv, argv[1:], strict=False) if a.startswith("--api-k")]
    names += [a.split("=", 1)[1] for a in argv if a.startswith("--api-k") and "=" in a]
    values = [os.environ.get(n, "") for n in names]
    return [v for raw in values for v in (raw, raw.strip()) if v.strip()]


class MaskingFilter(logging.Filter):
    """Masks credentials (`errors.mask_secrets`) in every log record a handler writes."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = mask_secrets(text, self.secrets)
        if masked != text:
            record.msg, record.args = masked, None
        return True


def write_crash_report(argv: list[str], exc: BaseException,
                       secrets: list[str] | None = None) -> str:
    """Write the traceback of an unexpected exception to a file; its path (or why not).

    The folder is $N1STUDIO_CRASH_DIR, else `n1studio-crashes` in the temporary directory.
    Keys never reach the file: the command line and the traceback pass through
    `errors.mask_secrets` (URL credentials, key query parameters, Bearer headers and the
    value of the variable --api-key-env names).
    """
    import platform
    import tempfile
    import traceback

    folder = os.environ.get("N1STUDIO_CRASH_DIR") or os.path.join(tempfile.gettempdir(),
                                                                  "n1studio-crashes")
    try:
        os.makedirs(folder, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix="crash-", suffix=".txt", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(f"n1studio {__version__}, Python {platform.python_version()} "
                    f"on {platform.platform()}\n")
            secrets = named_secrets(argv) if secrets is None else secrets
            f.write(mask_secrets(f"command: n1studio {' '.join(argv)}\n\n", secrets))
            f.write(mask_secrets("".join(traceback.format_exception(type(exc), exc,
                                                                    exc.__traceback__)),
                                 secrets))
    except OSError as err:
        return f"not written: {err}"
    return path


if __name__ == "__main__":
    sys.exit(main())
