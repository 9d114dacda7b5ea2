"""Bit-identical check for engine speed work: every scenario x every built-in bot x seeds 1-3.

Records each quarter's state hash (and each game's final score) through ``Game.play``, and the
``sim --json`` path (game.headless._play_with_advice, which reads the state a plan was decided on)
for one bot per scenario. Run before a change to write the baseline, after it to compare:

    .venv/bin/python tests/golden/check_hashes.py --write /tmp/hashes.json
    .venv/bin/python tests/golden/check_hashes.py --compare /tmp/hashes.json
"""

from __future__ import annotations

import argparse
import json
import sys

from engine.bots import BOTS, make_bot, run_bot
from engine.game import Game
from scenarios import list_scenarios

SEEDS = (1, 2, 3)


def record() -> dict[str, object]:
    from game.headless import _play_with_advice

    out: dict[str, object] = {}
    for loaded in list_scenarios():
        sc = loaded.scenario
        for bot in BOTS:
            for seed in SEEDS:
                key = f"{sc.id}/{bot}/{seed}"
                try:
                    game = run_bot(Game(sc, seed), make_bot(bot))
                    out[key] = {"hashes": game.hashes(), "score": game.reports[-1].score.score_cents if game.reports else None,
                                "final": game.canonical_state()}
                except Exception as exc:  # a bot that cannot play a scenario must fail the same way
                    out[key] = {"error": f"{type(exc).__name__}: {exc}"}
        game = Game(sc, 1)
        warnings = _play_with_advice(game, make_bot("barbell"), None)
        out[f"{sc.id}/advice/barbell/1"] = {"hashes": game.hashes(), "warnings": json.dumps(warnings, sort_keys=True)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write")
    g.add_argument("--compare")
    args = ap.parse_args()
    got = record()
    if args.write:
        with open(args.write, "w") as f:
            json.dump(got, f, sort_keys=True)
        print(f"{len(got)} runs written to {args.write}")
        return 0
    with open(args.compare) as f:
        want = json.load(f)
    bad = [k for k in sorted(set(want) | set(got)) if want.get(k) != got.get(k)]
    quarters = sum(len(v.get("hashes", [])) for v in got.values())
    for k in bad[:20]:
        print("DIFFERS:", k)
    print(f"{len(got)} runs, {quarters} quarter hashes: {'all identical' if not bad else f'{len(bad)} runs differ'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
