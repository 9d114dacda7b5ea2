"""Inference physics against CALIBRATION.md items 1-8 and the consequences of issue 3."""

from __future__ import annotations

import pytest

from engine import physics as P
from engine.hardware import GPUS, gpu
from engine.models import MODELS, model

H100 = gpu("h100")
L8, L70, L405 = model("llama-3.1-8b"), model("llama-3.1-70b"), model("llama-3.1-405b")
KIB = 1024


# --- Models table (CALIBRATION "Models") ---------------------------------------------------


@pytest.mark.parametrize("mid, kib", [("llama-3.1-8b", 128), ("llama-3.1-70b", 320), ("llama-3.1-405b", 504)])
def test_models_kv_bytes_per_token_bf16(mid, kib):
    """CALIBRATION "Models": KV bytes/token at BF16 = 2 x layers x kv_heads x head_dim x 2."""
    assert P.kv_bytes_per_token(model(mid), "bf16") == kib * KIB


def test_models_moe_reads_active_experts_only():
    """CALIBRATION "Models": an MoE holds all experts but a token reads only the active ones."""
    mix = model("mixtral-8x7b")
    assert P.weight_bytes(mix, "bf16") == pytest.approx(93.4e9)
    assert P.weight_bytes_read(mix, "bf16", 1) == pytest.approx(2 * 12.9e9)
    # expected coverage E(1 - (1 - k/E)^B): a big batch touches every expert
    assert P.experts_touched(mix, 64) == pytest.approx(8, rel=1e-3)
    assert P.weight_bytes_read(mix, "bf16", 64) == pytest.approx(P.weight_bytes(mix, "bf16"), rel=1e-3)


def test_models_deepseek_mla_kv_is_small():
    """DeepSeek-V3's MLA caches a 576-value latent per layer: ~69 KiB/token at BF16."""
    assert P.kv_bytes_per_token(model("deepseek-v3"), "bf16") == 61 * 576 * 2


# --- Item 1: weight-read floor --------------------------------------------------------------


def _floor_ms(m, precision, g=H100):
    return P.weight_bytes(m, precision) / (g.hbm_tb_s * 1e12) * 1e3


def test_item1_weight_read_floor():
    """CALIBRATION 1: 8B BF16 on H100 ~4.8 ms; 70B BF16 ~42 ms (~24 tok/s); FP8 halves both."""
    assert _floor_ms(L8, "bf16") == pytest.approx(4.8, rel=0.02)
    assert _floor_ms(L70, "bf16") == pytest.approx(42, rel=0.02)
    assert 1e3 / _floor_ms(L70, "bf16") == pytest.approx(24, rel=0.02)
    assert _floor_ms(L70, "fp8") == pytest.approx(_floor_ms(L70, "bf16") / 2)
    # the decode model sits above the floor, never below it
    assert P.decode(L70, H100, 2, "bf16", 1, 128, P.FULL.with_("speculative_decoding", False)).step_ms > 42 / 2


# --- Item 2: real serving is slower; tensor parallelism buys memory, not speed ------------------


def test_item2_real_step_above_floor_with_overhead():
    """CALIBRATION 2: 70-85% of spec bandwidth, ~10 ms overhead (2023 stack) vs 1-3 ms tuned."""
    legacy = P.serving_params(P.LEGACY)
    tuned = P.serving_params(P.LEGACY.with_("custom_kernels"))
    assert 0.7 <= legacy.mem_efficiency <= 0.85 and 0.7 <= tuned.mem_efficiency <= 0.85
    assert legacy.fixed_overhead_ms == pytest.approx(10)
    assert 1 <= tuned.fixed_overhead_ms <= 3
    one = P.decode(L8, H100, 1, "bf16", 1, 512, P.LEGACY)
    assert one.step_ms > _floor_ms(L8, "bf16") / 0.85 + 9


