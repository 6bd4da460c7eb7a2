"""Benchmark of the client's proxy: `mm-mirror run -- pip install` against pip straight from the mirror.

    .venv/bin/python bench/client_bench.py [--index /path/to/simple] [--packages 20] [--rounds 3]

The good mirror is this machine's static PEP 503 index on disk (the extra index `pip config list`
shows, or --index), served as it is by a threaded http.server on 127.0.0.1 with a synthetic
repodata/repomd.json beside it (simpler than publishing it; the proxy only needs the manifest to
check the mirror, and the pages' #sha256 to check the files). A stand-in origin lists the mirrors.

About 20 small pure-Python wheels (the first projects by name whose newest file is a py3-none-any
wheel under 300 KB) are installed with --no-deps into an empty --target, no cache, three ways per
round, interleaved, medians of the rounds:
  1. baseline: pip --index-url <the good mirror> (pip's own connection pool, no proxy);
  2. proxy:    mm-mirror run -- pip (the mirrorlist fetch and the repomd.json check included);
  3. hanging:  the same with the first two mirrors of the list hanging (accepting, never answering).
Targets (issue 11): proxy/baseline <= 1.2; hanging <= (proxy + connect time-out) x 1.2. Medians and
minima are printed: the machine is shared, and the minimum is the least disturbed run of each leg.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.client.servers import HangingServer, Listing, origin_server, running, tree_server  # noqa: E402

BIN = Path(sys.executable).parent
HREF = re.compile(r'href="([^"#]+)#sha256=([0-9a-f]{64})"')


def find_index(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "extra-index-url" in line or "index-url" in line:
            for url in line.split("=", 1)[1].strip().strip("'").split():
                if url.startswith("file://") and Path(unquote(urlsplit(url).path)).is_dir():
                    return Path(unquote(urlsplit(url).path))
    raise SystemExit("no static index on disk found: pass --index /path/to/simple")


def pick_packages(simple: Path, count: int) -> list[str]:
    """name==version of the first `count` projects whose newest file is a small pure-Python wheel."""
    chosen = []
    for project in sorted(path for path in simple.iterdir() if (path / "index.html").is_file()):
        links = HREF.findall((project / "index.html").read_text(errors="replace"))
        wheels = [href for href, _ in links if href.endswith(("-py3-none-any.whl", "-py2.py3-none-any.whl"))]
        if not wheels or len(links) != len(wheels):
            continue
        href = wheels[-1]
        target = (project / href).resolve()
        if not target.is_file() or target.stat().st_size > 300_000:
            continue
        name, version = Path(href).name.split("-")[:2]
        chosen.append(f"{name}=={version}")
        if len(chosen) == count:
            break
    return chosen


def make_mirror(index: Path, work: Path) -> tuple[Path, bytes]:
    """A folder that serves the on-disk index as it is (symlinks), with a repodata/repomd.json."""
    mirror = work / "mirror"
    mirror.mkdir()
    for child in index.parent.iterdir():
        (mirror / child.name).symlink_to(child)
    (mirror / "repodata").mkdir()
    repomd = json.dumps({"version": 1, "collection": "full", "revision": 1, "data": {}}).encode()
    (mirror / "repodata" / "repomd.json").write_bytes(repomd)
    return mirror, repomd


def env_for(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.update(
        PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", HOME=str(work / "home"), NO_PROXY="127.0.0.1"
    )
    return env


def timed(command: list[str], env: dict[str, str], target: Path) -> tuple[float, str]:
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command[:6])}…\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed, result.stderr


def fetch_all(base: str, paths: list[str]) -> float:
    """Seconds to GET every path in turn over one kept-alive connection (bodies read whole)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    started = time.perf_counter()
    for path in paths:
        conn.request("GET", parts.path + path, headers={"Accept": "text/html"})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{path}: HTTP {response.status}")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def relay_paths(index: Path, packages: list[str]) -> list[str]:
    """The 20 project pages and the 20 wheels pip fetches, as paths under the tree."""
    paths = []
    for requirement in packages:
        name, version = requirement.split("==")
        page = next(p for p in index.iterdir() if p.name.replace("-", "_").lower() == name.lower())
        href = next(h for h, _ in HREF.findall((page / "index.html").read_text()) if f"-{version}-" in h)
        paths += [
            f"simple/{page.name}/",
            str(Path("simple", page.name, href)).replace("simple/" + page.name + "/../../", ""),
        ]
    return paths


