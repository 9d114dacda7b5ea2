"""Inference physics against published measurements and queueing theory (issue 12).

Calibration points: Splitwise's A100 tensor-parallel table (CALIBRATION 24) for the legacy stack,
the FP8 H100 max-load throughput table for the full stack. Held back to check the same
parameters: H100 tensor parallelism, batch curves, latency under load.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import physics as P
from engine.hardware import gpu
from engine.models import model

A100, H100 = gpu("a100"), gpu("h100")
L8, L70 = model("llama-3.1-8b"), model("llama-3.1-70b")
NO_SPEC = P.FULL.with_("speculative_decoding", False)


# --- item 1: tensor-parallel latency ------------------------------------------------------------


@pytest.mark.parametrize("n", sorted(P.SPLITWISE_TP_MS))
def test_calibration_24_splitwise_a100_tp_table_within_15_percent(n):
    """CALIBRATION 24: Llama2-70B BF16 on A100, batch 1, prompt 512: TP2 59.9, TP4 44.5, TP8 45.0 ms."""
    step = P.decode(L70, A100, n, "bf16", 1, 512, P.LEGACY).step_ms
    assert step == pytest.approx(P.SPLITWISE_TP_MS[n], rel=0.15)


@pytest.mark.parametrize("n", sorted(P.SPLITWISE_TP_MS))
def test_calibration_24_splitwise_fit_within_3_percent(n):
    """CALIBRATION 24 is a fitting point: the legacy A100 TP table within 3% with the batch-curve
    mechanism in place (serialized stock GEMMs add one row's math to each batch-1 step)."""
    step = P.decode(L70, A100, n, "bf16", 1, 512, P.LEGACY).step_ms
    assert step == pytest.approx(P.SPLITWISE_TP_MS[n], rel=0.03)


@pytest.mark.parametrize("g", [A100, H100], ids=["a100", "h100"])
def test_legacy_tp8_no_faster_than_0_9x_tp4_at_batch_1(g):
    """Issue 12: measured step times fall from TP2 to TP4 and then stop falling (H100 held back)."""
    s = {n: P.decode(L70, g, n, "bf16", 1, 512, P.LEGACY).step_ms for n in (2, 4, 8)}
    assert s[4] < s[2]
    assert s[8] >= 0.9 * s[4]


def test_ring_allreduce_latency_grows_with_ring_steps_and_one_shot_is_cheaper():
    """KB §7: an NCCL ring pays 2(n-1) hop latencies; the custom one-shot all-reduce one latency."""
    small = 16 * L70.d_model * P.ACTIVATION_BYTES
    ring = {n: P.allreduce_us(small, H100, n) for n in (2, 4, 8)}
    assert ring[8] - ring[4] == pytest.approx(8 * P.NVLINK_HOP_US, rel=0.05)  # 14 - 6 ring steps
    assert P.allreduce_us(small, H100, 8, one_shot=True) < ring[8] / 5
    big = 4096 * L70.d_model * P.ACTIVATION_BYTES  # large messages go round the ring even in the custom stack
    assert P.allreduce_us(big, H100, 8, one_shot=True) == P.allreduce_us(big, H100, 8)


def test_full_stack_keeps_buying_latency_with_tp_where_legacy_stops():
    """CUDA graphs and the one-shot all-reduce move the TP knee out (issue 12 item 1)."""
    full = {n: P.decode(L70, H100, n, "bf16", 1, 512, NO_SPEC).step_ms for n in (2, 4, 8)}
    assert full[8] < 0.8 * full[4] < 0.8 * full[2]


# --- item 2: GEMM efficiency by batch and the knee -------------------------------------------------


def test_gemm_efficiency_tile_quantization():
    """M below the tensor-core tile wastes it, and every GEMM pays a fill of up to
    GEMM_FILL_ROWS rows (F M / (M + F): skinny kernels' small tiles waste little):
    efficiency = peak share x M / (padded M + fill). Legacy, M = 1: 0.5 / (16 + 64/65)."""
    legacy, full = P.serving_params(P.LEGACY), P.serving_params(P.FULL)
    fill = P.GEMM_FILL_ROWS
    assert P.gemm_efficiency(1, legacy) == pytest.approx(legacy.compute_efficiency / (legacy.gemm_tile + fill / (1 + fill)))
    tile = legacy.gemm_tile
    assert P.gemm_efficiency(tile, legacy) == pytest.approx(legacy.compute_efficiency * tile / (tile + fill * tile / (tile + fill)))
    assert P.gemm_efficiency(legacy.gemm_tile + 1, legacy) < P.gemm_efficiency(legacy.gemm_tile, legacy)
    # a few hundred rows (70B at max load) still lose ~a fifth; thousands (8B) almost nothing
    assert 0.75 < P.gemm_efficiency(256, full) / full.compute_efficiency < 0.85
    assert P.gemm_efficiency(4096, full) / full.compute_efficiency > 0.98
    assert P.gemm_efficiency(8, full) > P.gemm_efficiency(8, legacy) / legacy.compute_efficiency * full.compute_efficiency - 1e-12


def test_batch_curve_is_flat_then_bends_at_the_knee():
    """Issue 12 item 2: 70B TP4 legacy on H100, the batch curve stays flat while weight reads bind and
    bends once the GEMMs turn compute-bound; throughput per step still grows by tens of times."""
    cap = P.max_batch(L70, H100, 4, "bf16", 1024, P.LEGACY)
    curve = {b: P.decode(L70, H100, 4, "bf16", b, 1024, P.LEGACY) for b in (1, 16, 32, 64, 128, 256, cap)}
    assert curve[32].step_ms < 1.1 * curve[1].step_ms  # flat: weight reads bind
    slope_low = (curve[64].step_ms - curve[1].step_ms) / 63
    slope_high = (curve[cap].step_ms - curve[256].step_ms) / (cap - 256)
    assert slope_high > 1.5 * slope_low  # the knee (softened by the GEMM fill rows, which cost before it too)
    assert curve[64].bound == "memory" and curve[cap].bound == "compute"
    assert curve[cap].step_ms > 1.8 * curve[1].step_ms
    assert curve[64].tokens_per_s > 40 * curve[1].tokens_per_s  # CALIBRATION 3 still holds at 64


def test_serialized_stock_gemm_worked_example():
    """Issue 12: 70B BF16 on 4 x A100, legacy stack, batch 64. Stock GEMMs on Ampere stream the
    weights, then multiply: 141.2 GB / (4 x 2.039 TB/s x 0.82) = 21.11 ms of weight reads plus
    2 x 70.6e9 x 64 FLOPs / (4 x 312 TFLOPS x 0.22) = 32.91 ms of math = 54.0 ms. On H100s (TMA and
    wgmma) and with custom kernels, loads hide under math as before."""
    legacy = P.serving_params(P.LEGACY)
    assert P.serialized_gemm(A100, legacy)
    assert not P.serialized_gemm(H100, legacy)
    assert not P.serialized_gemm(A100, P.serving_params(P.FULL))
    w_mem, w_cmp = P.gemm_ms(L70, A100, 4, "bf16", 64, legacy)
    assert w_mem == pytest.approx(141.2e9 / (4 * 2.039e12 * 0.82) * 1e3, rel=1e-3)
    assert w_cmp == pytest.approx(2 * 70.6e9 * 64 / (4 * 312e12 * P.SYNC_MMA_EFFICIENCY) * 1e3, rel=1e-3)
    r = P.decode(L70, A100, 4, "bf16", 64, 512, P.LEGACY)
    assert r.gemm_ms == pytest.approx(w_mem + w_cmp) == pytest.approx(54.0, abs=0.1)
    h_mem, h_cmp = P.gemm_ms(L70, H100, 4, "bf16", 64, legacy)
    assert P.decode(L70, H100, 4, "bf16", 64, 512, P.LEGACY).gemm_ms < h_mem + h_cmp


@pytest.mark.parametrize("context", [256, 512, 1024])
def test_legacy_batch_64_costs_about_1_8x_batch_1_on_a100(context):
    """Issue 12: measured, a 2023 stack runs 70B TP4 ~1.8x slower per step at batch 64 than at
    batch 1 (stock GEMMs far below tensor-core peak at small M); the full stack stays well under."""
    legacy = P.batch_curve(L70, A100, 4, "bf16", context, P.LEGACY, 1, 64)
    assert [r.batch for r in legacy] == [1, 2, 4, 8, 16, 32, 64]
    assert 1.6 <= legacy[-1].step_ms / legacy[0].step_ms <= 2.0
    full = P.batch_curve(L70, A100, 4, "bf16", context, NO_SPEC, 1, 64)
    assert full[-1].step_ms / full[0].step_ms < 1.5  # CALIBRATION 3: well under 2x
    # still tens of times the tokens per step (CALIBRATION 3's "tens of times")
    assert legacy[-1].tokens_per_s > 30 * legacy[0].tokens_per_s


def test_batch_points_are_the_ends_and_powers_of_two():
    assert P.batch_points(1, 64) == [1, 2, 4, 8, 16, 32, 64]
    assert P.batch_points(3, 100) == [3, 4, 8, 16, 32, 64, 100]
    assert P.batch_points(5, 5) == [5]
    with pytest.raises(P.PhysicsError):
        P.batch_points(0, 4)
    with pytest.raises(P.PhysicsError, match="at most"):
        P.batch_curve(L70, A100, 4, "bf16", 512, P.LEGACY, 1, 10**6)


@settings(max_examples=60, deadline=None)
@given(
    mid=st.sampled_from(["llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b", "mixtral-8x7b"]),
    gid=st.sampled_from(["a100", "h100"]),
    preset=st.sampled_from(["legacy", "full"]),
    wider=st.booleans(),
    context=st.integers(64, 4096),
    batches=st.sets(st.sampled_from([1, 8, *range(16, 1025, 16)]), min_size=2, max_size=8),
)
def test_batch_curves_are_monotone(mid, gid, preset, wider, context, batches):
    """Issue 12 held-back shape: on every GPU and stack, a bigger batch never steps faster per token
    and always serves more tokens/s (at tile-aligned batches: between them tile quantization saws).
    The full stack's speculative gate shortens drafts as the batch grows, so its verify step may
    shorten; its time per output token may not."""
    m, g, stack = model(mid), gpu(gid), P.PRESETS[preset]
    precision = P.default_precision(stack, g)
    n = P.gpus_per_replica(m, g, precision, stack) * (2 if wider else 1)
    cap = P.max_batch(m, g, n, precision, context, stack)
    curve = [P.decode(m, g, n, precision, b, context, stack) for b in sorted(batches) if b <= cap]
    for a, b in zip(curve, curve[1:]):
        assert b.tpot_ms >= a.tpot_ms - 1e-9
        assert b.tokens_per_s > a.tokens_per_s
        if not stack.speculative_decoding:
            assert b.step_ms >= a.step_ms - 1e-9


# --- item 7: step time and end-to-end throughput against the published table ----------------------


@pytest.mark.parametrize("mid, n, i, o, measured", P.MAX_LOAD_MEASUREMENTS)
def test_max_load_throughput_table_within_15_percent(mid, n, i, o, measured):
    """Issue 12: published FP8 max-load output tok/s on H100 (no latency target), full stack."""
    r = P.max_load_throughput(model(mid), H100, n, "fp8", P.FULL, i, o)
    assert r.output_tokens_per_s == pytest.approx(measured, rel=0.15)


def test_gemms_and_attention_add_up():
    """Issue 12 item 7: attention is a kernel of its own after the GEMMs, not hidden under them."""
    r = P.decode(L70, H100, 2, "fp8", 200, 2048, NO_SPEC)
    assert r.step_ms == pytest.approx(r.gemm_ms + r.attention_ms + r.comm_ms + r.overhead_ms + r.draft_ms)
    assert r.attention_ms > 0.2 * r.step_ms


def test_prefill_heavy_requests_are_prefill_bound_at_max_load():
    """2,048 in / 128 out on 70B: most replica time goes to prompts."""
    r = P.max_load_throughput(L70, H100, 2, "fp8", P.FULL, 2048, 128)
    assert r.prefill_share > 0.7


# --- items 5, 6: speculative decoding under load ---------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    mid=st.sampled_from(["llama-3.1-8b", "llama-3.1-70b"]),
    batch=st.integers(1, 400),
    context=st.integers(64, 4096),
)
def test_speculative_decoding_never_lowers_throughput(mid, batch, context):
    """Issue 12 item 5: the gate drafts only where it helps, so throughput never falls."""
    m = model(mid)
    n = 1 if mid == "llama-3.1-8b" else 2
    cap = P.max_batch(m, H100, n, "fp8", context, P.FULL)
    b = max(1, min(batch, cap))
    on = P.decode(m, H100, n, "fp8", b, context, P.FULL)
    off = P.decode(m, H100, n, "fp8", b, context, NO_SPEC)
    assert on.tokens_per_s >= off.tokens_per_s * (1 - 1e-9)


