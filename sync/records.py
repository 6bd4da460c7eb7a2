"""The file record: one distribution file's facts, the same type from index parsing to publication.

An index page's listing (sync.engine.index.RemoteFile), a stored catalogue row as publication reads
it (metadata.selectors), and a file as a tree publishes it (metadata.publishing.render.PublishedFile)
are all FileRecords; the catalogue's File model has a column of the same name for each field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class FileRecord:
    """One file: name and what its index entry says (fits sync.filters.FileLike)."""

    filename: str
    version: str
    package_type: str  # File.PackageType value
    sha256: str = ""  # hex, lower case; "" when unknown
    size: int | None = None
    upload_time: datetime | None = None
    requires_python: str = ""
    yanked: bool = False
    yanked_reason: str = ""
    # PEP 658/714: "" = none, "-" = offered without a hash (from an index), else the hex digest.
    core_metadata_sha256: str = ""


FILE_RECORD_FIELDS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(FileRecord))