def relay_overhead(index: Path, packages: list[str], good_url: str, origin_url: str, work: Path, rounds: int) -> None:
    """Per-request cost of the proxy alone: the same 40 GETs straight and through it, no pip."""
    from argparse import Namespace

    from mm_mirror.run import running_proxy

    paths = relay_paths(index, packages)
    args = Namespace(collection="full", cache_dir=work / "cache", timeout=3.0, read_timeout=30.0,
                     demote_seconds=600.0, recheck_seconds=300.0, parallel=3)  # fmt: skip
    with running_proxy(args, origin=origin_url, bind="127.0.0.1", port=0) as server:
        proxy_base = server.index_url[: -len("simple/")]
        fetch_all(proxy_base, paths)
        direct, relayed = [], []
        for _ in range(rounds * 3):
            direct.append(fetch_all(good_url, paths))
            relayed.append(fetch_all(proxy_base, paths))
    d, r = statistics.median(direct), statistics.median(relayed)
    print(
        f"relay alone, {len(paths)} GETs on one connection, medians of {len(direct)}: straight {d * 1000:.0f} ms, "
        f"through the proxy {r * 1000:.0f} ms ({(r - d) / len(paths) * 1000:.2f} ms more per request)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", help="a static PEP 503 index on disk (its simple/ folder)")
    parser.add_argument("--packages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=3.0, help="mm-mirror's connect time-out")
    args = parser.parse_args()

    index = find_index(args.index)
    packages = pick_packages(index, args.packages)
    print(f"index: {index} ({len(packages)} packages: {' '.join(packages)})")
    with tempfile.TemporaryDirectory(prefix="client-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        mirror_dir, repomd = make_mirror(index, work)
        good = stack.enter_context(running(tree_server(mirror_dir)))
        hanging = [stack.enter_context(HangingServer()) for _ in range(2)]
        listings = {
            "full": Listing([good.url], repomd),
            "hanging": Listing([h.url for h in hanging] + [good.url], repomd),
        }
        origin = stack.enter_context(running(origin_server(listings)))
        env = env_for(work)
        target = work / "target"
        pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-cache-dir", "--progress-bar", "off",
               "--target", str(target), *packages]  # fmt: skip

        def through(collection: str, *options: str) -> list[str]:
            # The hanging list is published under another slug; the proxy serves it under that prefix.
            command = [str(BIN / "mm-mirror"), "run", "--origin", origin.url, "--collection", collection]
            return [*command, "--timeout", str(args.timeout), "--cache-dir", str(work / "cache"), *options, "--", *pip]

        times: dict[str, list[float]] = {"baseline": [], "proxy": [], "hanging": []}
        timed([*pip, "--index-url", f"{good.url}simple/"], env, target)  # warm the page cache once
        for round_number in range(1, args.rounds + 1):
            times["baseline"].append(timed([*pip, "--index-url", f"{good.url}simple/"], env, target)[0])
            times["proxy"].append(timed(through("full"), env, target)[0])
            elapsed, log = timed(through("hanging"), env, target)
            times["hanging"].append(elapsed)
            print(
                f"round {round_number}: baseline {times['baseline'][-1]:.2f} s, proxy {times['proxy'][-1]:.2f} s, "
                f"hanging {elapsed:.2f} s"
            )
        log_lines = [line for line in log.splitlines() if line.startswith("mm-mirror:")]
        # For contrast, once: the hanging list with checks one at a time (each hanging mirror waited for in turn).
        sequential = timed(through("hanging", "--parallel", "1"), env, target)[0]
        print(f"hanging, --parallel 1 (checks one at a time), once: {sequential:.2f} s")
        relay_overhead(index, packages, good.url, origin.url, work, args.rounds)
    print("log of the last hanging run:\n  " + "\n  ".join(log_lines or ["(nothing)"]))
    for label, pick in (("medians", statistics.median), ("minima (the least disturbed run of each)", min)):
        baseline, proxy, hung = (pick(times[key]) for key in ("baseline", "proxy", "hanging"))
        print(f"\n{label} of {args.rounds} rounds, {len(packages)} packages, pip --no-deps into an empty --target:")
        print(f"  pip straight from the good mirror:        {baseline:6.2f} s")
        print(
            f"  mm-mirror run -- pip (healthy list):      {proxy:6.2f} s   ratio {proxy / baseline:.2f} (target <= 1.2)"
        )
        budget = (proxy + args.timeout) * 1.2
        print(
            f"  mm-mirror run -- pip (first two hanging): {hung:6.2f} s   {hung - proxy:+.2f} s over healthy; "
            f"budget (healthy + {args.timeout:.0f} s time-out) x 1.2 = {budget:.2f} s"
        )


if __name__ == "__main__":
    main()