def test_speculative_decoding_crossover():
    """CALIBRATION 7: faster at low batch, slower at high batch when forced on; the gate switches at
    the crossover the calculator shows."""
    cross = P.speculative_crossover(L70, H100, 2, "fp8", 1024)
    assert cross is not None and 8 < cross < P.max_batch(L70, H100, 2, "fp8", 1024, P.FULL)
    assert P.decode(L70, H100, 2, "fp8", cross - 1, 1024, P.FULL).speculative
    assert not P.decode(L70, H100, 2, "fp8", cross, 1024, P.FULL).speculative
    low, high = 4, 2 * cross
    forced = {b: P.decode(L70, H100, 2, "fp8", b, 1024, P.FULL, gate=False).tokens_per_s for b in (low, high)}
    plain = {b: P.decode(L70, H100, 2, "fp8", b, 1024, NO_SPEC).tokens_per_s for b in (low, high)}
    assert forced[low] > 1.5 * plain[low]
    assert forced[high] < plain[high]


# --- item 6: latency under load ---------------------------------------------------------------------


def test_gg1_wait_quantile_is_exact_for_mm1():
    """Queueing theory: in M/M/1 (ca = cs = 1) P(W > t) = rho exp(-(1 - rho) t / S), so the 95th
    percentile is S / (1 - rho) ln(rho / 0.05)."""
    s, rho = 100.0, 0.8
    assert P.queue_wait_quantile_ms(rho, s, 1.0, 0.95, service_cv2=1.0) == pytest.approx(s / (1 - rho) * math.log(rho / 0.05))
    assert P.queue_wait_quantile_ms(0.04, s, 1.0, 0.95) == 0.0  # 96% never wait
    t = P.queue_wait_quantile_ms(rho, s, 1.0, 0.95, service_cv2=1.0)
    assert P.queue_wait_exceeds(rho, s, 1.0, t, service_cv2=1.0) == pytest.approx(0.05)


