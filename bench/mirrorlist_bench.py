"""Benchmark of the mirrorlist endpoint against a bare WSGI baseline, the table build, and live table swaps.

    .venv/bin/python bench/mirrorlist_bench.py [--seconds 10] [--rounds 2] [--connections 32] [--latency-connections 8]

Everything runs in a temporary directory on 127.0.0.1 (nothing of the project's own data is touched):

  1. A table of 500 mirrors, 20,000 netblocks and 3 collections in a fresh SQLite database, GeoIP City and
     ASN databases made with mmdb-writer, the table built with `mirrorlist_build`.
  2. Load from wrk against gunicorn (2 sync workers) for three apps, interleaved per round:
     - baseline: a bare WSGI callable that returns a fixed small JSON;
     - ours: `mirrormanager.wsgi:application` (the mirrorlist's WSGI fast path in front of Django, with the
       compiled lookup that `make setup` builds, engine/_fastselect.pyx);
     - ours, Python lookup: the same with MIRRORLIST_COMPILED=0 (what serves where the extension is not built);
     - Django only: the same DRF view without the fast path (to show what the fast path buys).
     wrk rotates `X-Forwarded-For` over 20,000 client addresses (40% inside mirrors' netblocks) and the three
     collections, from 127.0.0.1, which TRUSTED_PROXIES trusts: every request pays the GeoIP lookups, the
     prefix lookup, the tiers, the weighted shuffle and the JSON, as a real client behind a proxy does.
  3. Swaps: under the same load, a new table (with a new revision) is built and published every second;
     every answer is checked (status 200, header version == body table_version, body revision == the
     revision of that version) and the socket errors counted.
  4. A table of 10,000 URLs and 100,000 netblocks built in a fresh process: time and peak memory, and the
     time and memory of loading it in a web process.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COUNTRIES = {  # country: (continent, latitude, longitude)
    "DE": ("EU", 51, 10), "FR": ("EU", 46, 2), "GB": ("EU", 54, -2), "NL": ("EU", 52, 5), "SE": ("EU", 62, 15),
    "PL": ("EU", 52, 19), "IT": ("EU", 42, 12), "ES": ("EU", 40, -4), "US": ("NA", 38, -97), "CA": ("NA", 56, -106),
    "MX": ("NA", 23, -102), "BR": ("SA", -10, -55), "AR": ("SA", -34, -64), "JP": ("AS", 36, 138),
    "CN": ("AS", 35, 105), "IN": ("AS", 20, 77), "SG": ("AS", 1, 103), "KR": ("AS", 37, 127), "IL": ("AS", 31, 35),
    "AU": ("OC", -27, 133), "NZ": ("OC", -41, 174), "ZA": ("AF", -29, 24), "KE": ("AF", 1, 38), "EG": ("AF", 27, 30),
}  # fmt: skip
ASN_POOL = list(range(64512, 64512 + 400))

LOAD_LUA = r"""
local addrs, paths, counter = {}, {"/api/v1/mirrorlist/full/", "/api/v1/mirrorlist/c2/", "/api/v1/mirrorlist/c3/"}, 0
function init(args)
  for line in io.lines(args[1]) do addrs[#addrs + 1] = line end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  counter = math.random(#addrs)
end
function request()
  counter = counter % #addrs + 1
  return wrk.format("GET", paths[counter % 3 + 1], {["X-Forwarded-For"] = addrs[counter]})
end
"""

CHECK_LUA = r"""
local addrs, counter, threads = {}, 0, {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  for line in io.lines(args[1]) do addrs[#addrs + 1] = line end
  offset = tonumber(args[2])
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  counter = math.random(#addrs)
  checked, mismatches, non200, vmin, vmax = 0, 0, 0, 1e12, 0
end
function request()
  counter = counter % #addrs + 1
  return wrk.format("GET", "/api/v1/mirrorlist/full/", {["X-Forwarded-For"] = addrs[counter]})
end
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 return end
  checked = checked + 1
  local v = tonumber(headers["X-Mirrorlist-Version"])
  local tv = tonumber(string.match(body, '"table_version":(%d+)'))
  local rev = tonumber(string.match(body, '"revision":(%d+)'))
  if v == nil or tv ~= v or rev ~= v + offset then mismatches = mismatches + 1 end
  if v ~= nil and v < vmin then vmin = v end
  if v ~= nil and v > vmax then vmax = v end
end
function done(summary, latency, requests)
  local c, m, n, lo, hi = 0, 0, 0, 1e12, 0
  for _, t in ipairs(threads) do
    c = c + t:get("checked"); m = m + t:get("mismatches"); n = n + t:get("non200")
    lo = math.min(lo, t:get("vmin")); hi = math.max(hi, t:get("vmax"))
  end
  io.write(string.format("CHECK checked=%d mismatches=%d non200=%d vmin=%d vmax=%d\n", c, m, n, lo, hi))
end
"""


def baseline_app(environ, start_response):
    """The baseline: a bare WSGI callable with a fixed small JSON answer."""
    body = b'{"collection":"full","mirrors":[{"url":"https://mirror.example.org/pypi/full/","tier":"country"}]}'
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


_django_app = None


def django_only_app(environ, start_response):
    """The project's Django application without the mirrorlist fast path."""
    global _django_app
    if _django_app is None:
        from django.core.wsgi import get_wsgi_application

        _django_app = get_wsgi_application()
    return _django_app(environ, start_response)


# ---- the synthetic network --------------------------------------------------------------------------------


def setup_django(work: Path) -> None:
    os.environ.update(bench_env(work))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    with connection.cursor() as cursor:  # a throwaway database: speed over durability
        cursor.execute("PRAGMA synchronous=OFF")


def bench_env(work: Path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "mirrormanager.settings",
        "VAR_DIR": str(work / "var"),
        "MIRROR_ROOT": str(work / "mirror"),
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "GEOIP_DB": str(work / "city.mmdb"),
        "GEOIP_ASN_DB": str(work / "asn.mmdb"),
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "ORIGIN_BASE_URL": "https://origin.example/",
        "LOG_LEVEL": "WARNING",
        "MIRRORLIST_POLL": "1",
    }


def random_network(rng: random.Random) -> ipaddress.IPv4Network:
    while True:
        first = rng.randint(1, 223)
        if first not in (10, 127):
            break
    length = rng.randint(16, 24)
    address = (first << 24) | rng.getrandbits(24)
    return ipaddress.ip_network((address, length), strict=False)


def write_geoip(work: Path, rng: random.Random) -> None:
    """City and ASN databases over public IPv4 space in /12 blocks."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    city = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City")
    asn = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN")
    names = list(COUNTRIES)
    for first in range(1, 224):
        if first in (10, 127):
            continue
        for second in range(0, 256, 16):
            cidr = f"{first}.{second}.0.0/12"
            country = rng.choice(names)
            continent, lat, lon = COUNTRIES[country]
            city.insert_network(
                IPSet([cidr]),
                {
                    "country": {"iso_code": country},
                    "continent": {"code": continent},
                    "location": {
                        "latitude": float(lat + rng.uniform(-3, 3)),
                        "longitude": float(lon + rng.uniform(-3, 3)),
                    },
                },
            )
            asn.insert_network(IPSet([cidr]), {"autonomous_system_number": rng.choice(ASN_POOL)})
    city.to_db_file(str(work / "city.mmdb"))
    asn.to_db_file(str(work / "asn.mmdb"))


def populate(*, hosts: int, netblocks: int, collections: list[str], http_share: float, seed: int) -> list:
    """Hosts, URLs (https for each collection, http for a share), netblocks, peer ASNs, revisions."""
    import secrets

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from metadata.models import Collection, Revision
    from mirrors.models import Host, HostCountry, HostPeerASN, HostState, HostURL, Netblock, ProbeState, Site

    rng = random.Random(seed)
    owner, _ = get_user_model().objects.get_or_create(username="bench-owner")
    site_objs = Site.objects.bulk_create(
        [Site(name=f"Bench site {i}", contact_email=f"ops{i}@example.org", owner=owner) for i in range(50)]
    )
    now = timezone.now()
    names = list(COUNTRIES)
    host_objs = []
    for i in range(hosts):
        country = rng.choice(names)
        continent, lat, lon = COUNTRIES[country]
        host_objs.append(
            Host(
                site=site_objs[i % 50],
                name=f"m{i}.mirror.example.org",
                country=country,
                continent=continent,
                bandwidth_mbps=rng.choice([100, 1000, 1000, 10000]),
                asn=rng.choice(ASN_POOL),
                private=rng.random() < 0.1,
                state=HostState.APPROVED,
                verification_token=secrets.token_hex(16),
                latitude=lat + rng.uniform(-3, 3),
                longitude=lon + rng.uniform(-3, 3),
            )  # fmt: skip
        )
    host_objs = Host.objects.bulk_create(host_objs, batch_size=2000)
    collection_objs = [Collection.objects.get_or_create(slug=slug, defaults={"title": slug})[0] for slug in collections]
    for collection in collection_objs:
        Revision.objects.bulk_create(
            [Revision(collection=collection, number=n, repomd_sha256=secrets.token_hex(32), timestamp=now)
             for n in (1, 2, 3)]
        )  # fmt: skip
    urls = []
    for host in host_objs:
        for collection in collection_objs:
            schemes = ["https", "http"] if rng.random() < http_share else ["https"]
            for scheme in schemes:
                urls.append(
                    HostURL(
                        host=host,
                        collection=collection,
                        scheme=scheme,
                        probe_state=ProbeState.CURRENT,
                        url=f"{scheme}://{host.name}/pypi/{collection.slug}/",
                        probe_lag_seconds=0,
                        probed_at=now,
                        reachable_ipv6=rng.random() < 0.5,
                    )  # fmt: skip
                )
    HostURL.objects.bulk_create(urls, batch_size=2000)
    blocks, seen = [], set()
    while len(blocks) < netblocks:
        host = host_objs[len(blocks) % len(host_objs)]
        network = random_network(rng)
        if (host.id, network) in seen:
            continue
        seen.add((host.id, network))
        blocks.append(Netblock(host=host, cidr=str(network)))
    Netblock.objects.bulk_create(blocks, batch_size=5000)
    HostPeerASN.objects.bulk_create(
        [HostPeerASN(host=host, asn=rng.choice(ASN_POOL)) for host in host_objs if rng.random() < 0.2]
    )
    HostCountry.objects.bulk_create(
        [HostCountry(host=host, country=host.country) for host in host_objs if rng.random() < 0.05]
    )
    return blocks


def write_addresses(path: Path, blocks: list, count: int, rng: random.Random) -> None:
    lines = []
    for i in range(count):
        if i % 5 < 2:  # 40% inside some mirror's netblock
            network = ipaddress.ip_network(rng.choice(blocks).cidr)
            lines.append(str(network.network_address + rng.randrange(network.num_addresses)))
        else:
            lines.append(str(random_network(rng).network_address + rng.randrange(256)))
    path.write_text("\n".join(lines) + "\n")


# ---- load ---------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(app: str, work: Path, extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), app, "--workers", "2", "--worker-class", "sync", "--bind", f"127.0.0.1:{port}",
         "--chdir", str(ROOT), "--log-level", "warning", "--backlog", "2048"],
        env={**os.environ, **bench_env(work), **(extra_env or {})}, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/mirrorlist/full/", timeout=2).read()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"gunicorn {app} did not answer")
    for _ in range(50):  # warm both workers
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/mirrorlist/full/", timeout=2).read()
    return process, port


def session_cpu_seconds(session: int) -> float:
    """User+system CPU of every process in a session (gunicorn's master and workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # field 6 of stat: the session id
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(port: int, script: Path, args: list[str], seconds: int, connections: int) -> dict:
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}/", "--", *args],
        capture_output=True, text=True, timeout=seconds + 60,
    )  # fmt: skip
    out = done.stdout
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p99_ms": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "p50_ms": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "non_2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0,
        "socket_errors": sum(map(int, m.groups()))
        if (m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out))
        else 0,
        "socket_errors_detail": m.group(0) if m else "",
    }
    if m := re.search(r"CHECK checked=(\d+) mismatches=(\d+) non200=(\d+) vmin=(\d+) vmax=(\d+)", out):
        result.update(dict(zip(("checked", "mismatches", "non200", "vmin", "vmax"), map(int, m.groups()), strict=True)))
    return result


def swap_leg(work: Path, port: int, addresses: Path, seconds: int, connections: int) -> dict:
    """wrk checks every answer while a new table is published every second. The tables (each with a new
    revision of `full`) are built before the load, so that the leg measures the swap in the web processes,
    not the build (measured on its own below) competing for the same two cores."""
    import secrets

    from django.utils import timezone

    from metadata.models import Collection, Revision
    from mirrors.mirrorlist.build import mirrorlist_table_build
    from mirrors.mirrorlist.engine.holder import SnapshotBlob
    from mirrors.mirrorlist.engine.table import table_sha256
    from mirrors.mirrorlist.services import mirrorlist_snapshot_publish
    from mirrors.models import MirrorlistSnapshot

    full = Collection.objects.get(slug="full")
    version = MirrorlistSnapshot.objects.order_by("-version").values_list("version", flat=True).first()
    revision = Revision.objects.filter(collection=full).order_by("-number").values_list("number", flat=True).first()
    offset = revision - version
    blobs = []
    for step in range(1, seconds):
        Revision.objects.create(collection=full, number=version + step + offset, repomd_sha256=secrets.token_hex(32),
                                timestamp=timezone.now())  # fmt: skip
        data = mirrorlist_table_build(version=version + step).to_bytes()
        blobs.append(SnapshotBlob(version + step, table_sha256(data), data))
    script = work / "check.lua"
    script.write_text(CHECK_LUA)
    published: list[float] = []

    def publish() -> None:
        for blob in blobs:
            time.sleep(1.0)
            started = time.monotonic()
            mirrorlist_snapshot_publish(blob=blob)
            published.append(time.monotonic() - started)

    thread = threading.Thread(target=publish)
    thread.start()
    result = run_wrk(port, script, [str(addresses), str(offset)], seconds + 1, connections)
    thread.join()
    result["swaps"] = len(published)
    result["build_seconds_median"] = statistics.median(published) if published else None
    return result


# ---- the big build (a fresh process) ------------------------------------------------------------------------


def big_build(work: Path) -> dict:
    setup_django(work)
    started = time.perf_counter()
    populate(hosts=2500, netblocks=100_000, collections=["full", "c2"], http_share=1.0, seed=2)
    populated = time.perf_counter() - started
    from mirrors.mirrorlist.services import mirrorlist_build

    started = time.perf_counter()
    result = mirrorlist_build()
    build_seconds = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    load = subprocess.run(
        [sys.executable, __file__, "--phase", "load-table", "--work", str(work)], capture_output=True, text=True,
        check=True, timeout=120,
    )  # fmt: skip
    return {
        "urls": result.urls, "netblocks": result.netblocks, "hosts": result.hosts, "populate_seconds": populated,
        "build_seconds": build_seconds, "snapshot_bytes": result.size, "build_peak_rss_mb": rss_after / 1024,
        **json.loads(load.stdout.strip().splitlines()[-1]),
    }  # fmt: skip


def load_table(work: Path) -> dict:
    """In a fresh process: the cost of loading the cached snapshot, as a web process does."""
    sys.path.insert(0, str(ROOT))
    import gc

    from mirrors.mirrorlist.engine.holder import cache_read, load_blob

    gc.collect()
    before = _rss_mb()
    started = time.perf_counter()
    table = load_blob(cache_read(work / "var" / "mirrorlist" / "snapshot.bin"))
    seconds = time.perf_counter() - started
    gc.collect()
    after = _rss_mb()
    assert table.netblocks.size >= 100_000
    return {"load_seconds": seconds, "table_memory_mb": after - before}


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


# ---- main ---------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--latency-connections", type=int, default=8,
        help="a second load of baseline and ours at this many connections, for latency at a short queue (0: none)",
    )  # fmt: skip
    parser.add_argument("--phase", choices=["all", "big-build", "load-table"], default="all")
    parser.add_argument("--work")
    args = parser.parse_args()
    if args.phase == "load-table":
        print(json.dumps(load_table(Path(args.work))))
        return 0
    if args.phase == "big-build":
        print(json.dumps(big_build(Path(args.work))))
        return 0

    with tempfile.TemporaryDirectory(prefix="mirrorlist-bench-") as tmp:
        work = Path(tmp) / "load"
        work.mkdir()
        rng = random.Random(1)
        print("building the network: 500 mirrors, 20,000 netblocks, 3 collections ...", flush=True)
        write_geoip(work, rng)
        setup_django(work)
        blocks = populate(hosts=500, netblocks=20_000, collections=["full", "c2", "c3"], http_share=0.5, seed=1)
        from mirrors.mirrorlist.services import mirrorlist_build

        started = time.perf_counter()
        built = mirrorlist_build()
        print(f"  table v{built.version}: {built.urls} URLs, {built.netblocks} netblocks, {built.size} bytes, "
              f"built in {time.perf_counter() - started:.2f} s", flush=True)  # fmt: skip
        addresses = work / "addresses.txt"
        write_addresses(addresses, blocks, 20_000, rng)
        load_script = work / "load.lua"
        load_script.write_text(LOAD_LUA)

        from mirrors.mirrorlist.engine import fast

        print(f"  compiled lookup: {'built' if fast.compiled else 'NOT BUILT (make setup builds it)'}", flush=True)
        legs = {  # name: (WSGI application, extra environment)
            "baseline": ("bench.mirrorlist_bench:baseline_app", {}),
            "ours": ("mirrormanager.wsgi:application", {}),
            "ours_python": ("mirrormanager.wsgi:application", {"MIRRORLIST_COMPILED": "0"}),
            "django_only": ("bench.mirrorlist_bench:django_only_app", {}),
        }
        results: dict[str, list[dict]] = {name: [] for name in legs}
        # gunicorn's sync workers take one connection at a time: the rest wait in the listen queue, so a
        # closed-loop client's latency is about connections / throughput, whatever the app. The second load
        # keeps a short queue (4 per worker by default) to show the app's own latency beside the baseline's.
        short_queue: dict[str, list[dict]] = {"baseline": [], "ours": []}
        for round_ in range(args.rounds):
            for name, (app, extra_env) in legs.items():
                process, port = start_gunicorn(app, work, extra_env)
                try:
                    cpu_before = session_cpu_seconds(process.pid)
                    result = run_wrk(port, load_script, [str(addresses)], args.seconds, args.connections)
                    result["server_cpu_us"] = (session_cpu_seconds(process.pid) - cpu_before) / result["requests"] * 1e6
                    if args.latency_connections and name in short_queue:
                        low = run_wrk(port, load_script, [str(addresses)], args.seconds, args.latency_connections)
                        short_queue[name].append(low)
                        print(f"  round {round_ + 1} {name:12s} -c{args.latency_connections}: {low['rps']:8.0f} req/s  "
                              f"p50 {low['p50_ms']:.2f} ms  p99 {low['p99_ms']:.2f} ms", flush=True)  # fmt: skip
                finally:
                    stop(process)
                results[name].append(result)
                print(f"  round {round_ + 1} {name:12s} {result['rps']:8.0f} req/s  p50 {result['p50_ms']:.2f} ms  "
                      f"p99 {result['p99_ms']:.2f} ms  server CPU {result['server_cpu_us']:.0f} us/request  "
                      f"non-2xx {result['non_2xx']}  socket errors {result['socket_errors']}", flush=True)  # fmt: skip

        print("live swaps under load ...", flush=True)
        process, port = start_gunicorn(legs["ours"][0], work, legs["ours"][1])
        try:
            swap = swap_leg(work, port, addresses, args.seconds, args.connections)
        finally:
            stop(process)

        print("the big table in a fresh process: 10,000 URLs, 100,000 netblocks ...", flush=True)
        big_work = Path(tmp) / "big"
        big_work.mkdir()
        for name in ("city.mmdb", "asn.mmdb"):
            (big_work / name).symlink_to(work / name)
        env = {k: v for k, v in os.environ.items() if k not in bench_env(work)}
        done = subprocess.run(
            [sys.executable, __file__, "--phase", "big-build", "--work", str(big_work)], capture_output=True,
            text=True, timeout=600, env=env,
        )  # fmt: skip
        if done.returncode != 0:
            print(done.stderr[-3000:])
            return 1
        big = json.loads(done.stdout.strip().splitlines()[-1])

    def median(name: str, key: str) -> float:
        return statistics.median(result[key] for result in results[name])

    base_rps, ours_rps, django_rps = median("baseline", "rps"), median("ours", "rps"), median("django_only", "rps")
    print()
    print(
        f"| leg (median of {args.rounds}, wrk -t2 -c{args.connections} -d{args.seconds}s) | req/s | p50 | p99 | ratio "
        "| server CPU per request |"
    )
    print("|---|---|---|---|---|---|")
    for name, label in (("baseline", "baseline: bare WSGI, fixed JSON"), ("ours", "ours: mirrorlist (fast path)"),
                        ("ours_python", "ours with the Python lookup (MIRRORLIST_COMPILED=0)"),
                        ("django_only", "the same view through Django + DRF")):  # fmt: skip
        rps = median(name, "rps")
        print(f"| {label} | {rps:.0f} | {median(name, 'p50_ms'):.2f} ms | {median(name, 'p99_ms'):.2f} ms | "
              f"{rps / base_rps:.2f} | {median(name, 'server_cpu_us'):.0f} us |")  # fmt: skip
    print()
    ours_p99 = median("ours", "p99_ms")
    print(
        f"ratio ours/baseline: {ours_rps / base_rps:.2f} (target >= 0.8); ours p99 {ours_p99:.2f} ms "
        f"(target < 10 ms); Python lookup/baseline {median('ours_python', 'rps') / base_rps:.2f}; Django-only/baseline "
        f"{django_rps / base_rps:.2f}"
    )
    if args.latency_connections:
        low = {name: {key: statistics.median(r[key] for r in runs) for key in ("rps", "p50_ms", "p99_ms")}
               for name, runs in short_queue.items()}  # fmt: skip
        print(
            f"short queue (wrk -c{args.latency_connections}): baseline {low['baseline']['rps']:.0f} req/s, p99 "
            f"{low['baseline']['p99_ms']:.2f} ms; ours {low['ours']['rps']:.0f} req/s, p99 "
            f"{low['ours']['p99_ms']:.2f} ms (target < 10 ms); ratio {low['ours']['rps'] / low['baseline']['rps']:.2f}"
        )
    base_cpu, ours_cpu = median("baseline", "server_cpu_us"), median("ours", "server_cpu_us")
    print(
        f"server CPU per request: baseline {base_cpu:.0f} us, ours {ours_cpu:.0f} us, Django only "
        f"{median('django_only', 'server_cpu_us'):.0f} us: on cores of its own, ours would serve "
        f"{base_cpu / ours_cpu:.2f} x the baseline's requests (less noisy than req/s on a shared machine)"
    )
    print(
        f"swaps: {swap['swaps']} new tables, one a second (median publish "
        f"{swap['build_seconds_median']:.3f} s), {swap['requests']} requests, {swap.get('checked', 0)} answers "
        f"checked, non-200 {swap.get('non200', '?')}, socket errors {swap['socket_errors']} "
        f"({swap['socket_errors_detail']}), mixed answers "
        f"{swap.get('mismatches', '?')}, versions served v{swap.get('vmin')}..v{swap.get('vmax')}, "
        f"{swap['rps']:.0f} req/s, p99 {swap['p99_ms']:.2f} ms"
    )
    print(
        f"big table: {big['urls']} URLs, {big['netblocks']} netblocks, {big['hosts']} hosts: build+publish "
        f"{big['build_seconds']:.2f} s (target < 5 s), build process peak RSS {big['build_peak_rss_mb']:.0f} MB, "
        f"snapshot {big['snapshot_bytes'] / 1e6:.1f} MB compressed; loading it in a web process "
        f"{big['load_seconds']:.2f} s, {big['table_memory_mb']:.0f} MB"
    )
    print(json.dumps({"results": results, "short_queue": short_queue, "swap": swap, "big": big}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
