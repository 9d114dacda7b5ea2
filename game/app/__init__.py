"""The Textual game (issue 5). Importing this package costs nothing: Textual loads in ``make_app``.

``make_app`` is the one factory the CLI, the tests and the benchmarks call (Posting's pattern).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from game.app.app import TycoonApp


def make_app(
    scenario: str | None = None,
    seed: int | None = None,
    player: str = "",
    load: str | Path | None = None,
    save_dir: str | Path | None = None,
    skip_start: bool = False,
    theme: str | None = None,
    cursor_blink: bool = True,
    competition: object | str | Path | None = None,
) -> "TycoonApp":
    """Build the app. With ``load`` it continues that run; with ``skip_start`` it starts a new
    game on ``scenario``/``seed`` at once; otherwise it opens the start screen prefilled with them.
    ``competition`` (a ``game.competition.Competition`` or the path of its file) starts its
    scenario and seed at once and tags every save of the run file with its id."""
    _skip_pydantic_plugin_scan()
    use_one_blas_thread()
    with _collector_waits_while_importing():
        from game.app.app import TycoonApp

        _freeze_import_heap()  # before the threshold comes back: no collection over the import heap first
    if isinstance(competition, (str, Path)):
        from game.competition import load_competition

        competition = load_competition(competition)

    return TycoonApp(
        scenario=scenario, seed=seed, player=player, load=load, save_dir=save_dir,
        skip_start=skip_start, theme_name=theme, cursor_blink=cursor_blink, competition=competition,
    )


def _skip_pydantic_plugin_scan() -> None:
    """The game uses no pydantic plugin: without this, the engine's first model validator makes pydantic
    read the entry points of every installed distribution looking for one (importlib.metadata), about
    30 ms of a fresh `tycoon play` start-up (issue 11). A player who wants their plugins sets
    PYDANTIC_DISABLE_PLUGINS themselves (even to an empty value): setdefault leaves it alone."""
    import os

    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def use_one_blas_thread() -> None:
    """The game does no linear algebra (no BLAS call in engine/ or game/), yet numpy's OpenBLAS starts a pool
    of worker threads, one per core, as numpy loads: 25-40 ms of CPU and 40-70 ms of wall of a fresh
    `tycoon play` start-up on 2 cores (issue 11), more threads on a bigger machine. Set before numpy is
    imported (the engine loads it when a game starts); a value the player set (even empty) is kept."""
    import os

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


START_GEN0_THRESHOLD = 100_000  # above the container objects a start-up allocates (imports, the first screen)
_starting = 0  # start-up phases running in this process (imports, apps before their first screen; `tycoon serve` runs several)
_normal_threshold: tuple[int, ...] = ()


def _collect_less_while_starting() -> None:
    """Until a start-up phase ends, the cycle collector waits for 100,000 new objects instead of 700: a
    start-up allocates tens of thousands that live on (modules, widgets, styles, the engine's state), and
    the collector traversed them again at each of its young collections (about 75 while the first app's
    modules load, 40-180 more while its first screen is built: 10-100 ms; issue 11,
    tests/benchmarks/test_bench_app.py). Phases nest: the process's own threshold is back when the last
    one ends (``_started``); the start-up's garbage goes at the first collection after it."""
    global _starting, _normal_threshold
    import gc

    if _starting == 0:
        _normal_threshold = gc.get_threshold()
        gc.set_threshold(max(START_GEN0_THRESHOLD, _normal_threshold[0]), *_normal_threshold[1:])
    _starting += 1


def _started() -> None:
    """A start-up phase of ``_collect_less_while_starting`` ended."""
    global _starting
    import gc

    _starting -= 1
    if _starting == 0:
        gc.set_threshold(*_normal_threshold)


@contextmanager
def _collector_waits_while_importing():
    """make_app's import of Textual and the app's modules as a start-up phase; the threshold comes back
    when the imports are done, or fail (the imports leave about 450 cyclic objects, which
    _freeze_import_heap then keeps)."""
    _collect_less_while_starting()
    try:
        yield
    finally:
        _started()


_FROZEN = False


def _freeze_import_heap() -> None:
    """Once a process, before the first app: move what the imports built (modules, classes, Textual's
    tables) out of the collector's way (gc.freeze). The first screen's widgets then trigger collections
    that scan only new objects, not the whole import heap: about 30 ms of a fresh `tycoon` start-up
    (tests/benchmarks/test_bench_app.py). Once only: a later call would pin the garbage of earlier apps."""
    global _FROZEN
    if not _FROZEN:
        import gc

        gc.freeze()
        _FROZEN = True


__all__ = ["make_app"]
