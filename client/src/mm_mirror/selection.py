"""`mm-mirror select`: the best current mirror of the list, as an index URL (and pip's or uv's config)."""

from __future__ import annotations

import sys

from mm_mirror import candidates, mirrorlist
from mm_mirror.errors import NO_MIRROR, OK, ClientError, UsageError
from mm_mirror.installer_config import write_config


def log(message: str) -> None:
    print(f"mm-mirror select: {message}", file=sys.stderr, flush=True)


def mirror_select(args, *, origin: str) -> int:
    """Ask the list, probe its best `--candidates` mirrors at once, print the chosen index URL."""
    if args.candidates < 1:
        raise UsageError("--candidates must be at least 1")
    cache = mirrorlist.MirrorlistCache(args.cache_dir)
    listing = mirrorlist.load(origin, args.collection, cache=cache, timeout=max(args.timeout, 5.0), log=log)
    for message in cache.log:
        log(message)
    chosen_from = listing.mirrors[: args.candidates]
    if not chosen_from:
        raise ClientError(f"the mirrorlist of {args.collection!r} lists no http(s) mirror", NO_MIRROR)
    probes = candidates.probe_all(chosen_from, listing, timeout=args.timeout, parallel=len(chosen_from))
    for result in probes:
        latency = f"{result.latency * 1000:7.1f} ms" if result.latency != float("inf") else "      - ms"
        detail = f"revision {result.revision}" if result.ok else result.reason
        print(f"  {result.state:8} {latency}  {result.mirror.url}  {detail}", file=sys.stderr)
    chosen = candidates.best(probes)
    if chosen is None:
        raise ClientError(f"none of the {len(probes)} best mirrors serves an allowed revision", NO_MIRROR)
    index_url = chosen.mirror.index_url
    if args.write:
        path = write_config(args.write, args.config_path, index_url)
        log(f"wrote {args.write}'s configuration: {path}")
    print(index_url)
    return OK
