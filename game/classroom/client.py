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


# ----------------------------------------------------------------------------- networked rounds (issue 15)


def _player_headers(key: str) -> dict[str, str]:
    return {"X-Player-Key": key}


def live_open(server: str, token: str, spec: dict[str, Any]) -> Reply:
    return request("POST", _url(server, "/api/live"), json.dumps(spec).encode(),
                   {**instructor_headers(token), "Content-Type": "application/json"})


def live_observation(server: str, live_id: str, player: str, key: str) -> Reply:
    return request("GET", _url(server, f"/api/live/{urllib.parse.quote(live_id, safe='')}/observation", {"player": player}),
                   headers=_player_headers(key))


def live_plan(server: str, live_id: str, player: str, key: str, round_no: int, actions: list[dict[str, Any]]) -> Reply:
    return request("POST", _url(server, f"/api/live/{urllib.parse.quote(live_id, safe='')}/plan", {"player": player}),
                   json.dumps({"round": round_no, "actions": actions}).encode(),
                   {**_player_headers(key), "Content-Type": "application/json"})


def live_file(server: str, live_id: str, token: str | None = None) -> Reply:
    return request("GET", _url(server, f"/api/live/{urllib.parse.quote(live_id, safe='')}/file"),
                   headers=instructor_headers(token) if token else {})


def play_live(server: str, live_id: str, player: str, key: str, bot: Any, *, poll_s: float = 2.0, rounds: int | None = None,
              sleep: Any = None, out: Any = print) -> int:
    """``tycoon board industry play``: a bot (built-in or a bot file) plays every round of a
    networked industry for ``player``: fetch the observation, plan, post, wait for the next round.
    Returns the rounds it planned. Stops when the industry (or the player's company) is over."""
    import time

    from engine.game import _loggable
    from game.classroom.live import observation_from_view

    sleep = sleep or time.sleep
    cache: dict[str, Any] = {}
    planned = 0
    while rounds is None or planned < rounds:
        obs = live_observation(server, live_id, player, key)
        if obs.status != 200:
            raise UserError(f"industry {live_id}: {obs.data.get('error') or obs.text[:200]}")
        v = obs.data
        if v["status"] == "over" or v["game_over"]:
            out(f"{player}: the {'industry' if v['status'] == 'over' else 'company'} is over after {len(v['reports'])} quarter(s)"
                + (f"; score ${v['reports'][-1]['score']['score_cents'] / 100:,.0f}" if v["reports"] else ""))
            break
        if v["planned"]:
            sleep(poll_s)  # this round is planned: wait for the others or the deadline
            continue
        actions = [_loggable(a) for a in bot.act(observation_from_view(v, v["scenario"], v["seed"], cache))]
        reply = live_plan(server, live_id, player, key, v["round"], actions)
        if reply.status == 422:  # the engine refused the plan: say why and play the empty plan (nothing is lost)
            out(f"{player}: round {v['round']}: plan refused ({reply.data.get('reason')}); sending the empty plan")
            reply = live_plan(server, live_id, player, key, v["round"], [])
        if reply.status == 201:
            planned += 1
            out(f"{player}: round {v['round']} ({v['label']}): {len(actions)} action(s) sent")
        elif reply.status == 409:
            out(f"{player}: round {v['round']}: {reply.data.get('reason')}")
            sleep(poll_s)
        else:
            raise UserError(f"industry {live_id}: {reply.data.get('reason') or reply.data.get('error') or reply.text[:200]}")
    return planned
