"""The classroom server's client: ``tycoon board submit``, ``competition add``, ``gradebook``, and
the debrief screen's submission. Standard library only (urllib): a student's install needs no extra."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from game.errors import UserError

TIMEOUT_S = 180.0  # a submission waits for its verification (the server answers 202 after a minute)


@dataclass
class Reply:
    status: int
    data: dict[str, Any]
    text: str = ""


def _url(server: str, path: str, query: dict[str, str] | None = None) -> str:
    if not server.startswith(("http://", "https://")):
        raise UserError(f"--server {server!r}: give the address the instructor gave, e.g. http://10.0.0.5:8765")
    q = f"?{urllib.parse.urlencode(query)}" if query else ""
    return server.rstrip("/") + path + q


def request(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
            timeout: float = TIMEOUT_S) -> Reply:
    """One HTTP request; a refusal (4xx) is a reply, an unreachable server a ``UserError``."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw, ctype = resp.status, resp.read(), resp.headers.get("content-type", "")
    except urllib.error.HTTPError as exc:
        status, raw, ctype = exc.code, exc.read(), exc.headers.get("content-type", "")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(f"{url.split('?')[0]}: cannot reach the server ({reason})") from None
    text = raw.decode("utf-8", "replace")
    data: dict[str, Any] = {}
    if "json" in ctype:
        try:
            data = json.loads(text)
        except ValueError:
            data = {}
    return Reply(status, data, text)


def submit_bytes(server: str, body: bytes, code: str | None = None) -> Reply:
    """POST a run file; a 202 (still queued) is polled until the job is done."""
    import time

    reply = request("POST", _url(server, "/api/runs", {"code": code} if code else None), body,
                    {"Content-Type": "application/json"})
    deadline = time.monotonic() + TIMEOUT_S
    while reply.status == 202 and time.monotonic() < deadline:
        time.sleep(1.0)
        job = request("GET", _url(server, reply.data["url"]))
        if job.status == 200 and job.data.get("status") == "done":
            result = job.data.get("result") or {}
            return Reply(201 if result.get("accepted") else 422, {**result, "job": job.data["id"]})
    return reply


def describe(reply: Reply) -> tuple[bool, str]:
    """(accepted, one line): the rank on its board (an industry: each player's rank within it), or the refusal's reason."""
    d = reply.data
    if reply.status == 201 and d.get("accepted") and d.get("kind") == "industry":
        ranks = ", ".join(f"{c['name']} rank {c['rank']} of {c['of']} (${c['score']:,.0f})"
                          for c in d.get("companies", []) if c.get("bot") is None)
        return True, f"accepted: industry {d.get('industry')} on {d.get('board')}: {ranks}"
    if reply.status == 201 and d.get("accepted"):
        return True, f"accepted: {d.get('player')}, ${d.get('score', 0):,.0f}, rank {d.get('rank')} of {d.get('of')} on {d.get('board')}"
    if reply.status == 202:
        return False, f"still being verified (job {d.get('job')}): look at the standings later"
    reason = d.get("reason") or d.get("error") or reply.text[:200] or f"HTTP {reply.status}"
    return False, f"refused: {reason}"


def instructor_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add_competition(server: str, toml_bytes: bytes, token: str) -> Reply:
    return request("POST", _url(server, "/api/competitions"), toml_bytes,
                   {**instructor_headers(token), "Content-Type": "application/toml"})


def gradebook(server: str, competition: str, token: str) -> Reply:
    return request("GET", _url(server, f"/api/competitions/{urllib.parse.quote(competition, safe='')}/gradebook.csv"),
                   headers=instructor_headers(token))


def class_server(competition: Any = None) -> tuple[str, str | None] | None:
    """Where the debrief submits a finished run: (server, class code) from the competition file
    (``server``, ``class_code``), else ``$TYCOON_SERVER`` and ``$TYCOON_CLASS_CODE``; None if neither names a server."""
    import os

    server = getattr(competition, "server", None) or os.environ.get("TYCOON_SERVER")
    if not server:
        return None
    return server, getattr(competition, "class_code", None) or os.environ.get("TYCOON_CLASS_CODE")