def test_item2_tensor_parallel_beyond_two_barely_cuts_step_time():
    """CALIBRATION 2 consequence: past 2 GPUs, more GPUs barely lower per-token latency."""
    s8 = {n: P.decode(L8, H100, n, "bf16", 16, 1024).step_ms for n in (1, 2, 4, 8)}
    assert s8[4] > 0.85 * s8[2] and s8[8] > 0.85 * s8[2]
    s70 = {n: P.decode(L70, H100, n, "bf16", 16, 1024) for n in (2, 4, 8)}
    assert s70[8].step_ms > 0.5 * s70[2].step_ms  # 4x the GPUs, not even 2x faster
    assert s70[8].step_ms > 0.75 * s70[4].step_ms  # the second doubling buys < 25%
    # per-GPU throughput falls: TP buys memory (batch slots), not speed
    assert s70[8].tokens_per_s_per_gpu < s70[4].tokens_per_s_per_gpu < s70[2].tokens_per_s_per_gpu
    assert s70[8].max_batch > 10 * s70[2].max_batch
    assert P.tp_comm_ms(L70, H100, 8, 16) > P.tp_comm_ms(L70, H100, 2, 16) > P.tp_comm_ms(L70, H100, 1, 16) == 0


def test_item2_infiniband_across_nodes_costs_more_than_nvlink():
    """KB §7: crossing the NVLink domain puts every all-reduce on 400 Gb/s InfiniBand."""
    assert P.allreduce_us(1e6, H100, 16) > 2 * P.allreduce_us(1e6, H100, 8)
    gb = gpu("gb200")  # NVL72: 16 GPUs still inside one NVLink domain
    assert P.allreduce_us(1e6, gb, 16) < P.allreduce_us(1e6, H100, 16)


# --- Item 3: batching amortizes weight reads ------------------------------------------------


@pytest.mark.parametrize("m, n", [(L8, 1), (L70, 4)])
def test_item3_batch_64_costs_well_under_2x(m, n):
    """CALIBRATION 3 (KB §16): 64x the batch costs well under 2x the step time."""
    b1 = P.decode(m, H100, n, "bf16", 1, 1024, P.LEGACY)
    b64 = P.decode(m, H100, n, "bf16", 64, 1024, P.LEGACY)
    assert b64.step_ms < 1.5 * b1.step_ms
    assert b64.tokens_per_s > 40 * b1.tokens_per_s


def test_item3_compute_or_kv_binds_eventually():
    """CALIBRATION 3: throughput rises until KV reads or compute bind."""
    big = P.decode(L8, H100, 1, "fp8", 512, 256, P.LEGACY)
    assert big.bound == "compute"
    assert P.decode(L8, H100, 1, "fp8", 1, 256, P.LEGACY).bound == "memory"


# --- Item 4: prefill MFU ----------------------------------------------------------------------


@pytest.mark.parametrize("m, n", [(L8, 1), (L70, 2)])
@pytest.mark.parametrize("stack", [P.LEGACY, P.FULL])
def test_item4_prefill_is_compute_bound_at_35_to_65_percent_mfu(m, n, stack):
    """CALIBRATION 4: prefill runs at 35-65% of peak FLOPS."""
    precision = P.default_precision(stack, H100)
    r = P.prefill(m, H100, n, precision, 4096, stack)
    assert 0.35 <= r.mfu <= 0.65


def test_item4_flash_attention_speeds_prefill_2_to_4x():
    """KB §17 layer 3: FlashAttention makes prefill 2-4x faster."""
    eager = P.prefill(L70, H100, 2, "bf16", 8192, P.LEGACY.with_("flash_attention", False)).prefill_ms
    flash = P.prefill(L70, H100, 2, "bf16", 8192, P.LEGACY).prefill_ms
    assert 2 <= eager / flash <= 4


# --- Item 5: memory caps batch; FP8 raises capacity -------------------------------------------


def test_item5_70b_bf16_on_two_h100_leaves_almost_no_kv_room():
    """CALIBRATION 5: 70B BF16 on 2 x H100 leaves almost no KV room; FP8 frees ~70 GB."""
    free_bf16 = P.usable_hbm_bytes(H100, 2) - P.weight_bytes(L70, "bf16")
    free_fp8 = P.usable_hbm_bytes(H100, 2) - P.weight_bytes(L70, "fp8")
    assert free_bf16 < 0.1 * 160e9
    assert free_fp8 - free_bf16 == pytest.approx(70.6e9, rel=0.02)


def test_item5_fp8_raises_kv_capacity_and_can_halve_gpus_per_replica():
    """CALIBRATION 5 consequence: FP8 raises KV-token capacity and halves GPUs per replica."""
    assert P.kv_token_capacity(L70, H100, 2, "fp8") > 10 * P.kv_token_capacity(L70, H100, 2, "bf16")
    assert P.gpus_per_replica(L70, H100, "bf16") == 2
    assert P.gpus_per_replica(L70, H100, "fp8") == 1
    assert P.gpus_per_replica(L405, H100, "fp8") * 2 == P.gpus_per_replica(L405, H100, "bf16")


