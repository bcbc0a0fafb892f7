"""A Hugging Face hub on loopback: just enough of its HTTP API for huggingface_hub to download.

Serves model repositories made from local folders:

- `GET /api/models/{repo}[/revision/{rev}]`: the repository info (`id`, `sha`, `siblings`),
- `GET /api/models/{repo}/tree/{rev}`: the file listing with sizes, git oids and LFS sha256,
- `HEAD|GET /{repo}/resolve/{rev}/{path}`: a file, with the headers huggingface_hub reads
  (`X-Repo-Commit`, `ETag`, `Content-Length`; `X-Linked-Etag` and `X-Linked-Size` for LFS files)
  and `Range` requests.

Each repository has a mode that decides how its files are served:

- `normal`; `slow`: files trickle out in small pieces, so a download shows progress;
- `gated`: metadata is public but every file answers 401 (403 with a token) and the hub's
  `X-Error-Code: GatedRepo`, as for a gated repository whose license was not accepted;
- `private`: every request answers 401 `RepoNotFound`, as the hub does for a private repository
  and a caller without access;
- `broken`: the first GET of the largest file sends half of it and drops the connection; after
  that the file answers 503 (the hub went down), so resuming fails too, until the mode changes;
- `corrupt`: the largest file arrives whole but with its bytes flipped (a hash mismatch);
- `short`: the largest file's body stops at half though the metadata announced all of it.

Every request is recorded in `requests` as "METHOD /path", so tests can assert none was made.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

Mode = Literal["normal", "slow", "gated", "private", "broken", "corrupt", "short"]

_INFO = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?$")
_TREE = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)$")
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")
_RANGE = re.compile(r"^bytes=(\d+)-$")
_SLOW_PIECE = 64 * 1024


@dataclass
class HostedFile:
    data: bytes
    git_oid: str  # what git would call the blob: sha1 of "blob <size>\0<data>"
    sha256: str | None  # set for files stored with git LFS

    @property
    def etag(self) -> str:
        return self.sha256 or self.git_oid


@dataclass
class HostedRepo:
    repo_id: str
    files: dict[str, HostedFile]
    commit: str
    mode: Mode = "normal"
    slow_seconds: float = 1.0  # how long each file takes in `slow` mode
    down: bool = False  # `broken`: the largest file is no longer served after the dropped transfer

    @property
    def largest(self) -> str:
        return max(self.files, key=lambda path: len(self.files[path].data))

    @property
    def total_bytes(self) -> int:
        return sum(len(f.data) for f in self.files.values())


def _hosted_file(data: bytes, lfs: bool) -> HostedFile:
    git_oid = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return HostedFile(data, git_oid, hashlib.sha256(data).hexdigest() if lfs else None)


@dataclass
class FakeHub:
    repos: dict[str, HostedRepo] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def host(
        self, repo_id: str, folder: Path, mode: Mode = "normal", lfs_min_bytes: int = 1 << 20
    ) -> HostedRepo:
        """Serve every file of `folder` as `repo_id`; files from `lfs_min_bytes` up are LFS."""
        files = {
            path.name: _hosted_file(path.read_bytes(), path.stat().st_size >= lfs_min_bytes)
            for path in sorted(folder.iterdir())
            if path.is_file()
        }
        seed = repo_id + "".join(f"{name}:{f.git_oid}" for name, f in files.items())
        repo = HostedRepo(repo_id, files, hashlib.sha1(seed.encode()).hexdigest(), mode)
        self.repos[repo_id] = repo
        return repo

    def set_mode(self, repo_id: str, mode: Mode) -> None:
        repo = self.repos[repo_id]
        repo.mode, repo.down = mode, False

    def record(self, line: str) -> None:
        with self._lock:
            self.requests.append(line)

    def requests_for(self, repo_id: str) -> list[str]:
        with self._lock:
            return [r for r in self.requests if f"/{repo_id}/" in r]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as huggingface_hub's client expects
    hub: FakeHub  # set on the subclass each server makes

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet

    def do_GET(self) -> None:
        self._route(send_body=True)

    def do_HEAD(self) -> None:
        self._route(send_body=False)

    def _route(self, send_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        self.hub.record(f"{self.command} {path}")
        if match := _INFO.match(path):
            revision = match["rev"] or "main"
            self._with_repo(match["repo"], revision, lambda r: self._json(_info(r)))
        elif match := _TREE.match(path):
            self._with_repo(match["repo"], match["rev"], lambda r: self._json(_tree(r)))
        elif match := _RESOLVE.match(path):
            name = match["path"]
            self._with_repo(match["repo"], match["rev"], lambda r: self._file(r, name, send_body))
        else:
            self._error(404, "NotFound", f"No route for {path}")

    def _with_repo(self, repo_id: str, revision: str, serve: Any) -> None:
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
        elif repo.mode == "private":
            self._error(401, "RepoNotFound", "Repository not found")
        elif revision not in ("main", repo.commit):
            self._error(404, "RevisionNotFound", f"Revision {revision} not found")
        else:
            serve(repo)

    def _json(self, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        data = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _file(self, repo: HostedRepo, name: str, send_body: bool) -> None:
        hosted = repo.files.get(name)
        if hosted is None:
            self._error(404, "EntryNotFound", f"{name} not found in {repo.repo_id}")
            return
        if repo.mode == "gated":
            status = 403 if self.headers.get("Authorization") else 401
            self._error(status, "GatedRepo", f"Access to model {repo.repo_id} is restricted.")
            return
        largest = name == repo.largest
        if largest and repo.down:
            self._error(503, "ServiceUnavailable", "The hub is down")
            return
        data, start = hosted.data, _range_start(self.headers.get("Range"))
        if largest and repo.mode == "corrupt":
            data = bytes(b ^ 0xFF for b in data)
        self.send_response(206 if start else 200)
        self.send_header("X-Repo-Commit", repo.commit)
        self.send_header("ETag", f'"{hosted.etag}"')
        if hosted.sha256 is not None:
            self.send_header("X-Linked-Etag", f'"{hosted.sha256}"')
            self.send_header("X-Linked-Size", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        body = data[start:]
        if largest and send_body and repo.mode == "short":
            body = body[: len(body) // 2]  # a body that ends early, with a matching length
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not send_body:
            return
        if largest and repo.mode == "broken":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            repo.down = True
            self.close_connection = True  # the client sees the body end before Content-Length
            return
        self._send_body(body, repo.slow_seconds if repo.mode == "slow" else 0.0)

    def _send_body(self, body: bytes, seconds: float) -> None:
        if seconds <= 0:
            self.wfile.write(body)
            return
        pieces = max(1, -(-len(body) // _SLOW_PIECE))
        for offset in range(0, len(body), _SLOW_PIECE):
            self.wfile.write(body[offset : offset + _SLOW_PIECE])
            self.wfile.flush()
            time.sleep(seconds / pieces)


def _range_start(header: str | None) -> int:
    match = _RANGE.match(header or "")
    return int(match.group(1)) if match else 0


def _info(repo: HostedRepo) -> dict[str, Any]:
    return {
        "id": repo.repo_id,
        "modelId": repo.repo_id,
        "sha": repo.commit,
        "private": False,
        "gated": "manual" if repo.mode == "gated" else False,
        "siblings": [{"rfilename": name} for name in repo.files],
    }


def _tree(repo: HostedRepo) -> list[dict[str, Any]]:
    entries = []
    for name, hosted in repo.files.items():
        entry: dict[str, Any] = {
            "type": "file",
            "path": name,
            "size": len(hosted.data),
            "oid": hosted.git_oid,
        }
        if hosted.sha256 is not None:
            entry["lfs"] = {"oid": hosted.sha256, "size": len(hosted.data), "pointerSize": 134}
        entries.append(entry)
    return entries


@contextmanager
def running_hub() -> Iterator[FakeHub]:
    """A fake hub listening on a free 127.0.0.1 port; `hub.url` is its HF_ENDPOINT."""
    hub = FakeHub()
    handler = type("FakeHubHandler", (_Handler,), {"hub": hub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.block_on_close = False  # keep-alive connections must not hold up shutdown
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll interval: shutdown waits for it.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
