"""The `mm-mirror` command: select, run, proxy (installers); sync, check, checkin (mirror operators)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mm_mirror import __version__, config
from mm_mirror.errors import GAPS, OK, ClientError, UsageError


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("origin and collection (else from the config file)")
    group.add_argument("--origin", help="the origin's base URL, e.g. https://origin.example/")
    group.add_argument("--collection", help="collection slug (default: full)")
    group.add_argument("--config", type=Path, help="config file (default: ~/.config/mm-mirror/config.toml)")
    group.add_argument("--cache-dir", type=Path, help="mirrorlist cache (default: ~/.cache/mm-mirror)")
    group.add_argument("--timeout", type=float, help="connect time-out in seconds, also the repomd.json check's (3)")
    return common


def _installer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--read-timeout", type=float, default=30.0, help="seconds between bytes of a transfer (30)")
    parser.add_argument("--demote-seconds", type=float, default=600.0, help="how long a failing mirror is skipped")
    parser.add_argument(
        "--recheck-seconds", type=float, default=300.0, help="how often a mirror's repomd.json is rechecked"
    )
    parser.add_argument("--parallel", type=int, default=3, help="mirrors whose repomd.json is checked at once (3)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mm-mirror", description=__doc__)
    parser.add_argument("--version", action="version", version=f"mm-mirror {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common()

    select = commands.add_parser("select", parents=[common], help="choose the best current mirror; print its index URL")
    select.add_argument("--candidates", type=int, default=5, help="how many of the list's best mirrors to check (5)")
    select.add_argument("--write", choices=("pip", "uv"), help="write pip's or uv's configuration for it")
    select.add_argument("--config-path", type=Path, help="the pip.conf or uv.toml to write (default: the user's)")

    run = commands.add_parser("run", parents=[common], help="run COMMAND with a local failover index proxy")
    _installer_options(run)
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND", help="the command to run")

    proxy = commands.add_parser("proxy", parents=[common], help="run the local failover index proxy")
    _installer_options(proxy)
    proxy.add_argument("--bind", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    proxy.add_argument("--port", type=int, default=3141, help="port (3141; 0 for any free one)")

    sync = commands.add_parser("sync", parents=[common], help="copy a collection with rsync, whole when it ends")
    sync.add_argument("source", help="rsync://origin.example/pub/full/ or a local folder")
    sync.add_argument("dest", type=Path, help="the mirror's copy of the collection")
    sync.add_argument("--bwlimit", help="rsync --bwlimit (KiB/s, or with a unit)")
    sync.add_argument("--delete", action="store_true", help="remove what the source no longer has, once whole")
    sync.add_argument("--max-rounds", type=int, default=5, help="bounded attempts until whole (5)")
    sync.add_argument("--rsync", default="rsync", help="the rsync binary")
    sync.add_argument("--rsync-option", action="append", default=[], help="extra rsync option (repeatable)")

    check = commands.add_parser("check", parents=[common], help="verify a copy against its own repomd.json")
    check.add_argument("dest", type=Path, help="the copy of the collection")
    check.add_argument("--hashes", action="store_true", help="hash every listed file too (slow)")
    check.add_argument("--pages", action="store_true", help="check that every project page's files are present")

    checkin = commands.add_parser("checkin", parents=[common], help="report a private mirror's revision to the origin")
    checkin.add_argument("dest", type=Path, help="the copy of the collection")
    checkin.add_argument("--host", type=int, help="the host id the origin gave this mirror")
    checkin.add_argument("--token", help="operator API token (better: MM_MIRROR_TOKEN or the config file)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = config.load_config(args.config)
        args.collection_given = args.collection is not None or "collection" in settings
        args.collection = config.collection_slug(config.resolve(args.collection, settings, "collection"))
        args.timeout = float(config.resolve(args.timeout, settings, "timeout", 3.0))
        cache_dir = config.resolve(args.cache_dir, settings, "cache_dir")
        args.cache_dir = Path(cache_dir) if cache_dir else config.cache_home() / "mm-mirror"
        args.settings = settings
        return COMMANDS[args.command](args)
    except ClientError as error:
        print(f"mm-mirror {args.command}: {error}", file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        return 130


def _origin(args) -> str:
    return config.origin_url(config.resolve(args.origin, args.settings, "origin"))


def cmd_check(args) -> int:
    from mm_mirror.tree import Gap, check_pages, check_tree, project_pages

    if not args.dest.is_dir():
        raise UsageError(f"{args.dest} is not a folder")
    result = check_tree(args.dest, hashes=args.hashes)
    gaps = list(result.gaps)
    if result.repomd and args.collection_given and result.repomd.collection != args.collection:
        gaps.append(
            Gap("collection", "repodata/repomd.json", f"is {result.repomd.collection!r}, not {args.collection!r}")
        )
    if args.pages:
        gaps += check_pages(args.dest, project_pages(args.dest))
    for gap in gaps:
        print(gap)
    revision = result.repomd.revision if result.repomd else "?"
    state = "whole" if not gaps else f"{len(gaps)} gap(s)"
    print(f"{args.dest}: revision {revision}, {result.files} files, {result.bytes} bytes: {state}", file=sys.stderr)
    return OK if not gaps else GAPS


def cmd_sync(args) -> int:
    from mm_mirror.sync import SyncOptions, collection_sync

    if args.max_rounds < 1:
        raise UsageError("--max-rounds must be at least 1")
    options = SyncOptions(
        source=args.source,
        dest=args.dest,
        bwlimit=args.bwlimit,
        delete=args.delete,
        max_rounds=args.max_rounds,
        rsync=args.rsync,
        rsync_options=args.rsync_option,
    )
    report = collection_sync(options)
    print(
        f"{args.dest}: revision {report.check.repomd.revision} whole ({report.check.files} files, "
        f"{report.check.bytes} bytes; {report.attempts} attempt(s), {report.fixups} fix-up(s))"
    )
    return OK


def cmd_checkin(args) -> int:
    from mm_mirror.checkin import mirror_checkin

    host = args.host if args.host is not None else args.settings.get("host")
    if host is None:
        raise UsageError("no host: pass --host ID or set host in the config file")
    token = args.token or os.environ.get("MM_MIRROR_TOKEN") or args.settings.get("token") or ""
    result = mirror_checkin(
        origin=_origin(args), collection=args.collection, dest=args.dest, host=int(host), token=token,
        timeout=max(args.timeout, 10.0),
    )  # fmt: skip
    print(result.state or result.answer)
    return OK


def cmd_select(args) -> int:
    from mm_mirror.selection import mirror_select

    return mirror_select(args, origin=_origin(args))


def cmd_run(args) -> int:
    from mm_mirror.run import proxy_run

    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        raise UsageError("nothing to run: mm-mirror run -- COMMAND [ARGS…]")
    return proxy_run(args, origin=_origin(args), argv=argv)


def cmd_proxy(args) -> int:
    from mm_mirror.run import proxy_serve

    return proxy_serve(args, origin=_origin(args))


COMMANDS = {
    "select": cmd_select,
    "run": cmd_run,
    "proxy": cmd_proxy,
    "sync": cmd_sync,
    "check": cmd_check,
    "checkin": cmd_checkin,
}