def test_item5_impossible_configs_are_clear_errors():
    """Issue 3: weights that do not fit, FP8 on an A100, FP4 before Blackwell: PhysicsError."""
    with pytest.raises(P.PhysicsError, match=r"812 GB.*--gpus"):
        P.decode(L405, H100, 4, "bf16", 1, 1024)
    with pytest.raises(P.PhysicsError, match="FP8.*Hopper"):
        P.decode(L8, gpu("a100"), 1, "fp8", 1, 1024)
    with pytest.raises(P.PhysicsError, match="FP4.*Blackwell"):
        P.check_precision(H100, "fp4")
    with pytest.raises(P.PhysicsError, match="--batch"):
        P.decode(L70, H100, 2, "bf16", 500, 1024)
    P.check_precision(gpu("b200"), "fp4")


# --- Item 6: the KB §17 ladder -----------------------------------------------------------------


def test_item6_ladder_lands_within_1_5x_of_every_kb_step_and_15_to_17x_overall():
    """CALIBRATION 6 / KB §17: each step within x1.5 of the KB; 15-17x overall."""
    rows = P.ladder()
    assert [r.step for r in rows] == ["naive", *P.TECHNIQUES]
    for r in rows:
        assert r.kb_tokens_per_s / 1.5 <= r.tokens_per_s <= r.kb_tokens_per_s * 1.5, r
    assert 15 <= rows[-1].cumulative <= 17
    assert all(r.multiplier > 1.05 for r in rows[1:])


@pytest.mark.parametrize("technique", P.TECHNIQUES)
def test_item6_each_technique_changes_only_its_own_parameter(technique):
    """CALIBRATION 6: each step comes from the parameter it changes (one toggle at a time)."""
    base = P.serving_params(P.NAIVE)
    changed = {
        f for f in base.__dataclass_fields__
        if getattr(P.serving_params(P.NAIVE.with_(technique)), f) != getattr(base, f)
    }
    expected = {
        "continuous_batching": {"slot_utilization"},
        "paged_attention": {"kv_waste"},
        "flash_attention": {"attention_efficiency", "prefill_mfu"},
        "fp8": set(),  # precision: bytes and FLOPS (see default_precision)
        "custom_kernels": {  # issue 12: CUDA graphs, skinny-M GEMMs, the one-shot all-reduce
            "mem_efficiency", "compute_efficiency", "fixed_overhead_ms", "layer_overhead_us", "gemm_tile",
            "gemm_overlap", "one_shot_allreduce", "pipelined_gemm",
        },
        "speculative_decoding": {"draft_tokens"},
    }[technique]
    assert changed == expected
    if technique == "fp8":
        assert P.default_precision(P.NAIVE.with_("fp8"), H100) == "fp8"
        assert P.default_precision(P.NAIVE.with_("fp8"), gpu("a100")) == "bf16"


@pytest.mark.parametrize("technique", P.TECHNIQUES)
def test_item6_removing_one_technique_from_full_lowers_ladder_throughput(technique):
    """CALIBRATION 6: toggling one technique off the full stack never helps on the reference.

    Paged and flash attention stop mattering once FP8 frees the memory and speculative verify
    makes the step compute-bound: the physics says so, and so does the test.
    """
    m, g = model(P.LADDER_MODEL), gpu(P.LADDER_GPU)
    args = (P.LADDER_CONTEXT, P.LADDER_TPOT_MS, P.LADDER_CONCURRENCY)
    full = P.system_throughput(m, g, P.LADDER_GPUS, P.FULL, *args)[0]
    without = P.system_throughput(m, g, P.LADDER_GPUS, P.FULL.with_(technique, False), *args)[0]
    assert without <= full
    if technique not in {"paged_attention", "flash_attention"}:
        assert without < 0.95 * full


# --- Item 7: speculative decoding ---------------------------------------------------------------


def test_item7_speculative_decoding_helps_at_low_load_not_at_saturation():
    """CALIBRATION 7: speculative decoding helps at low load and not near saturation."""
    off = P.FULL.with_("speculative_decoding", False)
    low = (P.decode(L70, H100, 2, "fp8", 4, 1024, P.FULL).tokens_per_s
           / P.decode(L70, H100, 2, "fp8", 4, 1024, off).tokens_per_s)
    sat = (P.decode(L70, H100, 2, "fp8", 400, 512, P.FULL).tokens_per_s
           / P.decode(L70, H100, 2, "fp8", 400, 512, off).tokens_per_s)
    assert low > 1.5
    assert sat <= 1.0
    assert P.tokens_per_step(4, 0.6) == pytest.approx((1 - 0.6**5) / 0.4)


