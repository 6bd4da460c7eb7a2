"""Benchmark of the public mirror list: the registry's selector against a naive one, in the same run.

    .venv/bin/python bench/registry_bench.py [--hosts 1000] [--urls 3] [--rounds 5]

Builds a throwaway SQLite database (nothing of the project's own data is touched) with N approved
public hosts of M URLs each (and a tenth as many private and pending ones, which must not appear), then
measures, as medians of a few rounds:
  1. GET /api/v1/mirrors/?limit=N through Django's test client (the whole stack: URL routing, DRF,
     the selector with its prefetches, JSON rendering);
  2. GET /mirrors/, the server-rendered status page, likewise;
  3. the baseline: the same answer built by a naive queryset that reads each host's site and URLs
     (and each URL's collection) one query at a time, as an unprefetched ORM loop does.
Prints times, query counts and the ratio baseline/ours for the JSON answer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(work: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["MIRROR_ROOT"] = str(work / "mirror")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mirrormanager.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def populate(hosts: int, urls_per_host: int) -> None:
    import secrets

    from django.contrib.auth import get_user_model

    from metadata.models import Collection
    from mirrors.geo_tables import COUNTRY_CONTINENT
    from mirrors.models import Host, HostURL, Site

    owner = get_user_model().objects.create_user("bench", "bench@example.org", "x")
    collections = [Collection.objects.get(slug="full")]
    collections += [Collection.objects.create(slug=f"c{n}", title=f"C{n}") for n in range(1, urls_per_host)]
    countries = sorted(COUNTRY_CONTINENT)
    sites = Site.objects.bulk_create(
        [Site(name=f"Site {n}", contact_email=f"s{n}@example.org", owner=owner) for n in range(hosts // 10 + 1)]
    )
    extra = hosts // 10
    rows = []
    for n in range(hosts + 2 * extra):
        country = countries[n % len(countries)]
        state = "approved" if n < hosts + extra else "pending"
        rows.append(
            Host(
                site=sites[n % len(sites)],
                name=f"m{n}.mirror.example",
                country=country,
                continent=COUNTRY_CONTINENT[country],
                state=state,
                private=hosts <= n < hosts + extra,
                verification_token=secrets.token_hex(24),
            )
        )
    created = Host.objects.bulk_create(rows)
    HostURL.objects.bulk_create(
        [
            HostURL(host=host, collection=collection, scheme="https", url=f"https://{host.name}/{collection.slug}/")
            for host in created
            for collection in collections
        ]
    )


def naive_answer() -> list[dict]:
    """The baseline: the same fields, read the way an unprefetched loop reads them."""
    from mirrors.models import Host

    answer = []
    for host in Host.objects.filter(state="approved", private=False).order_by("country", "name"):
        answer.append(
            {
                "id": host.id,
                "name": host.name,
                "site": host.site.name,
                "country": str(host.country),
                "continent": host.continent,
                "urls": [
                    {"collection": url.collection.slug, "url": url.url, "probe_state": url.probe_state}
                    for url in host.urls.filter(collection__public=True)
                ],
            }
        )
    return answer


def timed(call, rounds: int) -> tuple[float, int]:
    """Median seconds of `rounds` calls, and the queries of one call (counted, not logged)."""
    from django.db import connection

    counter = {"queries": 0}

    def count(execute, sql, params, many, context):
        counter["queries"] += 1
        return execute(sql, params, many, context)

    times = []
    with connection.execute_wrapper(count):
        for _ in range(rounds):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
    return statistics.median(times), counter["queries"] // rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--urls", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as folder:
        setup_django(Path(folder))
        populate(args.hosts, args.urls)
        from django.test import Client

        client = Client()

        def api() -> None:
            answer = client.get(f"/api/v1/mirrors/?limit={args.hosts}")
            assert answer.status_code == 200 and answer.json()["count"] == args.hosts, answer.status_code

        def page() -> None:
            answer = client.get("/mirrors/")
            assert answer.status_code == 200

        def baseline() -> None:
            assert len(naive_answer()) == args.hosts

        api()  # warm-up: imports, URL resolver, template loading
        ours, ours_queries = timed(api, args.rounds)
        html, html_queries = timed(page, args.rounds)
        naive, naive_queries = timed(baseline, args.rounds)
        print(
            f"{args.hosts} public hosts x {args.urls} URLs (+{args.hosts // 10} private, +{args.hosts // 10} pending)"
        )
        print(f"GET /api/v1/mirrors/   {ours * 1000:8.1f} ms  {ours_queries:5d} queries")
        print(f"GET /mirrors/ (HTML)   {html * 1000:8.1f} ms  {html_queries:5d} queries")
        print(f"naive ORM loop (base)  {naive * 1000:8.1f} ms  {naive_queries:5d} queries")
        print(f"ratio baseline/ours for the JSON answer: {naive / ours:.2f}x (higher is better)")


if __name__ == "__main__":
    main()
