"""What opening the page costs the server, cut to what differs between visitors: nothing.

Measured with 40 simulated students opening the page over 10 s on the 2-core machine (py-spy of the server, active
samples): Gradio's ``GET /`` took half of the server's time. For every visitor it deep-copies the whole page
config (387 components, 451 kB of JSON), rewrites every URL in it, computes the API description again and renders
a 617 kB page, identical for every visitor. A new session's first event then built the session's copy of every
component's config (``SessionState.__init__``: ``get_config`` of each of the 387 blocks, with signature
inspection), again the same for every visitor. Opening the page took 15.6 s at the median.

``KPLAB_PAGE_CACHE=0`` turns both off.

- :class:`PageCache`: an ASGI middleware that keeps the rendered page per origin (the page is the same for every
  visitor of this app: no login, no per-user content; ``?deep_link=`` and ``?page=`` pages are not kept) and sends
  it as it is.
- :func:`share_session_template`: a new session's component configs are copied from one template built from the
  first session (two-level copies: Gradio only replaces an entry, or sets its ``props["value"]``), instead of being
  built anew. Applied only to the Gradio ``SessionState.__init__`` it was written against (its source is checked);
  any other version keeps Gradio's own.
"""

from __future__ import annotations

import gzip
import hashlib
import inspect
import logging
import os
import threading
from collections import OrderedDict
from copy import copy
from urllib.parse import parse_qs

log = logging.getLogger("kplab")
ENABLED = os.environ.get("KPLAB_PAGE_CACHE", "1") != "0"  # 0: Gradio's own per-visitor work (for A/B benchmarks)


class PageCache:
    """Keep ``GET /`` (and ``HEAD /``) responses per origin and send them again. Only plain pages: a query with
    ``deep_link`` or ``page`` (whose config differs), a request with a cookie-based login, or a response that is
    not a 200 without cookies passes through untouched."""

    MAX_ENTRIES = 32  # origins x (plain, gzip) (Host / X-Forwarded-* combinations): bounded, a client cannot grow it without end

    def __init__(self, app):
        self.app = app
        self.cache: OrderedDict[tuple, tuple[list, bytes]] = OrderedDict()
        self.lock = threading.Lock()

    def _key(self, scope):
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or scope["path"] != "/":
            return None
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if "deep_link" in query or "page" in query:
            return None
        h = dict(scope.get("headers") or [])
        if b"authorization" in h:
            return None
        return (scope.get("scheme"), scope.get("root_path"), h.get(b"host"), h.get(b"x-forwarded-host"),
                h.get(b"x-forwarded-proto"), h.get(b"x-forwarded-port"))

    async def __call__(self, scope, receive, send):
        key = self._key(scope) if ENABLED else None
        if key is None:
            return await self.app(scope, receive, send)
        hit = self.cache.get(key)
        if hit is None and scope["method"] == "HEAD":
            # HEAD / asks whether the page is there (Gradio's own launch does, with a 3 s time-out that a first
            # render on a busy 2-core machine exceeded, and the app exited): it is, without rendering it
            hit = ([(b"content-type", b"text/html; charset=utf-8")], b"")
        if hit is not None:
            headers, body = hit
            if (body and b"gzip" in dict(scope.get("headers") or []).get(b"accept-encoding", b"")
                    and not any(k.lower() == b"content-encoding" for k, _ in headers)):
                headers, body = self._gzipped(key, headers, body)
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
            return
        start, chunks = {}, []

        async def keep(message):
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        # (this first visitor of an origin gets the page uncompressed, as Gradio sends it)
        headers = list(start.get("headers") or [])
        if (scope["method"] == "GET" and start.get("status") == 200
                and not any(k.lower() == b"set-cookie" for k, _ in headers)):
            with self.lock:
                self.cache[key] = (headers, b"".join(chunks))
                while len(self.cache) > self.MAX_ENTRIES:
                    self.cache.popitem(last=False)

    def _gzipped(self, key, headers, body):
        """The page compressed once (617 kB of config JSON become about a tenth; a browser always accepts gzip)."""
        zkey = ("gzip",) + key
        hit = self.cache.get(zkey)
        if hit is None:
            z = gzip.compress(body, compresslevel=6)
            kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-encoding")]
            hit = (kept + [(b"content-encoding", b"gzip"), (b"content-length", str(len(z)).encode()),
                           (b"vary", b"Accept-Encoding")], z)
            with self.lock:
                self.cache[zkey] = hit
        return hit


# -- a new session's component configs, from one template --------------------------------------------------------

# sha1 of gradio.state_holder.SessionState.__init__'s source that share_session_template reproduces (Gradio 6.x)
KNOWN_INIT = {"27ffc2b3cb0fbd5f7c5b72723e3d7780f4b21913"}  # gradio 6.31.0
_TEMPLATES: dict[int, tuple[frozenset, dict]] = {}
_TEMPLATE_LOCK = threading.Lock()


def _init_hash(cls) -> str:
    return hashlib.sha1(inspect.getsource(cls.__init__).encode()).hexdigest()


def _template(blocks, blocks_config) -> dict:
    keys = frozenset(k for k in blocks_config.blocks if k in blocks.blocks)
    with _TEMPLATE_LOCK:
        hit = _TEMPLATES.get(id(blocks))
        if hit is None or hit[0] != keys:
            hit = (keys, {k: blocks_config.config_for_block(k, [], v) for k, v in blocks_config.blocks.items()
                          if k in blocks.blocks})
            _TEMPLATES[id(blocks)] = hit
    return hit[1]


def _copied(config: dict) -> dict:
    out = dict(config)
    if isinstance(out.get("props"), dict):
        out["props"] = dict(out["props"])
    return out


def share_session_template() -> bool:
    """Make Gradio's new sessions copy their component configs from a template; True if applied."""
    from gradio import state_holder

    cls = state_holder.SessionState
    if getattr(cls, "_kplab_template", False):
        return True
    if not ENABLED:
        return False
    if _init_hash(cls) not in KNOWN_INIT:
        log.warning("Gradio's SessionState is not the one this lab knows: each session builds its own configs")
        return False
    original = cls.__init__

    def __init__(self, blocks):
        self.blocks_config = copy(blocks.default_config)
        self.config_values = {k: _copied(v) for k, v in _template(blocks, self.blocks_config).items()}
        self.state_data = {}
        self._state_ttl = {}
        self.is_closed = False
        probe = object.__new__(cls)  # the rest of Gradio's own attributes (e.g. its TTL), as Gradio sets them
        probe_blocks = _NoBlocks()
        original(probe, probe_blocks)
        for k, v in vars(probe).items():
            if k not in ("blocks_config", "config_values", "state_data", "_state_ttl", "is_closed"):
                setattr(self, k, v)

    cls.__init__ = __init__
    cls._kplab_template = True
    cls._kplab_original_init = original
    return True


class _NoBlocks:
    """A Blocks stand-in with nothing in it, for running Gradio's own ``SessionState.__init__`` cheaply."""

    class _Config:
        blocks: dict = {}

        def __copy__(self):
            return self

    blocks: dict = {}
    default_config = _Config()
