"""``tycoon calc ...`` end to end: JSON keys, readable tables, exit 2 on bad input (issue 3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine import economics, finance, physics
from engine.hardware import gpu
from engine.models import model
from game.cli import main


def run_json(capsys, *argv: str) -> dict:
    assert main(["calc", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_decode_json_keys_and_same_numbers_as_engine(capsys):
    out = run_json(capsys, "decode", "--model", "llama-3.1-70b", "--gpu", "h100", "--gpus", "2", "--batch", "16")
    for key in ("step_ms", "tokens_per_s", "tokens_per_s_per_gpu", "weight_gb", "kv_bytes_per_token",
                "kv_token_capacity", "max_batch", "bound"):
        assert key in out
    r = physics.decode(model("llama-3.1-70b"), gpu("h100"), 2, "bf16", 16, physics.DEFAULT_CONTEXT)
    assert out["step_ms"] == pytest.approx(r.step_ms, rel=1e-3)
    assert out["kv_bytes_per_token"] == 320 * 1024
    assert out["bound"] == "memory" and out["model"] == "llama-3.1-70b" and out["batch"] == 16


def test_decode_defaults_pick_gpus_per_replica(capsys):
    out = run_json(capsys, "decode", "--model", "llama-3.1-70b", "--gpu", "h100", "--precision", "fp8")
    assert out["gpus"] == 1


def test_prefill_and_serve(capsys):
    out = run_json(capsys, "prefill", "--model", "llama-3.1-8b", "--gpu", "h100", "--tokens", "4096")
    assert out["prefill_ms"] > 0 and 0.35 <= out["mfu"] <= 0.65
    tight = run_json(capsys, "serve", "--model", "llama-3.1-70b", "--gpu", "h100", "--gpus", "2",
                     "--precision", "fp8", "--tpot-ms", "30")
    loose = run_json(capsys, "serve", "--model", "llama-3.1-70b", "--gpu", "h100", "--gpus", "2",
                     "--precision", "fp8", "--tpot-ms", "60")
    assert {"max_batch", "tpot_ms", "tokens_per_s", "tokens_per_s_per_gpu", "p95_ttft_ms"} <= set(tight)
    assert tight["tokens_per_s"] < loose["tokens_per_s"]


def test_tp_table_shows_where_more_gpus_stop_helping(capsys):
    """Issue 12 item 1: the A100 legacy table, TP4 fastest, TP8 no faster at a quarter the tokens per GPU."""
    out = run_json(capsys, "tp", "--model", "llama-3.1-70b", "--gpu", "a100")
    rows = {r["gpus"]: r for r in out["rows"]}
    assert set(rows) == {2, 4, 8} and out["fastest_gpus"] == 4
    assert rows[8]["step_ms"] >= 0.9 * rows[4]["step_ms"]
    assert rows[8]["tokens_per_s_per_gpu"] < rows[4]["tokens_per_s_per_gpu"] < rows[2]["tokens_per_s_per_gpu"]
    r = physics.decode(model("llama-3.1-70b"), gpu("a100"), 4, "bf16", 1, 512)
    assert rows[4]["step_ms"] == pytest.approx(r.step_ms, rel=1e-3)


def test_decode_batch_range_prints_the_curve(capsys):
    out = run_json(capsys, "decode", "--model", "llama-3.1-70b", "--gpu", "h100", "--gpus", "4", "--batch", "1..max")
    batches = [r["batch"] for r in out["rows"]]
    assert batches[0] == 1 and batches[-1] == out["max_batch"] and batches == sorted(batches)
    assert out["rows"][-1]["vs_first"] > 1.5


def test_serve_end_to_end_and_under_load(capsys):
    """Issue 12 item 7: end-to-end max-load tok/s is the engine's, and latency rises with load."""
    args = ["serve", "--model", "llama-3.1-70b", "--gpu", "h100", "--gpus", "2", "--stack", "full", "--tpot-ms", "60",
            "--input-tokens", "1000", "--output-tokens", "1000"]
    low = run_json(capsys, *args, "--load", "0.3")
    high = run_json(capsys, *args, "--load", "0.95", "--arrival-cv", "2")
    full = physics.max_load_throughput(model("llama-3.1-70b"), gpu("h100"), 2, "fp8", physics.FULL, 1000, 1000)
    assert low["output_tokens_per_s"] == pytest.approx(full.output_tokens_per_s, rel=1e-3)
    assert high["p95_ttft_ms"] > 10 * low["p95_ttft_ms"]
    assert low["p50_tpot_ms"] <= low["p95_tpot_ms"] < high["p95_tpot_ms"]


