"""Benchmark of the origin sync against raw tools, on a local static index served over HTTP.

    .venv/bin/python bench/sync_bench.py [--index DIR] [--rounds N] [--workers N]

Finds the local static PEP 503 index from `pip config list` (an extra-index-url file:///.../simple;
the files are next to it) unless --index names the simple/ directory, serves it on 127.0.0.1 with
nginx when installed (else Python's threaded http.server), the same server for every leg, and
measures in one run:

  (a) baseline: every file fetched with curl, 16 in parallel, to disk, then sha256 on every core;
  (a') the durable raw ceiling: the same, then one `sync` (the same bytes made durable);
  (b) our cold full sync (`manage.py sync`) into an empty store with a fresh SQLite database;
  (c) a sync with no changes;
  (d) bandersnatch (when installed and nginx serves), syncing the same files from the same server
      through a PEP 691 root and a JSON API (/pypi/<name>/json) that the bench generates.

`sync` (the flush) runs between legs, so that no leg pays for another's writeback.

It prints times, MB/s, the sync process's peak memory (ru_maxrss) and the ratios to the targets:
cold sync <= 1.15 x baseline, no-change sync < 1 s, peak memory < 300 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HREF_RE = re.compile(r'href="([^"]+)"')


# -- the index ---------------------------------------------------------------------------------


def find_index() -> Path:
    """The first file:// simple index that pip is configured with."""
    output = subprocess.run([PYTHON, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False).stdout
    for line in output.splitlines():
        key, _, value = line.partition("=")
        if not key.endswith(("index-url", "extra-index-url")):
            continue
        for url in value.strip().strip("'\"").split():
            if url.startswith("file://"):
                path = Path(unquote(urlsplit(url).path))
                if (path / "index.html").is_file():
                    return path
    sys.exit("no file:// simple index in `pip config list`; pass --index DIR (the simple/ directory)")


@dataclass(frozen=True)
class IndexFile:
    url_path: str  # path under the served root, e.g. /files/x.whl
    local: Path
    size: int
    sha256: str


def index_files(simple: Path) -> list[IndexFile]:
    """Every file the index links to, read straight from the tree (independent of our parser)."""
    root = simple.parent
    files: dict[str, IndexFile] = {}
    for page in sorted(simple.glob("*/index.html")):
        base = f"/{simple.name}/{page.parent.name}/"
        for href in HREF_RE.findall(page.read_text(errors="replace")):
            target, _, fragment = urljoin(base, href).partition("#")
            local = root / unquote(target.lstrip("/"))
            if local.is_file() and target not in files:
                sha256 = fragment.split("=", 1)[1] if fragment.startswith("sha256=") else ""
                files[target] = IndexFile(target, local, local.stat().st_size, sha256)
    return sorted(files.values(), key=lambda item: item.size, reverse=True)


# -- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit("the server did not start listening")


def start_server(
    root: Path, workdir: Path, api: Path | None = None, *, port: int = 0
) -> tuple[subprocess.Popen, int, str]:
    port = port or free_port()
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx:
        conf = workdir / "nginx.conf"
        conf.write_text(
            f"""daemon off;
worker_processes {os.cpu_count() or 2};
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path {workdir}/nginx-body;
  proxy_temp_path {workdir}/nginx-proxy;
  fastcgi_temp_path {workdir}/nginx-fastcgi;
  uwsgi_temp_path {workdir}/nginx-uwsgi;
  scgi_temp_path {workdir}/nginx-scgi;
  types {{ text/html html; application/json json; }}
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    index index.html;
    {api_locations(api, root)}
  }}
}}
"""
        )
        process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(workdir)], stderr=subprocess.DEVNULL)
        kind = "nginx"
    else:
        process = subprocess.Popen(
            [PYTHON, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(root), str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        kind = "python http.server (threaded)"
    wait_for_port(port, process)
    return process, port, kind


def api_locations(api: Path | None, root: Path) -> str:
    """nginx locations of the generated JSON API that bandersnatch reads (PEP 691 root, /pypi/<name>/json)."""
    if api is None:
        return ""
    return f"""location = /simple {{ default_type application/vnd.pypi.simple.v1+json;
      add_header X-PyPI-Last-Serial 1; alias {api}/simple.json; }}
    location /pypi/ {{ root {api}; default_type application/json; add_header X-PyPI-Last-Serial 1; }}
    location /packages/ {{ alias {root}/; }}"""


def write_json_api(simple: Path, files: list[IndexFile], base_url: str, api: Path) -> int:
    """A PEP 691 root (with serials) and a JSON API page per project over the index's own file URLs."""
    by_path = {item.url_path: item for item in files}
    projects: dict[str, list[IndexFile]] = {}
    for page in sorted(simple.glob("*/index.html")):
        base = f"/{simple.name}/{page.parent.name}/"
        for href in HREF_RE.findall(page.read_text(errors="replace")):
            item = by_path.get(urljoin(base, href).partition("#")[0])
            if item is not None and item not in projects.setdefault(page.parent.name, []):
                projects[page.parent.name].append(item)
    api.mkdir(parents=True)
    root = {"meta": {"api-version": "1.1", "_last-serial": 1}, "projects": []}
    for name, items in projects.items():
        root["projects"].append({"name": name, "_last-serial": 1})
        releases = [
            {
                "filename": item.local.name,
                # bandersnatch keeps only paths under /packages/: the same files, aliased there by nginx.
                "url": f"{base_url}/packages{item.url_path}",
                "digests": {"sha256": item.sha256 or hashlib.sha256(item.local.read_bytes()).hexdigest()},
                "size": item.size,
                "upload_time_iso_8601": "2024-01-01T00:00:00.000000Z",
                "upload_time": "2024-01-01T00:00:00",
                "packagetype": "bdist_wheel" if item.local.name.endswith(".whl") else "sdist",
                "python_version": "source",
                "requires_python": None,
                "yanked": False,
            }
            for item in items
        ]
        page = {"info": {"name": name, "version": "0"}, "last_serial": 1, "releases": {"0": releases}, "urls": []}
        (api / "pypi" / name).mkdir(parents=True)
        (api / "pypi" / name / "json").write_text(json.dumps(page))
    (api / "simple.json").write_text(json.dumps(root))
    return len(projects)


def bandersnatch_leg(base_url: str, workdir: Path, files: list[IndexFile]) -> float | None:
    """bandersnatch mirroring the same files (10 workers, api-method simple); None when not installed."""
    tool = Path(PYTHON).parent / "bandersnatch"
    if not tool.exists():
        return None
    target = workdir / "bandersnatch"
    conf = workdir / "bandersnatch.conf"
    conf.write_text(
        f"""[mirror]
directory = {target}
master = {base_url}
api-method = simple
allow-non-https = true
json = false
release-files = true
workers = 10
timeout = 60
global-timeout = 3600
stop-on-error = true
verifiers = 3
hash-index = false
simple-format = ALL
"""
    )
    started = time.monotonic()
    result = subprocess.run([str(tool), "-c", str(conf), "mirror"], capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    got = sum(1 for path in (target / "web" / "packages").rglob("*") if path.is_file())
    if result.returncode != 0 or got != len(files):
        sys.exit(f"bandersnatch failed ({result.returncode}, {got} of {len(files)} files):\n{result.stderr[-3000:]}")
    shutil.rmtree(target)
    return elapsed


def stop_server(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGQUIT if "nginx" in str(process.args[0]) else signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# -- the legs ----------------------------------------------------------------------------------


def flush_disk() -> None:
    """Write back dirty pages so that one leg does not pay for the previous one's writes."""
    os.sync()
    time.sleep(1)


def baseline(files: list[IndexFile], base_url: str, workdir: Path) -> tuple[float, float, float, float]:
    """curl 16 at once to disk, then sha256sum on every core, then one sync; returns (total, download,
    hash, flush) seconds (total without the flush: the durable ceiling is total + flush)."""
    out = workdir / "baseline"
    out.mkdir()
    config = workdir / "curl.conf"
    with config.open("w") as handle:
        for index, item in enumerate(files):
            handle.write(f'url = "{base_url}{item.url_path}"\noutput = "{out}/{index}"\n')
    started = time.monotonic()
    subprocess.run(
        ["curl", "--silent", "--fail", "--parallel", "--parallel-max", "16", "--config", str(config)],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    downloaded = time.monotonic()
    # One hashing process per core, files shared out biggest first to the least loaded (LPT).
    cores = os.cpu_count() or 2
    shares: list[list[int]] = [[] for _ in range(cores)]
    loads = [0] * cores
    for index, item in enumerate(files):
        least = loads.index(min(loads))
        shares[least].append(index)
        loads[least] += item.size
    workers = [
        subprocess.Popen([*hash_command(), *(str(out / str(i)) for i in share)], stdout=subprocess.PIPE)
        for share in shares
        if share
    ]
    outputs = [worker.communicate()[0] for worker in workers]
    finished = time.monotonic()
    digests = {}
    for line in b"".join(outputs).decode().splitlines():
        digest, _, name = line.partition(" ")
        digests[int(Path(name.lstrip(" *")).name)] = digest
    wrong = [files[i].local.name for i, digest in digests.items() if files[i].sha256 and digest != files[i].sha256]
    if wrong or len(digests) != len(files):
        sys.exit(f"baseline check failed: {len(wrong)} wrong hashes, {len(digests)} of {len(files)} hashed")
    os.sync()  # the same bytes made durable, once
    flushed = time.monotonic() - finished
    shutil.rmtree(out)
    return finished - started, downloaded - started, finished - downloaded, flushed


def hash_command() -> list[str]:
    """The fastest standard sha256 tool here: OpenSSL (uses SHA instructions where the CPU has them)."""
    if shutil.which("openssl"):
        return ["openssl", "dgst", "-sha256", "-r"]
    return ["sha256sum"]


@dataclass(frozen=True)
class SyncLeg:
    wall: float  # the whole `manage.py sync` process, Django start-up included
    in_run: float  # the StoreRun's own duration
    peak_rss_mb: float
    summary: str


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, str(REPO / "manage.py"), *args], env=env, check=True, stdout=subprocess.DEVNULL)


def timed_sync(env: dict[str, str], db: Path, log: Path) -> SyncLeg:
    with log.open("w") as handle:
        started = time.monotonic()
        process = subprocess.Popen([PYTHON, str(REPO / "manage.py"), "sync"], env=env, stdout=handle, stderr=handle)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text()
    if process.returncode != 0:
        sys.exit(f"manage.py sync exited {process.returncode}:\n{text[-3000:]}")
    with sqlite3.connect(db) as connection:
        started_at, finished_at = connection.execute(
            "SELECT started_at, finished_at FROM sync_storerun WHERE kind = 'sync' ORDER BY id DESC LIMIT 1"
        ).fetchone()
    in_run = (datetime.fromisoformat(finished_at) - datetime.fromisoformat(started_at)).total_seconds()
    summary = next((line.strip() for line in text.splitlines() if line.strip().startswith("files:")), "")
    return SyncLeg(wall, in_run, usage.ru_maxrss / 1024, summary)


def store_check(mirror_root: Path, files: list[IndexFile]) -> None:
    """Spot-check that the store holds exactly the index's content (a few files, re-hashed)."""
    for item in files[:: max(1, len(files) // 20)]:
        digest = item.sha256 or hashlib.sha256(item.local.read_bytes()).hexdigest()
        blob = mirror_root / "store" / digest[:2] / digest[2:4] / digest
        with blob.open("rb") as handle:
            if hashlib.file_digest(handle, "sha256").hexdigest() != digest:
                sys.exit(f"store check failed for {item.local.name}")


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="the simple/ directory of a static index (default: from pip)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat baseline and cold sync; medians are shown")
    parser.add_argument("--workers", type=int, help="SYNC_DOWNLOAD_WORKERS for our sync (default: settings)")
    args = parser.parse_args()
    simple = (args.index or find_index()).resolve()
    if not (simple / "index.html").is_file():
        sys.exit(f"{simple} has no index.html")
    files = index_files(simple)
    total_bytes = sum(item.size for item in files)
    print(f"index: {simple} ({len(files)} files, {total_bytes / 1e9:.2f} GB)")

    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp:
        workdir = Path(tmp)
        workdir.chmod(0o755)  # nginx's workers (often another user) read the generated JSON API in it
        port_hint = free_port()
        base_url = f"http://127.0.0.1:{port_hint}"
        api = workdir / "api"
        write_json_api(simple, files, base_url, api)
        server, port, kind = start_server(simple.parent, workdir, api, port=port_hint)
        base_url = f"http://127.0.0.1:{port}"
        print(f"server: {kind} on {base_url}")
        baselines: list[float] = []
        durables: list[float] = []
        peers: list[float] = []
        colds: list[SyncLeg] = []
        nochange: list[SyncLeg] = []
        try:
            for round_number in range(1, args.rounds + 1):
                flush_disk()
                total, download, hashing, flush = baseline(files, base_url, workdir)
                baselines.append(total)
                durables.append(total + flush)
                print(
                    f"round {round_number} baseline: {total:.2f} s ({download:.2f} s curl, {hashing:.2f} s sha256),"
                    f" {total_bytes / total / 1e6:.0f} MB/s; + one sync {flush:.2f} s = {total + flush:.2f} s durable"
                )
                if "nginx" in kind:
                    flush_disk()
                    peer = bandersnatch_leg(base_url, workdir, files)
                    if peer is not None:
                        peers.append(peer)
                        print(f"round {round_number} bandersnatch: {peer:.2f} s, {total_bytes / peer / 1e6:.0f} MB/s")
                flush_disk()
                run_dir = workdir / f"run{round_number}"
                run_dir.mkdir()
                db = run_dir / "db.sqlite3"
                env = {
                    **os.environ,
                    "DATABASE_URL": f"sqlite:///{db}",
                    "MIRROR_ROOT": str(run_dir / "mirror"),
                    "VAR_DIR": str(run_dir),
                    "LOG_LEVEL": "WARNING",
                }
                if args.workers:
                    env["SYNC_DOWNLOAD_WORKERS"] = str(args.workers)
                manage(env, "migrate", "-v0")
                manage(env, "upstream_add", "bench", f"{base_url}/{simple.name}/")
                cold = timed_sync(env, db, run_dir / "cold.log")
                colds.append(cold)
                print(
                    f"round {round_number} cold sync: {cold.wall:.2f} s ({cold.in_run:.2f} s in the run),"
                    f" {total_bytes / cold.wall / 1e6:.0f} MB/s, peak {cold.peak_rss_mb:.0f} MB; {cold.summary}"
                )
                store_check(run_dir / "mirror", files)
                again = timed_sync(env, db, run_dir / "nochange.log")
                nochange.append(again)
                print(
                    f"round {round_number} no-change sync: {again.wall:.2f} s ({again.in_run:.2f} s in the run),"
                    f" peak {again.peak_rss_mb:.0f} MB; {again.summary}"
                )
                shutil.rmtree(run_dir)
        finally:
            stop_server(server)

    base = statistics.median(baselines)
    durable = statistics.median(durables)
    peer = statistics.median(peers) if peers else None
    cold_wall = statistics.median(leg.wall for leg in colds)
    cold_run = statistics.median(leg.in_run for leg in colds)
    quiet_wall = statistics.median(leg.wall for leg in nochange)
    quiet_run = statistics.median(leg.in_run for leg in nochange)
    peak = max(leg.peak_rss_mb for leg in colds + nochange)
    print()
    tool = hash_command()[0]
    cold_rate = total_bytes / cold_wall / 1e6
    print("| leg | time | MB/s | ratio to baseline |")
    print("|---|---|---|---|")
    print(
        f"| baseline: curl x16, then {tool} x{os.cpu_count()} | {base:.2f} s | {total_bytes / base / 1e6:.0f} | 1.00 |"
    )
    print(f"| durable ceiling: the same, then one sync | {durable:.2f} s | {total_bytes / durable / 1e6:.0f} |"
          f" {durable / base:.2f} |")  # fmt: skip
    if peer is not None:
        print(f"| bandersnatch 6.8, 10 workers | {peer:.2f} s | {total_bytes / peer / 1e6:.0f} | {peer / base:.2f} |")
    print(f"| cold sync, whole process | {cold_wall:.2f} s | {cold_rate:.0f} | {cold_wall / base:.2f} |")
    print(f"| cold sync, in the run | {cold_run:.2f} s | {total_bytes / cold_run / 1e6:.0f} | {cold_run / base:.2f} |")
    print(f"| no-change sync, whole process | {quiet_wall:.2f} s | | |")
    print(f"| no-change sync, in the run | {quiet_run:.2f} s | | |")
    print(f"| peak memory (ru_maxrss) | {peak:.0f} MB | | |")
    print()
    print(f"cold sync / durable ceiling: {cold_wall / durable:.2f} (target <= 0.9)")
    if peer is not None:
        print(f"bandersnatch / cold sync: {peer / cold_wall:.2f} (target >= 2)")
    verdicts = [
        ("cold sync <= 1.15 x baseline (whole process)", cold_wall / base <= 1.15, f"{cold_wall / base:.2f} x"),
        ("no-change sync < 1 s (in the run)", quiet_run < 1, f"{quiet_run:.2f} s"),
        ("no-change sync < 1 s (whole process)", quiet_wall < 1, f"{quiet_wall:.2f} s"),
        ("peak memory < 300 MB", peak < 300, f"{peak:.0f} MB"),
    ]
    for name, ok, value in verdicts:
        print(f"{'met   ' if ok else 'MISSED'} {name}: {value}")


if __name__ == "__main__":
    main()
