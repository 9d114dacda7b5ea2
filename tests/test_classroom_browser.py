"""The standings page in a real headless browser (Debian's chromium, ``--dump-dom``): the table and
the SVG charts render, and a player named ``<script>...`` is shown as text, never run (issue 13)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

pytest.importorskip("uvicorn", reason="the server extra is not installed")

from game.classroom.client import submit_bytes  # noqa: E402
from tests.classroom_helpers import SCEN, SEED, ServerProcess, make_run  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EVIL = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"


def dump_dom(url: str) -> str:
    out = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--virtual-time-budget=3000",
         "--dump-dom", url], capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run does it)")
def test_standings_page_renders_in_chromium_and_escapes_names(tmp_path):
    runs = [make_run(tmp_path, "a", "flex", "alice"), make_run(tmp_path, "b", "all-in", "bob"),
            make_run(tmp_path, "e", "barbell", EVIL)]
    server = ServerProcess(f"sqlite:///{tmp_path / 'classroom.sqlite3'}", "--rate-limit", "0")
    try:
        for r in runs:
            assert submit_bytes(server.url, r.read_bytes()).status == 201
        dom = dump_dom(f"{server.url}/standings?scenario={SCEN}&seed={SEED}")
        index = dump_dom(f"{server.url}/")
    finally:
        server.stop()
    # the table: one row per verified run, best first (the order the run files' own scores give)
    players = re.findall(r'<td class="player">(.*?)</td>', dom)
    by_score = [json.loads(r.read_text())["final"]["score"] for r in runs]
    expected = [name for _, name in sorted(zip(by_score, ["alice", "bob", "evil"]), reverse=True)]
    assert len(players) == 3
    assert [("evil" if "pwned" in p else p) for p in players] == expected
    # the charts: four inline SVGs, drawn (a line per player, a dot per player per scatter, bars)
    assert dom.count("<svg") == 4
    assert dom.count('class="series"') == 3 and dom.count('class="dot"') == 6 and 'class="bar"' in dom
    # the hostile name is text: no script or img element from it, nothing ran
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in players[expected.index("evil")]
    assert "<script" not in dom and "<img" not in dom and "pwned</title>" not in dom
    assert "Standings:" in re.search(r"<title>(.*?)</title>", dom).group(1)
    assert f"/standings?scenario={SCEN}&amp;seed={SEED}" in index


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run does it)")
def test_industry_section_renders_in_chromium_and_escapes_names(tmp_path):
    """Issue 15: an industry's section (its companies ranked within it, the bot rival marked) in a
    real browser; a rival's bot label ``<script>...`` is text."""
    from tests.test_classroom_industry import make_industry

    path = make_industry(tmp_path, "abc", {"alice": "flex", "bob": "all-in"}, ["barbell"])
    data = json.loads(path.read_text())
    data["companies"][2]["bot"] = EVIL  # a label only: the file still verifies
    path.write_text(json.dumps(data))
    server = ServerProcess(f"sqlite:///{tmp_path / 'classroom.sqlite3'}", "--rate-limit", "0")
    try:
        reply = submit_bytes(server.url, path.read_bytes())
        assert reply.status == 201, reply.data
        dom = dump_dom(f"{server.url}/standings?scenario={SCEN}&seed={SEED}")
    finally:
        server.stop()
    section = re.search(r'<section class="industry".*?</section>', dom, re.S).group(0)
    names = re.findall(r'<td class="player">([^<]*)', section)
    ranked = sorted(reply.data["companies"], key=lambda c: (c["rank"], c["name"]))
    assert [n.strip() for n in names] == [c["name"] for c in ranked]
    assert section.count('class="rival"') == 1 and section.count('class="company"') == 2
    assert "<script" not in dom and "<img" not in dom and "pwned</title>" not in dom
    assert "&lt;script&gt;" in section
