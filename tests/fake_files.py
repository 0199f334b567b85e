"""The fake Claude API's Files endpoints (tests/fakeapi.py): ``POST /v1/files`` (a multipart
upload), ``GET /v1/files`` (a ``SyncPageCursor``), ``GET /v1/files/{id}`` and
``DELETE /v1/files/{id}``, shaped as anthropic 2.15's ``FileMetadata`` and ``DeletedFile``.

anthropic 2.15 has the Files API at ``client.files`` and sends no ``anthropic-beta`` header for
it (``client.beta.files`` sends one only when ``betas=`` is given), so none is required here.
"""

from __future__ import annotations

import datetime
import email.parser
import email.policy
import mimetypes
import re
import threading
from typing import Any

from fake_common import Rejection, invalid, not_found, page_limit, rfc3339

#: ``expires_in_seconds`` bounds, from the SDK's ``FileUploadParams``.
MIN_EXPIRY, MAX_EXPIRY = 3600, 7_776_000


def _form_parts(content_type: str, raw: bytes) -> dict[str, Any]:
    """The fields of a ``multipart/form-data`` body, by name (email.message parts)."""
    if not content_type.startswith("multipart/form-data"):
        raise invalid("file: Field required (send multipart/form-data)")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    return {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}


def _expiry(parts: dict[str, Any]) -> int | None:
    part = parts.get("expires_in_seconds")
    if part is None:
        return None
    try:
        seconds = int(part.get_payload(decode=True))
    except ValueError:
        raise invalid("expires_in_seconds: Input should be a valid integer") from None
    if not MIN_EXPIRY <= seconds <= MAX_EXPIRY:
        raise invalid(f"expires_in_seconds: Input should be between {MIN_EXPIRY} and {MAX_EXPIRY}")
    return seconds


class FileStore:
    """Uploaded files: ``metadata`` (id -> ``FileMetadata`` JSON) and ``content`` (id -> bytes)."""

    def __init__(self) -> None:
        self.metadata: dict[str, dict[str, Any]] = {}
        self.content: dict[str, bytes] = {}
        self._expired: set[str] = set()
        self._lock = threading.Lock()

    def upload(self, file_id: str, content_type: str, raw: bytes) -> dict[str, Any]:
        parts = _form_parts(content_type, raw)
        part = parts.get("file")
        if part is None:
            raise invalid("file: Field required")
        seconds = _expiry(parts)
        # only the final path component is kept; no name becomes "unnamed" plus an extension
        filename = (part.get_filename() or "").replace("\\", "/").rsplit("/", 1)[-1]
        mime = part.get_content_type()
        if mime == "application/octet-stream" and filename:
            mime = mimetypes.guess_type(filename)[0] or mime
        filename = filename or "unnamed" + (mimetypes.guess_extension(mime) or "")
        data = part.get_payload(decode=True) or b""
        now = datetime.datetime.now(datetime.timezone.utc)
        metadata = {
            "id": file_id,
            "type": "file",
            "filename": filename,
            "mime_type": mime,
            "size_bytes": len(data),
            "created_at": rfc3339(now),
            "downloadable": False,  # only files a tool creates can be downloaded
            "expires_at": rfc3339(now + datetime.timedelta(seconds=seconds)) if seconds else None,
        }
        with self._lock:
            self.metadata[file_id], self.content[file_id] = metadata, data
        return metadata

    def get(self, file_id: str) -> dict[str, Any]:
        with self._lock:
            if file_id not in self.metadata:
                raise not_found(f"File not found: {file_id}")  # wording on belief
            return self.metadata[file_id]

    def delete(self, file_id: str) -> dict[str, Any]:
        self.get(file_id)
        with self._lock:
            self.metadata.pop(file_id, None)
            self.content.pop(file_id, None)
        return {"id": file_id, "type": "file_deleted"}

    def expire(self, file_id: str) -> None:
        """Make the file as if its ``expires_at`` had passed: a request naming it gets the SDK's
        ``FileExpiredError`` (404, ``error.details.error_code == "file_expired"``)."""
        self.get(file_id)
        with self._lock:
            self._expired.add(file_id)

    def list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """Newest first, ``limit`` per page; ``next_page`` is an opaque ``page_...`` cursor."""
        limit, page = page_limit(query), (query.get("page") or ["page_0"])[-1]
        if not re.fullmatch(r"page_\d+", page):
            raise invalid(f"page: {page!r} is not a cursor this API returned")
        start = int(page.removeprefix("page_"))
        with self._lock:
            files = list(reversed(self.metadata.values()))
        end = start + limit
        return {"data": files[start:end], "next_page": f"page_{end}" if end < len(files) else None}

    def usable(self, file_id: str, where: str) -> dict[str, Any]:
        """The metadata of a file a request refers to, or the refusal the API would send."""
        with self._lock:
            metadata = self.metadata.get(file_id)
            expired = file_id in self._expired
        if metadata is None:
            raise invalid(f"{where}: File not found: {file_id}")  # status and wording on belief
        if expired:
            raise Rejection(404, "not_found_error", f"{where}: File {file_id} has expired", {"error_code": "file_expired"})
        return metadata
