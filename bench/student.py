"""A simulated student that talks to the app as its page does, over plain HTTP, with as little client-side work as
possible (the real students' browsers run on their own laptops, not on the Space's two cores).

Opening the app is what a browser does: GET the page (its config is inline), then start every `load` event of the
page at once (the tabs' first views) on one session, and wait until all have completed. A click is one event:
POST ``gradio_api/queue/join`` with the endpoint's ``fn_index``, then read the session's event stream
(``gradio_api/queue/data``) up to its ``process_completed`` message. Responses are read, never decoded beyond
finding that message (a browser's JSON parsing is not the server's cost).

gradio_client, which the bench used before, decodes every output and runs helper threads per call: with 20
simulated students it used more CPU (1.1 cores) than the server it was measuring (0.5), on the same 2-core
machine, so it measured itself as much as the app.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx


class Session:
    """One browser tab: a session hash, the app's config, and calls by endpoint name or event id."""

    def __init__(self, url: str, config: dict, timeout: float = 120):
        self.http = httpx.Client(base_url=url, timeout=timeout)
        self.hash = uuid.uuid4().hex[:11]
        self.config = config
        self.fn = {d["api_name"]: d["id"] for d in config["dependencies"] if d.get("api_name")}
        self.states = {c["id"] for c in config["components"] if c.get("type") == "state"}

    @staticmethod
    def fetch_config(url: str) -> dict:
        with httpx.Client(base_url=url, timeout=60) as c:
            return c.get("/config").json()

    def _defaults(self, dep: dict) -> list:
        values = {c["id"]: c.get("props", {}).get("value") for c in self.config["components"]}
        return [values.get(i) for i in dep["inputs"]]

    def _run(self, jobs: list[tuple[int, list]]) -> list[str | None]:
        """Start the events together, read the session's stream until each has completed; per event, the error
        message (None on success)."""
        events = {}
        t0 = time.perf_counter()
        self.waited: list[float | None] = [None] * len(jobs)  # per event: seconds in the queue before it started
        for fn, data in jobs:
            r = self.http.post("/gradio_api/queue/join", json={"data": data, "fn_index": fn, "session_hash": self.hash,
                                                               "event_data": None, "trigger_id": None})
            r.raise_for_status()
            events[r.json()["event_id"]] = len(events)
        errors: list[str | None] = [None] * len(events)
        pending = set(events)
        with self.http.stream("GET", "/gradio_api/queue/data", params={"session_hash": self.hash}) as s:
            for line in s.iter_lines():
                if line.startswith("data:") and '"process_starts"' in line:
                    eid = json.loads(line[5:]).get("event_id")
                    if eid in events:
                        self.waited[events[eid]] = time.perf_counter() - t0
                if not line.startswith("data:") or '"process_completed"' not in line:
                    continue
                msg = json.loads(line[5:])
                eid = msg.get("event_id")
                if eid in pending:
                    pending.discard(eid)
                    if not msg.get("success"):
                        errors[events[eid]] = str((msg.get("output") or {}).get("error") or "failed")[:120]
                if not pending:
                    break
        if pending:
            raise RuntimeError(f"{len(pending)} events never completed")
        return errors

    def open(self) -> list[str | None]:
        """GET the page, then run its load events (the first views) as the browser does. ``self.page_s``: how
        long the page itself took."""
        t = time.perf_counter()
        self.http.get("/").raise_for_status()
        self.page_s = time.perf_counter() - t
        loads = [d for d in self.config["dependencies"] if any(t[1] == "load" for t in d.get("targets", []))
                 and d.get("backend_fn")]
        return self._run([(d["id"], self._defaults(d)) for d in loads])

    def call(self, api_name: str, data: list) -> str | None:
        """``data``: the endpoint's values as gradio_client takes them (without its gr.State inputs, which the
        page sends as null: the server keeps them)."""
        fn = self.fn[api_name.lstrip("/")]
        dep = next(d for d in self.config["dependencies"] if d["id"] == fn)
        given = iter(data)
        full = [None if i in self.states else next(given, None) for i in dep["inputs"]]
        return self._run([(fn, full)])[0]

    def upload(self, path: str) -> dict:
        with open(path, "rb") as f:
            r = self.http.post("/gradio_api/upload", files={"files": (path.rsplit("/", 1)[-1], f, "image/png")})
        r.raise_for_status()
        return {"path": r.json()[0], "meta": {"_type": "gradio.FileData"}}

    def close(self):
        self.http.close()