def test_p95_ttft_rises_without_a_cap_as_load_approaches_one_and_with_burstiness():
    """Issue 12 item 6: no ceiling near saturation; burstier arrivals wait longer."""
    loads = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)
    ttft = [P.latency_under_load(L70, H100, 2, "fp8", P.FULL, 1000, 300, x).p95_ttft_ms for x in loads]
    assert all(b > a for a, b in zip(ttft, ttft[1:]))
    assert ttft[-1] > 100 * ttft[0]
    assert ttft[-1] > 1_437 * 10  # the old model's ceiling, many times over
    bursty = P.latency_under_load(L70, H100, 2, "fp8", P.FULL, 1000, 300, 0.8, arrival_cv=3.0)
    poisson = P.latency_under_load(L70, H100, 2, "fp8", P.FULL, 1000, 300, 0.8, arrival_cv=1.0)
    assert bursty.p95_ttft_ms > 3 * poisson.p95_ttft_ms
    assert P.latency_under_load(L70, H100, 2, "fp8", P.FULL, 1000, 300, 1.0).saturated


def test_batch_follows_littles_law():
    """B = arrival rate x output tokens x TPOT."""
    r = P.latency_under_load(L70, H100, 2, "fp8", P.FULL, 1000, 300, 0.7)
    assert r.batch == pytest.approx(r.requests_per_s * 300 * r.mean_tpot_ms / 1e3, rel=0.1)