def test_serve_shows_the_prefix_cache_memory_it_sizes_the_batch_on(capsys):
    """Issue 12 leftovers item 2: `calc serve --cached-share` holds half of each cached prefix per
    running sequence (3,000 x 0.5 x 0.5 = 750 tokens) and its max batch is the engine's, smaller."""
    args = ["serve", "--model", "llama-3.1-70b", "--gpu", "h100", "--gpus", "2", "--stack", "full", "--tpot-ms", "60",
            "--input-tokens", "3000", "--output-tokens", "400"]
    cold = run_json(capsys, *args)
    warm = run_json(capsys, *args, "--cached-share", "0.5")
    assert cold["prefix_cache_tokens_per_sequence"] == 0 and warm["prefix_cache_tokens_per_sequence"] == pytest.approx(750)
    m, g = model("llama-3.1-70b"), gpu("h100")
    assert warm["max_batch"] == physics.max_batch(m, g, 2, "fp8", 3200, physics.FULL, 750) < cold["max_batch"]


def test_ladder_json(capsys):
    out = run_json(capsys, "ladder")
    assert [r["step"] for r in out["rows"]] == ["naive", *physics.TECHNIQUES]
    assert all({"step", "tokens_per_s", "multiplier"} <= set(r) for r in out["rows"])
    assert 15 <= out["overall_multiplier"] <= 17


def test_unit_economics_and_debt(capsys):
    assert run_json(capsys, "cost-per-token", "--gpu-hour", "2.48", "--tokens-per-s", "1000")[
        "usd_per_m_tokens"] == pytest.approx(0.69, rel=0.01)
    b = run_json(capsys, "breakeven", "--own-hourly", "1.10", "--rent-hourly", "2.50",
                 "--capex", "28000", "--wacc", "0.12", "--years", "3")
    assert b["breakeven_utilization"] == pytest.approx(0.59, rel=0.02)
    assert b["capital_charge_per_hour"] == pytest.approx(0.38, rel=0.02)
    d = run_json(capsys, "debt", "--principal", "1e9", "--rate", "0.08", "--years", "5", "--cfads", "4e8")
    assert d["year1_debt_service"] == 280e6 and d["dscr"] == pytest.approx(1.43, rel=0.01)
    assert d["cfads_decline_to_breach"] == pytest.approx(0.09, abs=0.005)
    c = run_json(capsys, "debt-capacity", "--cfads", "4e8", "--periods", "12", "--rate", "0.07", "--dscr", "1.5")
    assert c["debt_capacity"] == pytest.approx(finance.debt_capacity(4e8, 12, 0.07, 1.5), rel=1e-3)
    p = run_json(capsys, "power", "--gpus", "10000", "--watts", "700", "--usd-per-kwh", "0.10")
    assert p["usd_per_gpu_hour"] == pytest.approx(economics.power_cost_per_gpu_hour(700, 0.10))
    assert p["usd_per_year"] == pytest.approx(6.1e6, rel=0.02)


def test_readable_table_without_json(capsys):
    assert main(["calc", "debt", "--principal", "1e9", "--rate", "0.07", "--years", "12", "--cfads", "4e8"]) == 0
    out = capsys.readouterr().out
    assert "year1_debt_service" in out and "153,333,333" in out
    assert main(["calc", "ladder"]) == 0
    assert "speculative_decoding" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["decode", "--model", "gpt-5", "--gpu", "h100"], "--model"),
        (["decode", "--model", "llama-3.1-8b", "--gpu", "a100", "--precision", "fp8"], "FP8"),
        (["decode", "--model", "llama-3.1-405b", "--gpu", "h100", "--gpus", "4"], "--gpus"),
        (["decode", "--model", "llama-3.1-8b", "--gpu", "h100", "--batch", "-3"], "--batch -3"),
        (["serve", "--model", "llama-3.1-70b", "--gpu", "h100", "--tpot-ms", "2"], "TPOT"),
        (["serve", "--model", "llama-3.1-8b", "--gpu", "h100", "--tpot-ms", "60", "--input-tokens", "100"], "--output-tokens"),
        (["decode", "--model", "llama-3.1-8b", "--gpu", "h100", "--batch", "4..2"], "--batch 4..2"),
        (["decode", "--model", "llama-3.1-8b", "--gpu", "h100", "--batch", "1..x"], "--batch 1..x"),
        (["cost-per-token", "--gpu-hour", "2", "--tokens-per-s", "0"], "--tokens-per-s"),
        (["debt", "--principal", "1e9", "--rate", "8", "--years", "5", "--cfads", "4e8"], "--rate 8"),
        (["breakeven", "--own-hourly", "1", "--rent-hourly", "2", "--capex", "28000"], "--wacc"),
        (["power", "--gpus", "1", "--watts", "700", "--usd-per-kwh", "0.1", "--pue", "0.5"], "--pue"),
    ],
)
def test_user_errors_exit_2_with_a_message(capsys, argv, needle):
    assert main(["calc", *argv]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_console_script_runs():
    """The installed ``tycoon`` entry point (or ``python -m game.cli``) runs a calculator."""
    exe = Path(sys.executable).with_name("tycoon")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "game.cli"]
    proc = subprocess.run([*cmd, "calc", "cost-per-token", "--gpu-hour", "2.48", "--tokens-per-s", "5000", "--json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["usd_per_m_tokens"] == pytest.approx(0.14, rel=0.02)
