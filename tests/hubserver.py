"""A stand-in for the Hugging Face Hub on 127.0.0.1: exactly what huggingface_hub's downloads call, and the two
upload calls scripts/publish.py makes.

- Uploads (``StandInHub`` is passed to publish.py as its ``api``): ``create_repo(repo_id, exist_ok=...)`` and
  ``upload_folder(repo_id=..., folder_path=..., allow_patterns=...)``, which makes a commit (a 40-hex id) holding
  the previous commit's files plus the uploaded ones and returns an object with ``.oid`` (HfApi's CommitInfo).
- Downloads over HTTP, as the Hub answers them (huggingface_hub 2.x): ``GET /api/models/{repo}/revision/{rev}``
  (repo info: sha, siblings), ``GET /api/models/{repo}/tree/{rev}`` (the file list: size, git blob id, LFS
  sha256), ``HEAD`` and ``GET /{repo}/resolve/{rev}/{path}`` (ETag: the LFS sha256 for weights, the git blob id
  otherwise; X-Repo-Commit; X-Linked-Etag / X-Linked-Size for LFS files). An unknown repo or revision answers 404
  with the Hub's X-Error-Code; anything else a bare 404.
- ``tamper(repo_id, path, data)``: the same revision now serves other bytes under the same ETag (a corrupted
  mirror or a changed file); ``bare_404 = True``: every request gets a 404 without an error code.
"""

from __future__ import annotations

import fnmatch
import hashlib
import http.server
import json
import threading
import urllib.parse
from pathlib import Path
from types import SimpleNamespace

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class StandInHub:
    def __init__(self):
        self.repos: dict[str, dict] = {}  # repo id -> {"main": commit, "commits": {commit: {path: bytes}}}
        self.tampered: dict[tuple[str, str], bytes] = {}
        self.bare_404 = False
        self._etags: dict[tuple[str, str], str] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path)
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                hub.requests.append((self.command, self.path))
                status, headers, body = hub.answer(self.command, urllib.parse.urlsplit(self.path).path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_HEAD = do_GET  # noqa: N815

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # -- the HfApi calls scripts/publish.py makes ---------------------------------------------------------------
    def create_repo(self, repo_id: str, exist_ok: bool = False, **_):
        if repo_id in self.repos and not exist_ok:
            raise FileExistsError(repo_id)
        self.repos.setdefault(repo_id, {"main": None, "commits": {}})
        return SimpleNamespace(repo_id=repo_id, url=f"{self.url}/{repo_id}")

    def upload_folder(self, *, repo_id: str, folder_path, allow_patterns=None, commit_message: str = "", **_):
        repo = self.repos[repo_id]
        files = dict(repo["commits"].get(repo["main"], {}))
        root = Path(folder_path)
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root).as_posix()
            if p.is_file() and (allow_patterns is None or any(fnmatch.fnmatch(rel, pat) for pat in allow_patterns)):
                files[rel] = p.read_bytes()
        h = hashlib.sha1(f"{repo_id}\n{repo['main']}\n{commit_message}\n".encode())
        for rel in sorted(files):
            h.update(f"{rel} {git_blob_id(files[rel])}\n".encode())
        commit = h.hexdigest()
        repo["commits"][commit] = files
        repo["main"] = commit
        return SimpleNamespace(oid=commit, commit_url=f"{self.url}/{repo_id}/commit/{commit}")

    def tamper(self, repo_id: str, path: str, data: bytes) -> None:
        self.tampered[(repo_id, path)] = data

    # -- HTTP ----------------------------------------------------------------------------------------------------
    @staticmethod
    def _json(status, obj, headers=None):
        return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(obj).encode()

    def _files(self, repo_id: str, rev: str):
        repo = self.repos.get(repo_id)
        if repo is None:
            return None, self._json(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})
        commit = repo["main"] if rev == "main" else rev
        if commit not in repo["commits"]:
            return None, self._json(404, {"error": "Invalid rev id"}, {"X-Error-Code": "RevisionNotFound"})
        return (commit, repo["commits"][commit]), None

    def answer(self, method: str, path: str):
        if self.bare_404:
            return 404, {"Content-Type": "text/plain"}, b"Not Found"
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] in ("revision", "tree"):
            repo_id, kind, rev = f"{parts[2]}/{parts[3]}", parts[4], parts[5]
            got, error = self._files(repo_id, rev)
            if error:
                return error
            commit, files = got
            if kind == "revision":
                return self._json(200, {"id": repo_id, "modelId": repo_id, "sha": commit, "private": False,
                                        "siblings": [{"rfilename": p} for p in sorted(files)]})
            return self._json(200, [self._entry(p, data) for p, data in sorted(files.items())])
        if len(parts) >= 5 and parts[2] == "resolve":
            repo_id, rev, file = f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:])
            got, error = self._files(repo_id, rev)
            if error:
                return error
            commit, files = got
            if file not in files:
                return 404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit}, b"Entry not found"
            data = files[file]
            lfs = file.endswith(LFS_SUFFIXES)
            etag = self._etag(commit, file, data)  # what the commit recorded
            served = self.tampered.get((repo_id, file), data)
            headers = {"Content-Type": "application/octet-stream", "ETag": f'"{etag}"', "X-Repo-Commit": commit}
            if lfs:
                headers |= {"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(served))}
            return 200, headers, served
        return 404, {"Content-Type": "text/plain"}, b"Not Found"

    def _etag(self, commit: str, path: str, data: bytes) -> str:
        key = (commit, path)
        if key not in self._etags:  # hashed once per file (the photo model's weights are 226 MB)
            self._etags[key] = hashlib.sha256(data).hexdigest() if path.endswith(LFS_SUFFIXES) else git_blob_id(data)
        return self._etags[key]

    @staticmethod
    def _entry(path: str, data: bytes) -> dict:
        entry = {"type": "file", "path": path, "size": len(data), "oid": git_blob_id(data)}
        if path.endswith(LFS_SUFFIXES):
            entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
        return entry