def test_tpot_miss_when_prefill_heavy_traffic_saturates_a_replica():
    """Issue 12 item 6: prompts co-batched with decode stretch TPOT past a target decode alone meets."""
    target = 30.0
    light = P.latency_under_load(L70, H100, 2, "fp8", P.FULL, 4000, 50, 0.05)
    heavy = P.latency_under_load(L70, H100, 2, "fp8", P.FULL, 4000, 50, 0.95)
    assert light.p95_tpot_ms < target and heavy.step_ms < target  # decode alone is fast enough
    assert heavy.p95_tpot_ms > target and heavy.prefill_share > 0.5
    assert heavy.p95_itl_ms > heavy.p95_tpot_ms  # single gaps with a chunk are longer still


def test_bigger_prefill_chunks_cut_ttft_and_raise_tpot():
    """The chunk size trades TTFT (fewer steps per prompt) against TPOT (longer steps)."""
    small = P.latency_under_load(L70, H100, 2, "fp8", P.FULL, 4000, 300, 0.6, chunk_tokens=256)
    big = P.latency_under_load(L70, H100, 2, "fp8", P.FULL, 4000, 300, 0.6, chunk_tokens=2048)
    assert big.prefill_latency_ms < small.prefill_latency_ms
    assert big.p95_itl_ms > small.p95_itl_ms


# --- item 4: prefix caching ----------------------------------------------------------------------


def test_prefix_cache_hits_skip_prefill():
    """KB §15: cached input tokens skip prefill compute: more requests per second, faster first token."""
    cold = P.max_load_throughput(L70, H100, 2, "fp8", P.FULL, 3000, 300, 0.0)
    warm = P.max_load_throughput(L70, H100, 2, "fp8", P.FULL, 3000, 300, 0.5)
    assert warm.requests_per_s > 1.3 * cold.requests_per_s
    lat_cold = P.latency_under_load(L70, H100, 2, "fp8", P.FULL, 3000, 300, 0.3, cached_share=0.0)
    lat_warm = P.latency_under_load(L70, H100, 2, "fp8", P.FULL, 3000, 300, 0.3, cached_share=0.5)
    assert lat_warm.prefill_latency_ms < 0.7 * lat_cold.prefill_latency_ms


