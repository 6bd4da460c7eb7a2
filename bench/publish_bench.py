"""Benchmark of publication: a full publish and an incremental one, against a plain-write baseline.

    .venv/bin/python bench/publish_bench.py [--projects 100000,300000] [--files-per-project 10] [--changed 1000]

Builds a synthetic catalogue in a temporary SQLite database and MIRROR_ROOT (nothing of the
project's own data is touched): N projects, M stored files. The files share a few hundred real,
tiny blobs (valid wheels and sdists), so every package is still a real hardlink and every wheel
still gets its PEP 658 .metadata; only the store's size is synthetic.

Measures, each in a fresh Python process so that its peak RSS is its own:
  1. a full publish of the collection `full` (first publish: every page, link and data file);
  2. an incremental publish after 1,000 projects got a new file each;
  3. the baseline: a minimal loop that creates as many files as the full publish put in the tree,
     with the same total bytes written (the pages and repodata; hardlinks carry no bytes, so the
     baseline creates that many small files instead).
Each phase starts after an os.sync(), so that none pays for another's writeback.
Each size in --projects is a catalogue of its own, measured in turn in the same run. Prints, per size,
the ratio full/baseline, and the ratio of the incremental publish at the largest size to the smallest
(an incremental publish should cost what changed, not the collection). --profile runs the incremental
phase under cProfile and prints where its time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_INDEX_PROJECTS = 740_000


def setup_django(work: Path, *, migrate: bool = True) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["MIRROR_ROOT"] = str(work / "mirror")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mirrormanager.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    if migrate:
        call_command("migrate", verbosity=0)
    from django.db import connection

    with connection.cursor() as cursor:  # a throwaway database: speed over durability
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=OFF")


def make_blobs(count: int) -> list[tuple[str, int, str]]:
    """Real tiny wheels and sdists in the store: (sha256, size, kind)."""
    import hashlib

    from sync.blobstore import blob_path
    from sync.sample_packages import SamplePackage, build_package

    blobs = []
    for index in range(count):
        kind = "wheel" if index % 2 == 0 else "sdist"
        data = build_package(SamplePackage(f"blob{index}", "1.0", kind=kind))
        sha256 = hashlib.sha256(data).hexdigest()
        path = blob_path(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        blobs.append((sha256, len(data), kind))
    return blobs


def make_catalogue(projects: int, files: int, blobs: list[tuple[str, int, str]]) -> None:
    from datetime import UTC, datetime

    from sync.models import CatalogueSerial, File, Project, Upstream

    upstream = Upstream.objects.create(name="bench", url="https://upstream.example/simple/")
    per_project = max(1, files // projects)
    wheels = [b for b in blobs if b[2] == "wheel"]
    sdists = [b for b in blobs if b[2] == "sdist"]
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    batch = 500
    serial = 0
    for start in range(0, projects, batch):
        rows = []
        for index in range(start, min(projects, start + batch)):
            serial += 1
            rows.append(
                Project(
                    upstream=upstream,
                    name=f"Proj_{index:07d}",
                    normalized_name=f"proj-{index:07d}",
                    change_serial=serial,
                )
            )
        created = Project.objects.bulk_create(rows)
        file_rows = []
        for project in created:
            index = int(project.normalized_name.rsplit("-", 1)[1])
            for number in range(per_project):
                version = f"{number // 2}.{index % 7}"
                if number % 2 == 0:
                    sha256, size, _ = wheels[(index + number) % len(wheels)]
                    filename = f"proj_{index:07d}-{version}-py3-none-any.whl"
                    kind = File.PackageType.WHEEL
                else:
                    sha256, size, _ = sdists[(index + number) % len(sdists)]
                    filename = f"proj_{index:07d}-{version}.tar.gz"
                    kind = File.PackageType.SDIST
                file_rows.append(
                    File(
                        project=project, filename=filename, version=version, package_type=kind,
                        url=f"https://upstream.example/f/{filename}", sha256=sha256, upstream_sha256=sha256,
                        size=size, upload_time=moment, requires_python=">=3.8", state=File.State.STORED,
                    )
                )  # fmt: skip
        File.objects.bulk_create(file_rows, batch_size=5000)
    CatalogueSerial.objects.update_or_create(pk=1, defaults={"value": serial})


def change_projects(count: int, projects: int, blobs: list[tuple[str, int, str]], *, round_: int = 0) -> None:
    """Give `count` random projects one new wheel each, as a sync would (round_ > 0: another set, for --rerun)."""
    from datetime import UTC, datetime

    from sync.models import CatalogueSerial, File, Project

    rng = random.Random(42 + round_)
    chosen = sorted(rng.sample(range(projects), min(count, projects)))
    serial = CatalogueSerial.objects.get(pk=1).value
    wheel = next(b for b in blobs if b[2] == "wheel")
    new_files = []
    for index in chosen:
        serial += 1
        project = Project.objects.get(normalized_name=f"proj-{index:07d}")
        Project.objects.filter(pk=project.pk).update(change_serial=serial)
        version = f"99.{round_}"
        filename = f"proj_{index:07d}-{version}-py3-none-any.whl"
        new_files.append(
            File(
                project=project, filename=filename, version=version, package_type=File.PackageType.WHEEL,
                url=f"https://upstream.example/f/{filename}", sha256=wheel[0], size=wheel[1],
                upload_time=datetime(2025, 1, 1, tzinfo=UTC), state=File.State.STORED,
            )
        )  # fmt: skip
    File.objects.bulk_create(new_files)
    CatalogueSerial.objects.filter(pk=1).update(value=serial)


def in_child(work: Path, phase: str, *, profile: bool = False) -> tuple[float, float, object]:
    """Run one phase in a fresh Python process: (seconds, its own peak RSS in MB, result)."""
    from django.db import connections

    connections.close_all()
    # Flushed first, so that no phase pays for the writeback of what came before it (the catalogue's
    # changes, the previous phase's files): a publish's syncfs would flush them too.
    os.sync()
    command = [sys.executable, __file__, "--child", phase, "--work", str(work)] + (["--profile"] if profile else [])
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    process.stdout.close()
    _, status, _usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{phase} failed")
    result = json.loads(output.strip().splitlines()[-1])
    return result["seconds"], result["peak_mb"], result["result"]


def child(phase: str, work: Path, profile: bool) -> None:
    setup_django(work, migrate=False)
    import logging

    logging.disable(logging.INFO)
    started = time.perf_counter()
    if phase == "publish" and profile:
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        result = profiler.runcall(publish, False)
        report = io.StringIO()
        pstats.Stats(profiler, stream=report).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler, stream=report).sort_stats("tottime").print_stats(25)
        print(report.getvalue(), file=sys.stderr)
    elif phase == "publish":
        result = publish(False)
    else:
        baseline_args = json.loads((work / "baseline.json").read_text())
        result = baseline(work / "baseline", baseline_args["files"], baseline_args["bytes"])
    seconds = time.perf_counter() - started
    # VmHWM is this process's own peak (ru_maxrss of a child can carry the parent's peak on Linux).
    status = Path("/proc/self/status").read_text()
    peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "result": result}))


def publish(full: bool) -> dict:
    from metadata.models import Collection
    from metadata.publishing import commit
    from metadata.services import collection_publish

    # How much of the publish is spent flushing to the disk (syncfs before the journal and after the switch).
    flushing = {"seconds": 0.0, "calls": 0}
    real_sync = commit.sync_filesystem

    def timed_sync(path: Path) -> None:
        started = time.perf_counter()
        real_sync(path)
        flushing["seconds"] += time.perf_counter() - started
        flushing["calls"] += 1

    commit.sync_filesystem = timed_sync
    # The publisher's own counters (pages staged, parts rebuilt, primary DB blocks compressed).
    from metadata.publishing.publisher import Publisher

    stats: dict = {}
    real_run = Publisher.run

    def run(self: Publisher) -> object:
        try:
            return real_run(self)
        finally:
            stats.update(self.stats)
            stats["seconds"] = dict(self.timings)

    Publisher.run = run
    revision = collection_publish(collection=Collection.objects.get(slug="full"), full=full)
    return {
        "revision": revision.number,
        "projects": revision.projects,
        "files": revision.files,
        "syncfs_s": round(flushing["seconds"], 2),
        **{key: stats[key] for key in ("pages_staged", "parts_rebuilt", "blocks_compressed", "blocks") if key in stats},
        "stages_s": stats.get("seconds", {}),  # projects, parts, repodata (with the root pages), commit
    }


def tree_figures(root: Path) -> tuple[int, int]:
    """(entries created, bytes written): every file, and the bytes of those that are not hardlinks."""
    count = written = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            stat = os.lstat(os.path.join(dirpath, name))
            count += 1
            if stat.st_nlink == 1:
                written += stat.st_size
    return count, written


def baseline(target: Path, files: int, total_bytes: int) -> int:
    """The minimal loop: `files` files, `total_bytes` in all, 1,000 to a folder."""
    size = total_bytes // max(files, 1)
    payload = b"x" * size
    remainder = total_bytes - size * files
    for index in range(files):
        if index % 1000 == 0:
            folder = target / f"{index // 1000:06d}"
            folder.mkdir(parents=True)
        with open(folder / f"{index}.bin", "wb") as handle:
            handle.write(payload + (b"x" * remainder if index == 0 else b""))
    return files


def measure(size: int, args: argparse.Namespace) -> dict:
    """Catalogue, full publish, incremental publish and baseline of one size, in a folder of its own."""
    work = Path(tempfile.mkdtemp(prefix="publish-bench-"))
    try:
        setup_django(work)
        import logging

        logging.disable(logging.INFO)
        started = time.perf_counter()
        blobs = make_blobs(args.blobs)
        make_catalogue(size, size * args.files_per_project, blobs)
        from sync.models import File

        files = File.objects.count()
        print(f"[{size:,}] catalogue: {size:,} projects, {files:,} files, {args.blobs} shared blobs "
              f"(built in {time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip

        full_s, full_rss, full_result = in_child(work, "publish", profile=args.profile_full)
        tree = work / "mirror" / "pub" / "full"
        entries, written = tree_figures(tree)
        print(f"[{size:,}] full publish:        {full_s:8.1f} s  peak RSS {full_rss:6.0f} MB  {full_result}")
        print(f"[{size:,}]   tree: {entries:,} files ({written / 1e6:,.0f} MB written, the rest hardlinks)", flush=True)

        change_projects(args.changed, size, blobs)
        inc_s, inc_rss, inc_result = in_child(work, "publish", profile=args.profile)
        print(f"[{size:,}] incremental publish: {inc_s:8.1f} s  peak RSS {inc_rss:6.0f} MB  "
              f"({args.changed:,} changed projects) {inc_result}", flush=True)  # fmt: skip

        (work / "baseline.json").write_text(json.dumps({"files": entries, "bytes": written}))
        base_s, base_rss = (float("nan"), 0.0) if args.skip_baseline else in_child(work, "baseline")[:2]
        print(f"[{size:,}] baseline:            {base_s:8.1f} s  peak RSS {base_rss:6.0f} MB  "
              f"({entries:,} files, {written / 1e6:,.0f} MB)", flush=True)  # fmt: skip
        from django.db import connections

        connections.close_all()
        return {"size": size, "full": full_s, "incremental": inc_s, "baseline": base_s,
                "peak": max(full_rss, inc_rss), "repodata": repodata_sizes(tree)}  # fmt: skip
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def rerun(work: Path, args: argparse.Namespace) -> None:
    """Another incremental publish on a folder kept by --keep: change --changed more projects, publish."""
    setup_django(work, migrate=False)
    import logging

    logging.disable(logging.INFO)
    from metadata.models import Collection
    from sync.models import Project

    size = Project.objects.count()
    blobs = blobs_of_store()
    round_ = Collection.objects.get(slug="full").revision  # a new set of projects each time
    change_projects(args.changed, size, blobs, round_=round_)
    inc_s, inc_rss, inc_result = in_child(work, "publish", profile=args.profile)
    print(f"[{size:,}] incremental publish: {inc_s:8.1f} s  peak RSS {inc_rss:6.0f} MB  "
          f"({args.changed:,} changed projects) {inc_result}", flush=True)  # fmt: skip


def blobs_of_store() -> list[tuple[str, int, str]]:
    """The (sha256, size, kind) of the catalogue's blobs, as make_blobs returned them."""
    from sync.models import File

    rows = File.objects.values_list("sha256", "size", "package_type").distinct()
    return [(sha256, size, "wheel" if kind == File.PackageType.WHEEL else "sdist") for sha256, size, kind in rows]


