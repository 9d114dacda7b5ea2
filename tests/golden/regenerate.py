"""Regenerate the golden run files after an intentional model change (say why in the commit).

    .venv/bin/python tests/golden/regenerate.py
"""

from __future__ import annotations

from pathlib import Path

from engine.bots import make_bot, run_bot
from engine.game import Game
from game.runfile import run_from_game, save_run
from scenarios import load_scenario

HERE = Path(__file__).resolve().parent
GOLDEN = (
    ("neocloud-2025", "all-in", 1), ("neocloud-2025", "barbell", 2), ("neocloud-2025", "flex", 3),
    ("inference-2025", "barbell", 1), ("inference-2025", "flex", 2),
    ("neocloud-2025", "passive", 1),  # a covenant default, then acceleration repaid from cash
    ("abilene", "max-leverage", 1),  # sculpted project debt behind the anchor contract
)


def main() -> None:
    for scenario_id, bot, seed in GOLDEN:
        loaded = load_scenario(scenario_id)
        game = run_bot(Game(loaded.scenario, seed), make_bot(bot))
        path = save_run(run_from_game(game, loaded, player=f"bot:{bot}", bot=bot), HERE / f"{scenario_id}-{bot}-seed{seed}.json")
        print(path.name, game.reports[-1].score.verdict)


if __name__ == "__main__":
    main()