def test_prefix_cache_costs_hbm_worked_example():
    """KB §15 "Why not always cache?": cached prefixes occupy KV memory (issue 12 leftovers item 2).

    70B FP8 on 2 x H100, legacy stack + FP8 (4% paged waste), enterprise traffic: 3,000-token
    prompts, half of them cached, 400 out (mean context 3,200). HBM after the 5% reserve:
    152 GB - 70.6 GB of weights = 81.4 GB / 163,840 B per token = 496,826 tokens x 0.96 = 476,953.
    Without the cache: 476,953 // 3,200 = 149 sequences. The cache keeps 0.5 (residence) x 0.5 x
    3,000 = 750 idle prefix tokens per sequence: 476,953 // 3,950 = 120 sequences.
    """
    stack = P.LEGACY.with_("fp8")
    held = P.prefix_cache_tokens(3000, 0.5)
    assert held == pytest.approx(P.PREFIX_RESIDENCE * 0.5 * 3000) == pytest.approx(750)
    free_tokens = (2 * 80e9 * 0.95 - 70.6e9) / 163_840 * 0.96
    assert P.max_batch(L70, H100, 2, "fp8", 3200, stack) == int(free_tokens // 3200) == 149
    assert P.max_batch(L70, H100, 2, "fp8", 3200, stack, held) == int(free_tokens // 3950) == 120
    # the serving calculators size on the smaller cap: max load's batch, the TPOT-bound batch's memory cap
    cold = P.max_load_throughput(L70, H100, 2, "fp8", stack, 3000, 400, 0.0)
    warm = P.max_load_throughput(L70, H100, 2, "fp8", stack, 3000, 400, 0.5)
    assert cold.batch == 149 and warm.batch == 120
    assert P.serve_under_tpot(L70, H100, 2, "fp8", stack, 3200, 500, cache_tokens=held).memory_max_batch == 120
    # still worth it when prompts dominate: skipped prefill outweighs the smaller batch (KB §15)
    assert warm.output_tokens_per_s > cold.output_tokens_per_s


@given(st.floats(0.0, 1.0), st.integers(100, 8000))
@settings(max_examples=40, deadline=None)
def test_prefix_cache_never_grows_the_batch(hit, prompt):
    """A higher hit rate holds more prefix KV: the memory cap on the batch never rises with it."""
    stack = P.FULL
    lo = P.max_batch(L8, H100, 1, "fp8", 2000, stack, P.prefix_cache_tokens(prompt, hit))
    hi = P.max_batch(L8, H100, 1, "fp8", 2000, stack, P.prefix_cache_tokens(prompt, min(1.0, hit + 0.1)))
    assert hi <= lo <= P.max_batch(L8, H100, 1, "fp8", 2000, stack)


# --- item 3: disaggregation --------------------------------------------------------------------


def test_kv_transfer_over_nvlink_beats_infiniband():
    """KB §7: 1,000 tokens of 70B FP8 KV (164 MB) over NVLink vs 400 Gb/s InfiniBand."""
    nv = P.kv_transfer_ms(L70, H100, 2, "fp8", 1000)
    ib = P.kv_transfer_ms(L70, H100, 2, "fp8", 1000, same_domain=False)
    assert nv == pytest.approx(1000 * 163_840 / (2 * 450e9) * 1e3)
    assert ib == pytest.approx(nv * 450 / 50)


def test_disaggregation_raises_goodput_under_a_tight_ttft_sla():
    """Splitwise/DistServe: under tight TTFT and TPOT SLAs separate pools serve more per GPU; with
    loose SLAs colocated serving is as good or better (the split costs GPUs)."""
    tight = P.disaggregation(L70, H100, 2, "fp8", P.FULL, 1000, 300, ttft_sla_ms=250, tpot_sla_ms=30)
    loose = P.disaggregation(L70, H100, 2, "fp8", P.FULL, 1000, 300, ttft_sla_ms=5000, tpot_sla_ms=60)
    assert tight.disaggregated_goodput_rps_per_gpu > 1.15 * tight.colocated_goodput_rps_per_gpu
    assert loose.disaggregated_goodput_rps_per_gpu < loose.colocated_goodput_rps_per_gpu
    assert tight.disaggregated_p95_ttft_ms <= 250 * 1.001
    assert 0 < tight.prefill_gpu_share < 1
