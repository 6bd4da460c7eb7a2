"""Reads of the metadata app: the catalogue as publication sees it, collections and revisions.

Publication streams the catalogue in chunks of project names, ordered by name, so that its memory
does not grow with the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, Min, QuerySet
from packaging.utils import canonicalize_name

from core.text import human_bytes
from metadata.models import Collection, Revision
from metadata.publishing.jsonapi import ProjectApi, project_api
from metadata.publishing.render import iso_time
from metadata.publishing.tree import CollectionTree
from sync.models import CatalogueSerial, File, Project
from sync.records import FILE_RECORD_FIELDS, FileRecord

# A stored file's record; its core metadata hash is the upstream's, which publication does not use.
CATALOGUE_FILE_FIELDS = tuple(name for name in FILE_RECORD_FIELDS if name != "core_metadata_sha256")


@dataclass(frozen=True)
class CatalogueProject:
    """The winning project row for one normalized name (lowest upstream id among live rows)."""

    id: int
    name: str
    normalized_name: str
    change_serial: int


def catalogue_serial() -> int:
    """The catalogue's change serial as committed now (0 before the first change)."""
    value = CatalogueSerial.objects.filter(pk=1).values_list("value", flat=True).first()
    return int(value or 0)


def _projects_in_scope(upstream_id: int | None) -> QuerySet[Project]:
    projects = Project.objects.all()
    if upstream_id is not None:
        projects = projects.filter(upstream_id=upstream_id)
    return projects


def catalogue_names(
    *, upstream_id: int | None, since_serial: int | None = None, chunk_size: int = 2000
) -> Iterator[tuple[str, int]]:
    """(normalized name, highest change_serial) of every project name in scope, ordered by name.

    With since_serial, only names with a row changed after it (tombstones included), so that an
    incremental publish visits only what changed.
    """
    projects = _projects_in_scope(upstream_id)
    if since_serial is not None:
        projects = projects.filter(change_serial__gt=since_serial)
    rows = (
        projects.order_by()
        .values_list("normalized_name")
        .annotate(serial=Max("change_serial"))
        .order_by("normalized_name")
    )
    for name, serial in rows.iterator(chunk_size=chunk_size):
        yield name, int(serial)


def catalogue_winners(names: Sequence[str], *, upstream_id: int | None) -> dict[str, CatalogueProject]:
    """For each name, the live project that publishes it: the lowest upstream id wins."""
    rows = (
        _projects_in_scope(upstream_id)
        .filter(normalized_name__in=list(names), removed=False)
        .order_by("normalized_name", "upstream_id")
        .values_list("id", "name", "normalized_name", "change_serial")
    )
    winners: dict[str, CatalogueProject] = {}
    for pk, name, normalized, serial in rows:
        winners.setdefault(normalized, CatalogueProject(pk, name, normalized, int(serial)))
    return winners


def catalogue_stored_files(project_ids: Sequence[int]) -> dict[int, list[FileRecord]]:
    """Stored files (state stored, hash known) of these projects, by project id, by filename."""
    files: dict[int, list[FileRecord]] = {pk: [] for pk in project_ids}
    # Only the project ids are in the query, the state and the hash are checked here: with `state =
    # 'stored'` in the WHERE, SQLite (no statistics) searched the state index, that is every stored
    # file of the catalogue, for each chunk of 500 projects; a publish then grew with the catalogue.
    rows = (
        File.objects.filter(project_id__in=list(project_ids))
        .order_by("project_id", "filename")
        .values_list("project_id", "state", *CATALOGUE_FILE_FIELDS)
    )
    sha256_at = CATALOGUE_FILE_FIELDS.index("sha256")
    for project_id, state, *values in rows:
        if state == File.State.STORED and values[sha256_at]:
            files[project_id].append(FileRecord(**dict(zip(CATALOGUE_FILE_FIELDS, values, strict=True))))
    return files