def repodata_sizes(tree: Path) -> str:
    repomd = json.loads((tree / "repodata" / "repomd.json").read_bytes())
    return ", ".join(
        f"{key} {entry['size'] / 1e6:,.0f} MB ({entry['open_size'] / 1e6:,.0f} MB open)"
        for key, entry in repomd["data"].items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", default="100000,300000", help="sizes, comma-separated, measured in turn")
    parser.add_argument("--files-per-project", type=int, default=10)
    parser.add_argument("--changed", type=int, default=1_000)
    parser.add_argument("--blobs", type=int, default=512, help="distinct real blobs the files share")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--profile", action="store_true", help="cProfile the incremental publish (to stderr)")
    parser.add_argument("--rerun", type=Path, help="a folder kept by --keep: one more incremental publish in it")
    parser.add_argument("--profile-full", action="store_true", help="cProfile the full publish (to stderr)")
    parser.add_argument("--skip-baseline", action="store_true", help="no baseline (while iterating)")
    parser.add_argument("--child", choices=["publish", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--size-to", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.work, args.profile)
        return
    if args.rerun:
        rerun(args.rerun, args)
        return
    if args.size_to:  # one size, in a process of its own (Django is set up once per process)
        args.size_to.write_text(json.dumps(measure(int(args.projects), args)))
        return

    results = []
    for size in [int(size) for size in args.projects.split(",")]:
        handle, name = tempfile.mkstemp(prefix="publish-bench-size-")
        os.close(handle)
        command = [sys.executable, __file__, "--projects", str(size), "--size-to", name]
        command += ["--files-per-project", str(args.files_per_project), "--changed", str(args.changed)]
        command += ["--blobs", str(args.blobs), *(["--keep"] if args.keep else [])]
        command += ["--profile"] if args.profile else []
        command += ["--skip-baseline"] if args.skip_baseline else []
        command += ["--profile-full"] if args.profile_full else []
        subprocess.run(command, check=True)
        results.append(json.loads(Path(name).read_text()))
        Path(name).unlink()

    print()
    print(f"{'projects':>9} {'full s':>8} {'baseline s':>10} {'full/base':>9} {'incr s':>7} {'peak MB':>8}  repodata")
    for r in results:
        print(f"{r['size']:>9,} {r['full']:8.1f} {r['baseline']:10.1f} {r['full'] / r['baseline']:9.2f} "
              f"{r['incremental']:7.2f} {r['peak']:8.0f}  {r['repodata']}")  # fmt: skip
    print(f"targets: full/baseline <= 2.5; incremental ({args.changed:,} changed) < 5 s; peak < 500 MB")
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(f"incremental {large['size']:,} / {small['size']:,} projects: "
              f"{large['incremental'] / small['incremental']:.2f}  (target <= 1.2)")  # fmt: skip
    largest = results[-1]
    scale = PUBLIC_INDEX_PROJECTS / largest["size"]
    print(
        f"extrapolated from {largest['size']:,} to {PUBLIC_INDEX_PROJECTS:,} projects (linear): "
        f"full publish {largest['full'] * scale / 60:.1f} min, baseline {largest['baseline'] * scale / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