# --- Item 8: latency bands ----------------------------------------------------------------------


@pytest.mark.parametrize("stack", [P.LEGACY, P.FULL])
def test_item8_ttft_short_prompt_bands(stack):
    """CALIBRATION 8 (KB §11): TTFT short prompt 8B 50-200 ms, 70B 200-800 ms (legacy stack).

    The KB's bands are typical (median) TTFTs; ttft_ms is a quantile of a G/G/1 queue since issue 12.
    """
    p = P.default_precision(stack, H100)
    assert 50 <= P.ttft_ms(L8, H100, 1, p, stack, 1000, load=0.5, quantile=0.5) <= 200
    if stack is P.LEGACY:
        assert 200 <= P.ttft_ms(L70, H100, 2, p, stack, 1000, load=0.5, quantile=0.5) <= 800


def test_item8_ttft_100k_context_on_70b():
    """CALIBRATION 8: a 100K-token prompt on 70B takes 2-10 s (8 x H100, idle queue)."""
    assert 2_000 <= P.ttft_ms(L70, H100, 8, "bf16", P.LEGACY, 100_000, load=0.0) <= 10_000


def test_item8_tpot_bands():
    """CALIBRATION 8: TPOT 8B 10-20 ms, 70B 30-60 ms at a moderate batch; real-time < 60 ms."""
    assert 10 <= P.decode(L8, H100, 1, "bf16", 32, 1024, P.LEGACY).tpot_ms <= 20
    assert 30 <= P.decode(L70, H100, 2, "bf16", 16, 1024, P.LEGACY).tpot_ms <= 60


# --- Serving under a latency target ---------------------------------------------------------


def test_tighter_tpot_target_lowers_throughput():
    """DESIGN "Inference physics": a latency SLA caps B; the player trades latency for throughput."""
    loose = P.serve_under_tpot(L70, H100, 2, "fp8", P.LEGACY, 1024, 60)
    tight = P.serve_under_tpot(L70, H100, 2, "fp8", P.LEGACY, 1024, 30)
    assert tight.max_batch < loose.max_batch
    assert tight.tokens_per_s < loose.tokens_per_s
    assert tight.tpot_ms <= 30 < loose.tpot_ms <= 60
    with pytest.raises(P.PhysicsError, match="TPOT target"):
        P.serve_under_tpot(L70, H100, 2, "bf16", P.LEGACY, 1024, 5)


def test_serve_batch_is_the_largest_under_target():
    r = P.serve_under_tpot(L8, H100, 1, "bf16", P.LEGACY, 1024, 25)
    assert P.decode(L8, H100, 1, "bf16", r.max_batch, 1024).tpot_ms <= 25
    if r.max_batch < r.memory_max_batch:
        assert P.decode(L8, H100, 1, "bf16", r.max_batch + 1, 1024).tpot_ms > 25


# --- Power and the capacity table ---------------------------------------------------------


def test_power_per_gpu_by_phase():
    """Power as a share of TDP: idle < decode < prefill <= TDP."""
    w = {ph: P.power_per_gpu_w(H100, ph) for ph in ("idle", "decode", "prefill")}
    assert w["idle"] < w["decode"] < w["prefill"] <= H100.tdp_w
    with pytest.raises(P.PhysicsError):
        P.power_per_gpu_w(H100, "sleep")


def test_capacity_table_covers_everything_and_is_consistent():
    rows = P.capacity_table(gpu_counts=(1, 2, 8))
    assert len(rows) == len(MODELS) * len(GPUS) * 3 * 3 * 3
    ok = {(r.model, r.gpu, r.precision, r.stack, r.gpus): r for r in rows if r.feasible}
    assert ("llama-3.1-8b", "h100", "bf16", "legacy", 1) in ok
    assert ("llama-3.1-8b", "a100", "fp8", "legacy", 1) not in ok
    assert ("llama-3.1-405b", "h100", "bf16", "full", 8) not in ok
    # the full stack beats naive wherever both run
    for key, r in ok.items():
        naive = ok.get((*key[:3], "naive", key[4]))
        if key[3] == "full" and naive:
            assert r.tokens_per_s > naive.tokens_per_s