def collection_list_visible(*, staff: bool) -> QuerySet[Collection]:
    """Collections a visitor may see: public ones, or every one for staff."""
    collections = Collection.objects.all()
    return collections if staff else collections.filter(public=True)


def collection_list_with_latest(*, staff: bool) -> list[Collection]:
    """The visible collections, each with `latest`: its current revision (None before the first publish)."""
    collections = list(collection_list_visible(staff=staff).order_by("slug"))
    numbers = {(collection.pk, collection.revision) for collection in collections if collection.revision}
    latest = {
        (revision.collection_id, revision.number): revision
        for revision in Revision.objects.filter(collection__in=collections, number__in={n for _, n in numbers})
    }
    for collection in collections:
        collection.latest = latest.get((collection.pk, collection.revision))
    return collections


def collection_revisions(*, collection: Collection, limit: int = 50) -> list[Revision]:
    """The latest revisions of a collection, newest first."""
    return list(collection.revisions.order_by("-number")[:limit])


def collection_filters_described(*, collection: Collection) -> list[tuple[str, str]]:
    """The collection's filters in words, for its page; empty when it holds everything."""

    try:
        spec = collection.filter_spec()
    except ValueError as error:
        return [("Invalid filters", str(error))]
    described: list[tuple[str, str]] = []
    if collection.upstream_id:
        described.append(("Upstream", str(collection.upstream)))
    lists = (
        ("Projects", spec.include_projects),
        ("Except projects", spec.exclude_projects),
        ("Package types", spec.package_types),
        ("Platform tags", spec.platform_tags),
        ("Python versions", spec.python_versions),
    )
    described.extend((label, ", ".join(values)) for label, values in lists if values)
    if not spec.include_prereleases:
        described.append(("Prereleases", "excluded"))
    if spec.latest_versions:
        described.append(("Versions", f"the latest {spec.latest_versions} of each project"))
    if spec.max_file_size:
        described.append(("Largest file", human_bytes(spec.max_file_size)))
    return described


def collection_project_api(*, slug: str, project: str) -> ProjectApi | None:
    """The PyPI-like JSON API answer of one project of a published collection (metadata.publishing.jsonapi),
    with the time the origin first stored a file as the stand-in for an upload time upstream never gave."""

    def stand_ins(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        rows = (
            File.objects.filter(sha256__in={sha for sha, _ in pairs}, filename__in={name for _, name in pairs})
            .values("sha256", "filename")
            .annotate(first=Min("stored_at"))
        )
        return {(row["sha256"], row["filename"]): iso_time(row["first"]) for row in rows if row["first"]}

    return project_api(CollectionTree(slug).state_path, canonicalize_name(project), stand_ins)


@dataclass(frozen=True)
class CollectionCopy:
    """Where a mirror copies a collection from, and the commands that do it, for the collection's page."""

    rsync_url: str
    https_url: str
    index_url: str
    mm_mirror_sync: str
    rsync_command: str
    sha256_command: str


def collection_copy_describe(*, collection: Collection, request_base_url: str, request_host: str) -> CollectionCopy:
    """The copy instructions of a collection: ORIGIN_RSYNC_BASE and ORIGIN_BASE_URL, else the request's host."""
    rsync_base = settings.ORIGIN_RSYNC_BASE or f"rsync://{request_host}/pub/"
    https_base = f"{settings.ORIGIN_BASE_URL or request_base_url}pub/"
    slug = collection.slug
    rsync_url = f"{rsync_base}{slug}/"
    dest = f"/srv/mirror/{slug}"
    return CollectionCopy(
        rsync_url=rsync_url,
        https_url=f"{https_base}{slug}/",
        index_url=f"{https_base}{slug}/simple/",
        mm_mirror_sync=f"mm-mirror sync {rsync_url} {dest} --delete",
        rsync_command=f"rsync -aH --delete-delay --delay-updates {rsync_url} {dest}/",
        sha256_command=f"sha256sum {dest}/repodata/repomd.json",
    )
