"""Inference physics: a roofline model of LLM serving (DESIGN.md "Inference physics").

One decode step of a replica of ``n`` GPUs (tensor parallel) at batch ``B`` and mean context ``C``::

    step_ms = gemm_ms + attention_ms + comm_ms + overhead_ms (+ draft passes)
    gemm_ms      = max(weight bytes / (n * hbm * mem_efficiency),
                       2 * active_params * B / (n * tflops * gemm_efficiency(B)))   tile-quantized M + fill
                   (stock kernels on Ampere: weight bytes / bw + math, one after the other)
    attention_ms = max(B*C*kv_bytes / (n * hbm * mem_efficiency * attention_efficiency), attention flops)
    comm_ms      = layers * 2 all-reduces: latency per ring step (NCCL) or one shot (custom) + bytes
    overhead_ms  = per step + per layer (kernel launches on every GPU: they do not shrink with n)

GEMMs and attention run one after the other (separate kernels), so their times add (issue 12).
The legacy preset is calibrated on Splitwise's A100 tensor-parallel table (CALIBRATION 24) and
the measured ~1.8x legacy batch curve (70B TP4, batch 1 to 64, on A100s: ``SYNC_MMA_EFFICIENCY``),
the full stack on published FP8 max-load throughput (``MAX_LOAD_MEASUREMENTS``); H100 TP and batch
curves are held back to check the same parameters.

Every number a student sees comes from these few functions, each small enough to check with a
calculator (KB §9, §10, §11, §16, §17; CALIBRATION.md items 1-8). The optimization stack of
KB §17 is six named techniques (``Stack``); ``serving_params`` turns them into the parameters
they really change, so one technique can be toggled at a time.

Memory: usable HBM is ``n * hbm_gb`` less a reserve (CUDA context, activations, allocator
fragmentation); after the weights, the rest holds KV cache. Without PagedAttention a sequence
reserves room it never uses (the KV waste); with it, waste falls from ~60% to ~4%.

Units: bytes and FLOPs in SI (1 GB = 1e9 bytes, as the vendors count HBM), times in ms.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from engine.hardware import GPUS, GpuSpec, gpu as lookup_gpu
from engine.models import MODELS, ModelSpec, model as lookup_model

PRECISIONS: tuple[str, ...] = ("bf16", "fp8", "fp4")
BYTES_PER_PARAM = {"bf16": 2.0, "fp8": 1.0, "fp4": 0.5}
KV_BYTES = {"bf16": 2.0, "fp8": 1.0, "fp4": 1.0}  # a quantized model keeps an FP8 KV cache
ACTIVATION_BYTES = 2.0  # activations (and all-reduce messages) stay in BF16
PRECISION_NEEDS = {"fp8": "Hopper or later (H100, H200, B200, GB200)", "fp4": "Blackwell (B200, GB200)"}

MEMORY_RESERVE_FRACTION = 0.05  # per GPU: CUDA context, activations, fragmentation
TP_DEGREES: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)  # tensor-parallel sizes a replica may use
MIN_USEFUL_BATCH = 16  # a replica must hold at least this many sequences at the sizing context
DEFAULT_CONTEXT = 1024  # tokens: mean context of a chat request while it decodes
DEFAULT_TPOT_MS = 60.0  # "real-time" feel (KB §11)

# Tensor-parallel all-reduce (KB §7, §11): NVLink inside a node or NVL72 rack, InfiniBand across.
# Fitted on CALIBRATION 24 (Splitwise A100 TP2/4/8), checked on H100 (tests/test_physics_measurements.py).
NVLINK_ALLREDUCE_BASE_US = 10.0  # NCCL: kernel launch and the barrier every GPU waits at
NVLINK_HOP_US = 9.0  # NCCL ring step inside the NVLink domain: a flag handshake plus the slowest GPU's skew
CUSTOM_ALLREDUCE_BASE_US = 4.0  # custom one-shot all-reduce: peers' buffers read directly over NVLink
CUSTOM_ALLREDUCE_PEER_US = 1.0  # per peer read (all issued at once, so ~1 us each, not a ring step)
IB_HOP_US = NVLINK_HOP_US + 6.0  # per ring step across nodes: the same skew plus ~1 us port latency, NIC and software
IB_GB_S = 50.0  # 400 Gb/s NDR per GPU = 50 GB/s
ALLREDUCES_PER_LAYER = 2  # after attention and after the MLP

# Speculative decoding (KB §17 layer 6): a small draft model proposes, the target verifies.
DRAFT_TOKENS = 4
DRAFT_LENGTHS = (2, 0)  # shorter drafts the gate may pick under load (0: off): a dynamic-speculation schedule
DRAFT_ACCEPTANCE = 0.6  # chance the target accepts each drafted token
DRAFT_SIZE_FRACTION = 0.02  # draft parameters / target active parameters (a ~1B draft for 70B)
DRAFT_PASS_OVERHEAD_MS = 1.0  # launch and sampling cost of one draft forward (CUDA graphs)
DRAFT_KV_FRACTION = 0.1  # the draft's KV per token / the target's (a 1B draft: 32 KiB vs 320 KiB)
PREFIX_RESIDENCE = 0.5  # idle prefix KV per cached token of a running sequence: kept ~half a request run between uses (KB §15; assumed, not measured)

# Power as a share of TDP by phase: decode waits on memory, prefill saturates the tensor cores.
POWER_SHARE_OF_TDP = {"idle": 0.15, "decode": 0.70, "prefill": 0.95}

# Request path outside the GPU for TTFT: gateway, auth, tokenization, scheduling, first SSE event.
REQUEST_OVERHEAD_MS = 30.0


class PhysicsError(ValueError):
    """An impossible configuration; the message says what to change."""


# ---------------------------------------------------------------------------------------------
# The optimization stack (KB §17)
# ---------------------------------------------------------------------------------------------

TECHNIQUES: tuple[str, ...] = (
    "continuous_batching",
    "paged_attention",
    "flash_attention",
    "fp8",
    "custom_kernels",
    "speculative_decoding",
)


@dataclass(frozen=True, slots=True)
class Stack:
    """Which of KB §17's six techniques a server runs. Toggle one with ``stack.with_(name)``."""

    continuous_batching: bool = False
    paged_attention: bool = False
    flash_attention: bool = False
    fp8: bool = False
    custom_kernels: bool = False
    speculative_decoding: bool = False

    def with_(self, technique: str, on: bool = True) -> Stack:
        if technique not in TECHNIQUES:
            raise PhysicsError(f"unknown technique {technique!r}; valid: {', '.join(TECHNIQUES)}")
        return replace(self, **{technique: on})

    @property
    def techniques(self) -> tuple[str, ...]:
        return tuple(t for t in TECHNIQUES if getattr(self, t))


NAIVE = Stack()  # HuggingFace defaults: static batching, eager attention, BF16
LEGACY = Stack(continuous_batching=True, paged_attention=True, flash_attention=True)  # 2023 vLLM
FULL = Stack(True, True, True, True, True, True)
PRESETS: dict[str, Stack] = {"naive": NAIVE, "legacy": LEGACY, "full": FULL}


@dataclass(frozen=True, slots=True)
class ServingParams:
    """The physical parameters a stack sets. Each field is moved by exactly one technique."""

    slot_utilization: float  # continuous batching: share of batch slots doing useful work
    kv_waste: float  # paged attention: share of reserved KV memory never used
    attention_efficiency: float  # flash attention: KV-read efficiency relative to weight reads
    prefill_mfu: float  # flash attention: model-FLOP utilization of prefill matmuls
    mem_efficiency: float  # custom kernels: achieved / spec HBM bandwidth
    compute_efficiency: float  # custom kernels: achieved / spec tensor FLOPS in decode
    fixed_overhead_ms: float  # custom kernels: scheduling, sampling per step
    layer_overhead_us: float  # custom kernels: kernel launches per layer on every GPU (CUDA graphs cut them)
    gemm_tile: int  # custom kernels: rows of the tensor-core tile a GEMM pads M up to
    gemm_overlap: float  # custom kernels: share of the shorter of weight reads and math hidden under the longer
    one_shot_allreduce: bool  # custom kernels: one-shot all-reduce inside NVLink instead of an NCCL ring
    pipelined_gemm: bool  # custom kernels: weight loads hidden under math on any GPU (stock: only with async MMA)
    draft_tokens: int  # speculative decoding: tokens drafted per step (0 = off)


STATIC_SLOT_UTILIZATION = 0.40  # static batches wait on their longest sequence (KB §17: ~30%)
CONTINUOUS_SLOT_UTILIZATION = 0.85  # slots refilled as soon as a request finishes
KV_WASTE_CONTIGUOUS = 0.60  # each sequence reserves its maximum length up front
KV_WASTE_PAGED = 0.04  # only the last, partly filled block is wasted
ATTENTION_EFFICIENCY_EAGER = 0.25  # score matrix written and re-read, softmax as separate kernels
ATTENTION_EFFICIENCY_FLASH = 1.0  # one fused pass over K and V
PREFILL_MFU_EAGER = 0.20
PREFILL_MFU_FLASH = 0.45
PREFILL_MFU_FLASH_CUSTOM = 0.55
MEM_EFFICIENCY_STOCK = 0.82  # CALIBRATION 2: 70-85% of spec; fitted on CALIBRATION 24
MEM_EFFICIENCY_CUSTOM = 0.85
COMPUTE_EFFICIENCY_STOCK = 0.50
COMPUTE_EFFICIENCY_CUSTOM = 0.47  # refitted with GEMM_FILL_ROWS on the FP8 max-load table
FIXED_OVERHEAD_MS_STOCK = 10.0  # 2023-era stack (CALIBRATION item 2)
FIXED_OVERHEAD_MS_CUSTOM = 2.0  # CUDA graphs, fused kernels, multi-step scheduling
LAYER_OVERHEAD_US_STOCK = 25.0  # ~10 eager kernel launches per layer, on every GPU whatever the TP size
LAYER_OVERHEAD_US_CUSTOM = 3.0  # one CUDA graph replays the whole step
GEMM_TILE_STOCK = 16  # stock GEMMs pad M to the 16-row MMA tile: rows below it are wasted
GEMM_TILE_CUSTOM = 8  # decode kernels swap operands so the batch sits on the 8-wide side
GEMM_OVERLAP_STOCK = 0.7  # stock GEMMs where TMA/wgmma run loads and math at once (Hopper on); Ampere: serialized
GEMM_OVERLAP_CUSTOM = 0.9  # warp-specialized pipelines multiply one slice while loading the next
# Stock (2023 cuBLAS) skinny GEMMs on a GPU without asynchronous MMA (Ampere's mma.sync): the warps
# that stream a weight slice then multiply it, so math adds to the weight stream, and the math,
# fed through registers, reaches only this share of tensor-core peak per useful row. Fitted on
# the legacy 70B TP4 batch curve (~1.8x from batch 1 to 64, issue 12) with Splitwise's batch-1
# TP table (CALIBRATION 24) held.
SYNC_MMA_EFFICIENCY = 0.22
# Every GEMM also pays the pipeline fill and drain and the last, partly filled wave of 128-row CTA
# tiles the big-M kernels use: on average half a tile, 64 rows of math once M is large; skinny
# GEMMs' small tiles waste proportionally less (fill = F M / (M + F)). Issue 12 item 7: the 70B
# FP8 max-load rows, at M of a few hundred, sat +10% too fast; 8B's M ~2,000 barely moves.
GEMM_FILL_ROWS = 64


def serving_params(stack: Stack) -> ServingParams:
    """Translate techniques into the parameters they change (KB §17, DESIGN.md)."""
    if stack.flash_attention:
        prefill_mfu = PREFILL_MFU_FLASH_CUSTOM if stack.custom_kernels else PREFILL_MFU_FLASH
    else:
        prefill_mfu = PREFILL_MFU_EAGER
    return ServingParams(
        slot_utilization=CONTINUOUS_SLOT_UTILIZATION if stack.continuous_batching else STATIC_SLOT_UTILIZATION,
        kv_waste=KV_WASTE_PAGED if stack.paged_attention else KV_WASTE_CONTIGUOUS,
        attention_efficiency=ATTENTION_EFFICIENCY_FLASH if stack.flash_attention else ATTENTION_EFFICIENCY_EAGER,
        prefill_mfu=prefill_mfu,
        mem_efficiency=MEM_EFFICIENCY_CUSTOM if stack.custom_kernels else MEM_EFFICIENCY_STOCK,
        compute_efficiency=COMPUTE_EFFICIENCY_CUSTOM if stack.custom_kernels else COMPUTE_EFFICIENCY_STOCK,
        fixed_overhead_ms=FIXED_OVERHEAD_MS_CUSTOM if stack.custom_kernels else FIXED_OVERHEAD_MS_STOCK,
        layer_overhead_us=LAYER_OVERHEAD_US_CUSTOM if stack.custom_kernels else LAYER_OVERHEAD_US_STOCK,
        gemm_tile=GEMM_TILE_CUSTOM if stack.custom_kernels else GEMM_TILE_STOCK,
        gemm_overlap=GEMM_OVERLAP_CUSTOM if stack.custom_kernels else GEMM_OVERLAP_STOCK,
        one_shot_allreduce=stack.custom_kernels,
        pipelined_gemm=stack.custom_kernels,
        draft_tokens=DRAFT_TOKENS if stack.speculative_decoding else 0,
    )


def default_precision(stack: Stack, g: GpuSpec) -> str:
    """FP8 when the stack quantizes and the GPU has FP8 tensor cores (an A100 stays at BF16)."""
    return "fp8" if stack.fp8 and g.fp8_tflops is not None else "bf16"


# ---------------------------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------------------------


def weight_bytes(m: ModelSpec, precision: str) -> float:
    """All parameters, every expert included, at the precision's bytes per parameter."""
    return m.params_total * BYTES_PER_PARAM[precision]


def kv_bytes_per_token(m: ModelSpec, precision: str) -> float:
    """layers x (2 x kv_heads x head_dim, or MLA's latent) x bytes. Llama-3.1-70B BF16: 320 KiB."""
    return m.layers * m.kv_values * KV_BYTES[precision]


def usable_hbm_bytes(g: GpuSpec, n: int) -> float:
    return n * g.hbm_gb * 1e9 * (1 - MEMORY_RESERVE_FRACTION)


def kv_token_capacity(m: ModelSpec, g: GpuSpec, n: int, precision: str) -> int:
    """Tokens of KV cache that fit in the HBM left after the weights (0 when nothing is left)."""
    free = usable_hbm_bytes(g, n) - weight_bytes(m, precision)
    return max(0, int(free // kv_bytes_per_token(m, precision)))


def prefix_cache_tokens(prompt_tokens: float, cached_share: float, residence: float = PREFIX_RESIDENCE) -> float:
    """KV tokens the prefix cache holds idle per running sequence (KB §15 "Why not always cache?").

    A hit needs its prefix still resident when the next request arrives, so the cache keeps the
    cached part of each prompt (``cached_share`` x ``prompt_tokens``, the hit rate) for about
    ``residence`` request run times between uses: memory that cannot hold running sequences.
    """
    if not 0 <= cached_share <= 1:
        raise PhysicsError(f"the cached share is a fraction between 0 and 1, got {cached_share}")
    return residence * cached_share * max(0.0, prompt_tokens)


def max_batch(m: ModelSpec, g: GpuSpec, n: int, precision: str, context: int, stack: Stack,
              cache_tokens: float = 0.0) -> int:
    """Sequences of mean length ``context`` whose KV fits, after the stack's KV waste.

    With speculative decoding the draft model's weights and KV cache share the same HBM.
    ``cache_tokens``: idle prefix-cache KV held per running sequence (``prefix_cache_tokens``):
    each sequence then costs ``context + cache_tokens`` tokens of KV memory.
    """
    free = usable_hbm_bytes(g, n) - weight_bytes(m, precision)
    per_token = kv_bytes_per_token(m, precision)
    if stack.speculative_decoding:
        free -= DRAFT_SIZE_FRACTION * m.params_active * BYTES_PER_PARAM[precision]
        per_token *= 1 + DRAFT_KV_FRACTION
    useful_tokens = max(0.0, free) / per_token * (1 - serving_params(stack).kv_waste)
    return int(useful_tokens // (context + max(0.0, cache_tokens)))


# ---------------------------------------------------------------------------------------------
# Checks and replica sizing
# ---------------------------------------------------------------------------------------------


def check_precision(g: GpuSpec, precision: str) -> None:
    if precision not in PRECISIONS:
        raise PhysicsError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    if g.tflops(precision) is None:
        extra = " (an A100 can only store 8-bit weights and compute in BF16)" if g.arch == "ampere" else ""
        raise PhysicsError(
            f"{precision.upper()} compute needs {PRECISION_NEEDS[precision]}; {g.name} has no "
            f"{precision.upper()} tensor cores{extra}: use --precision bf16"
        )


def _fits_msg(m: ModelSpec, g: GpuSpec, n: int, precision: str) -> str:
    return (
        f"{m.id} at {precision} needs ~{weight_bytes(m, precision) / 1e9:,.0f} GB of weights; "
        f"{n} x {g.id.upper()} hold {n * g.hbm_gb:,.0f} GB "
        f"({usable_hbm_bytes(g, n) / 1e9:,.0f} GB after the runtime reserve)"
    )


def check_fits(m: ModelSpec, g: GpuSpec, n: int, precision: str, context: int = 1) -> None:
    """Weights plus one sequence of ``context`` tokens must fit, else a PhysicsError that says what to do."""
    check_precision(g, precision)
    if n < 1:
        raise PhysicsError(f"a replica needs at least 1 GPU, got {n}")
    if kv_token_capacity(m, g, n, precision) >= max(context, 1):
        return
    hints = []
    bigger = next((k for k in range(n + 1, 1025) if kv_token_capacity(m, g, k, precision) >= max(context, 1)), None)
    if bigger is not None:
        hints.append(f"use --gpus {bigger} or more")
    smaller = [p for p in PRECISIONS if BYTES_PER_PARAM[p] < BYTES_PER_PARAM[precision] and g.tflops(p)]
    for p in smaller:
        need = next((k for k in range(n, 1025) if kv_token_capacity(m, g, k, p) >= max(context, 1)), None)
        if need is not None:
            hints.append(f"--precision {p}" + ("" if need == n else f" with --gpus {need}"))
            break
    room = "" if weight_bytes(m, precision) > usable_hbm_bytes(g, n) else f", leaving no room for {context:,} tokens of KV cache"
    raise PhysicsError(_fits_msg(m, g, n, precision) + room + (": " + ", or ".join(hints) if hints else ""))


def gpus_per_replica(
    m: ModelSpec, g: GpuSpec, precision: str, stack: Stack = LEGACY, context: int = DEFAULT_CONTEXT
) -> int:
    """Smallest tensor-parallel size that holds the weights with room for a useful batch."""
    check_precision(g, precision)
    for n in TP_DEGREES:
        if max_batch(m, g, n, precision, context, stack) >= MIN_USEFUL_BATCH:
            return n
    raise PhysicsError(
        f"{m.id} at {precision} does not fit {TP_DEGREES[-1]} x {g.id.upper()} with room for "
        f"{MIN_USEFUL_BATCH} sequences of {context:,} tokens"
    )


# ---------------------------------------------------------------------------------------------
# Step-time pieces
# ---------------------------------------------------------------------------------------------


def experts_touched(m: ModelSpec, batch: float) -> float:
    """Expected distinct experts a batch routes to: E x (1 - (1 - k/E)^B) (uniform routing)."""
    if not m.is_moe:
        return 0.0
    return m.n_experts * (1 - (1 - m.experts_per_token / m.n_experts) ** batch)


def weight_bytes_read(m: ModelSpec, precision: str, batch: float) -> float:
    """Weights one decode step streams from HBM: all of a dense model; an MoE's touched experts."""
    if not m.is_moe:
        return weight_bytes(m, precision)
    params = m.shared_params + experts_touched(m, batch) * m.expert_params
    return params * BYTES_PER_PARAM[precision]


def attention_flops(m: ModelSpec, tokens: float, context: float) -> float:
    """QK^T and AV: 2 matmuls x 2 flops x layers x query width x context, per token."""
    return 4 * m.layers * m.n_heads * m.head_dim * context * tokens


def memory_ms(
    weight_read: float, kv_read: float, g: GpuSpec, n: int, mem_efficiency: float, attention_efficiency: float
) -> float:
    bytes_effective = weight_read / mem_efficiency + kv_read / (mem_efficiency * attention_efficiency)
    return bytes_effective / (n * g.hbm_tb_s * 1e12) * 1e3


def compute_ms(flops: float, g: GpuSpec, n: int, precision: str, efficiency: float) -> float:
    return flops / (n * g.tflops(precision) * 1e12 * efficiency) * 1e3


def gemm_efficiency(tokens: float, p: ServingParams) -> float:
    """Share of peak FLOPS a decode GEMM of M = ``tokens`` rows reaches (issue 12 item 2).

    Tile quantization: the tensor cores work on tiles of ``gemm_tile`` rows, so M is padded up to
    a whole number of tiles and the padding is wasted; each GEMM also pays ``GEMM_FILL_ROWS`` rows
    of pipeline fill, drain and tail wave: efficiency = peak share x M / (padded M + fill rows).
    """
    m_rows = max(1.0, tokens)
    padded = -(-m_rows // p.gemm_tile) * p.gemm_tile
    fill = GEMM_FILL_ROWS * m_rows / (m_rows + GEMM_FILL_ROWS)  # skinny kernels' small tiles waste little
    return p.compute_efficiency * m_rows / (padded + fill)


def serialized_gemm(g: GpuSpec, p: ServingParams) -> bool:
    """True where the weight GEMMs stream their weights, then multiply: stock kernels on a GPU
    without asynchronous MMA (Ampere). Custom kernels pipeline loads under math everywhere."""
    return not (p.pipelined_gemm or g.async_mma)


def gemm_ms(m: ModelSpec, g: GpuSpec, n: int, precision: str, tokens: float, p: ServingParams) -> tuple[float, float]:
    """(weight-read ms, tensor-core ms) of the step's weight GEMMs (issue 12 items 2, 7).

    Pipelined (Hopper on, or custom kernels): the GEMMs take the larger plus the part of the
    smaller their pipeline does not hide (``gemm_time_ms``), the math tile-quantized
    (``gemm_efficiency``). Serialized (``serialized_gemm``: a 2023 stack on A100s): each weight
    slice is loaded, then multiplied, so the math adds to the weight stream, at
    ``SYNC_MMA_EFFICIENCY`` of peak per row of the batch (a single row runs cuBLAS's GEMV path:
    no tile to pad). This is why a legacy batch of 64 costs ~1.8x the step of one on A100s
    (issue 12), where Hopper's TMA and wgmma hide most of it.
    """
    mem = weight_bytes_read(m, precision, tokens) / (n * g.hbm_tb_s * 1e12 * p.mem_efficiency) * 1e3
    efficiency = SYNC_MMA_EFFICIENCY if serialized_gemm(g, p) else gemm_efficiency(tokens, p)
    cmp = compute_ms(2 * m.params_active * tokens, g, n, precision, efficiency)
    return mem, cmp


def gemm_time_ms(w_mem: float, w_cmp: float, g: GpuSpec, p: ServingParams) -> float:
    """Weight GEMMs' time from their weight-read and math times: the sum where serialized, else the
    larger plus the share of the smaller the pipeline does not hide (``gemm_overlap``)."""
    if serialized_gemm(g, p):
        return w_mem + w_cmp
    return max(w_mem, w_cmp) + (1 - p.gemm_overlap) * min(w_mem, w_cmp)


def attention_ms(m: ModelSpec, g: GpuSpec, n: int, precision: str, tokens: float, batch: int, context: float,
                 p: ServingParams) -> tuple[float, float]:
    """(KV-read ms, attention-math ms) of the step: a separate kernel after the GEMMs (issue 12 item 7)."""
    kv = batch * context * kv_bytes_per_token(m, precision)
    mem = kv / (n * g.hbm_tb_s * 1e12 * p.mem_efficiency * p.attention_efficiency) * 1e3
    cmp = compute_ms(attention_flops(m, tokens, context), g, n, precision, p.compute_efficiency)
    return mem, cmp


def allreduce_us(message_bytes: float, g: GpuSpec, n: int, one_shot: bool = False) -> float:
    """One all-reduce of ``message_bytes`` across ``n`` GPUs (KB §7; fitted on CALIBRATION 24).

    NCCL ring: a base latency, then 2(n-1) steps each paying a hop latency and moving 1/n of the
    message; IB hops once n spans nodes. ``one_shot`` (the custom kernels' all-reduce, inside one
    NVLink domain only): every GPU reads its n-1 peers' whole buffers at once: one latency but
    (n-1) messages of bytes, so large messages still go round the ring.
    """
    if n <= 1:
        return 0.0
    if n <= g.nvlink_domain:
        link_gb_s = g.nvlink_gb_s / 2  # one direction of the bidirectional figure
        hop_us = NVLINK_HOP_US
    else:
        link_gb_s, hop_us = IB_GB_S, IB_HOP_US
    steps = 2 * (n - 1)
    ring = NVLINK_ALLREDUCE_BASE_US + steps * hop_us + steps * (message_bytes / n) / (link_gb_s * 1e9) * 1e6
    if one_shot and n <= g.nvlink_domain:  # small messages: one shot; large ones still ring
        shot = CUSTOM_ALLREDUCE_BASE_US + (n - 1) * CUSTOM_ALLREDUCE_PEER_US + (n - 1) * message_bytes / (link_gb_s * 1e9) * 1e6
        return min(shot, ring)
    return ring


def tp_comm_ms(m: ModelSpec, g: GpuSpec, n: int, tokens: float, one_shot: bool = False) -> float:
    """Per-layer tensor-parallel all-reduces for ``tokens`` tokens in flight (KB §7, §11)."""
    message = tokens * m.d_model * ACTIVATION_BYTES
    return m.layers * ALLREDUCES_PER_LAYER * allreduce_us(message, g, n, one_shot) / 1e3


def overhead_ms(m: ModelSpec, p: ServingParams) -> float:
    """Per step: scheduling and sampling, plus kernel launches per layer, the same on every GPU
    so they do not shrink with TP (issue 12 item 1; CUDA graphs cut them)."""
    return p.fixed_overhead_ms + m.layers * p.layer_overhead_us / 1e3


def tokens_per_step(draft_tokens: int, acceptance: float | None = None) -> float:
    """Expected tokens a sequence advances per verify step: (1 - a^(k+1)) / (1 - a); 1 without drafts."""
    if draft_tokens == 0:
        return 1.0
    acceptance = DRAFT_ACCEPTANCE if acceptance is None else acceptance
    return (1 - acceptance ** (draft_tokens + 1)) / (1 - acceptance)


def draft_ms(m: ModelSpec, g: GpuSpec, n: int, precision: str, batch: int, p: ServingParams) -> float:
    """k forward passes of a small draft model on the same GPUs (its KV reads are ignored)."""
    if p.draft_tokens == 0:
        return 0.0
    params = m.params_active * DRAFT_SIZE_FRACTION
    mem = params * BYTES_PER_PARAM[precision] / (n * g.hbm_tb_s * 1e12 * p.mem_efficiency) * 1e3
    cmp = compute_ms(2 * params * batch, g, n, precision, gemm_efficiency(batch, p))
    return p.draft_tokens * (max(mem, cmp) + DRAFT_PASS_OVERHEAD_MS)


# ---------------------------------------------------------------------------------------------
# Decode, prefill, serving
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecodeResult:
    model: str
    gpu: str
    gpus: int
    precision: str
    stack: str
    batch: int
    context: int
    step_ms: float
    tokens_per_step: float  # per sequence: 1, or more with speculative decoding
    tpot_ms: float
    tokens_per_s: float
    tokens_per_s_per_gpu: float
    weight_gb: float
    kv_bytes_per_token: float
    kv_token_capacity: int
    max_batch: int
    bound: str  # "memory" or "compute": what binds the weight GEMMs
    memory_ms: float  # weight and KV reads
    compute_ms: float  # GEMM and attention math
    comm_ms: float
    overhead_ms: float
    draft_ms: float
    gemm_ms: float = 0.0
    attention_ms: float = 0.0
    speculative: bool = False  # speculative decoding ran this step (the gate: only where it helps)
    draft_tokens: int = 0  # tokens drafted per sequence this step


def stack_name(stack: Stack) -> str:
    for name, s in PRESETS.items():
        if s == stack:
            return name
    return "+".join(stack.techniques) or "naive"


def _step(m: ModelSpec, g: GpuSpec, n: int, precision: str, batch: int, context: int, p: ServingParams) -> tuple:
    """(step ms, weight/KV ms, math ms, comm ms, overhead ms, draft ms, gemm ms, attention ms, bound)."""
    verified = batch * (1 + p.draft_tokens)  # tokens the target model processes this step
    w_mem, w_cmp = gemm_ms(m, g, n, precision, verified, p)
    a_mem, a_cmp = attention_ms(m, g, n, precision, verified, batch, context, p)
    gemm = gemm_time_ms(w_mem, w_cmp, g, p)
    attn = max(a_mem, a_cmp)
    comm = tp_comm_ms(m, g, n, verified, p.one_shot_allreduce)
    over = overhead_ms(m, p)
    drafts = draft_ms(m, g, n, precision, batch, p)
    step = gemm + attn + comm + over + drafts
    return step, w_mem + a_mem, w_cmp + a_cmp, comm, over, drafts, gemm, attn, "memory" if w_mem >= w_cmp else "compute"


def decode(
    m: ModelSpec,
    g: GpuSpec,
    n: int,
    precision: str,
    batch: int,
    context: int,
    stack: Stack = LEGACY,
    gate: bool = True,
) -> DecodeResult:
    """One decode step with ``batch`` running sequences of mean ``context`` tokens (KB §11, §16).

    With speculative decoding in the stack, ``gate`` drafts the number of tokens (0 to
    ``DRAFT_TOKENS``) that serves the most tokens/s at this batch: real servers shorten drafts and
    switch them off above a batch threshold, because verification competes with batched decode
    for compute (issue 12 item 5); ``gate=False`` always drafts ``DRAFT_TOKENS``, to show the crossover.
    """
    if batch < 1 or context < 1:
        raise PhysicsError(f"batch and context must be at least 1, got batch {batch}, context {context}")
    check_fits(m, g, n, precision, context)
    p = serving_params(stack)
    cap = max_batch(m, g, n, precision, context, stack)
    if batch > cap:
        raise PhysicsError(
            f"batch {batch} at context {context:,} needs {batch * context:,} tokens of KV cache after "
            f"{p.kv_waste:.0%} waste; {n} x {g.id.upper()} at {precision} hold {cap} such sequences: "
            f"use --batch {cap} or less, more --gpus, or a lower --precision"
        )
    parts = _step(m, g, n, precision, batch, context, p)
    per_step = tokens_per_step(p.draft_tokens)
    if p.draft_tokens and gate:  # draft fewer tokens, or none, where that serves more (dynamic speculation)
        for k in (k for k in DRAFT_LENGTHS if k < p.draft_tokens):
            shorter = replace(p, draft_tokens=k)
            trial = _step(m, g, n, precision, batch, context, shorter)
            if trial[0] / tokens_per_step(k) < parts[0] / per_step:
                parts, per_step, p = trial, tokens_per_step(k), shorter
    step, mem, cmp, comm, over, drafts, gemm, attn, bound = parts
    tps = batch * per_step / step * 1e3
    return DecodeResult(
        model=m.id, gpu=g.id, gpus=n, precision=precision, stack=stack_name(stack), batch=batch,
        context=context, step_ms=step, tokens_per_step=per_step, tpot_ms=step / per_step,
        tokens_per_s=tps, tokens_per_s_per_gpu=tps / n, weight_gb=weight_bytes(m, precision) / 1e9,
        kv_bytes_per_token=kv_bytes_per_token(m, precision),
        kv_token_capacity=kv_token_capacity(m, g, n, precision), max_batch=cap,
        bound=bound, memory_ms=mem, compute_ms=cmp, comm_ms=comm,
        overhead_ms=over, draft_ms=drafts, gemm_ms=gemm, attention_ms=attn, speculative=p.draft_tokens > 0,
        draft_tokens=p.draft_tokens,
    )


def batch_points(lo: int, hi: int) -> list[int]:
    """The batches a batch curve shows: ``lo``, the powers of two between, and ``hi`` (tile-aligned
    points, so tile quantization's sawtooth between them does not hide the curve's shape)."""
    if lo < 1 or hi < lo:
        raise PhysicsError(f"a batch range runs from 1 or more up to at least its start, got {lo}..{hi}")
    points, b = [lo], 1
    while b < hi:
        b *= 2
        if lo < b < hi:
            points.append(b)
    return points + ([hi] if hi > lo else [])


def batch_curve(m: ModelSpec, g: GpuSpec, n: int, precision: str, context: int, stack: Stack = LEGACY,
                lo: int = 1, hi: int | None = None) -> list[DecodeResult]:
    """Decode steps from batch ``lo`` to ``hi`` (None: the memory cap) at ``batch_points`` (issue 12 item 2).

    Flat while weight reads bind, bending where the GEMMs' math shows: at the knee on Hopper, from
    the start with a 2023 stack on A100s, where stock GEMMs multiply after each weight slice
    (``serialized_gemm``: ~1.8x from batch 1 to 64 for 70B TP4, as measured).
    """
    cap = max_batch(m, g, n, precision, context, stack)
    hi = cap if hi is None else hi
    if hi > cap:
        raise PhysicsError(f"at most {cap} sequences of {context:,} tokens fit {n} x {g.id.upper()} at {precision}")
    return [decode(m, g, n, precision, b, context, stack) for b in batch_points(lo, hi)]


def speculative_crossover(m: ModelSpec, g: GpuSpec, n: int, precision: str, context: int, stack: Stack = FULL) -> int | None:
    """Smallest batch at which speculative decoding stops raising tokens/s (None: it helps up to
    the memory cap, or the stack does not draft). KB §17 layer 6, CALIBRATION 7."""
    stack = stack.with_("speculative_decoding")
    cap = max_batch(m, g, n, precision, context, stack)
    if cap < 1:
        return None
    for b in range(1, cap + 1):  # step times are a few float operations: a linear scan is cheap
        if not decode(m, g, n, precision, b, context, stack).speculative:
            return b
    return None


@dataclass(frozen=True, slots=True)
class PrefillResult:
    model: str
    gpu: str
    gpus: int
    precision: str
    stack: str
    tokens: int
    prefill_ms: float
    mfu: float  # achieved model-FLOP utilization, overheads included


def prefill_flops(m: ModelSpec, tokens: int) -> float:
    """2 x active params per token, plus causal attention (half the T x T score matrix)."""
    return 2 * m.params_active * tokens + attention_flops(m, tokens, tokens) / 2


def prefill(m: ModelSpec, g: GpuSpec, n: int, precision: str, tokens: int, stack: Stack = LEGACY) -> PrefillResult:
    """Time to process a prompt of ``tokens`` tokens in one pass: compute-bound (KB §11, item 4)."""
    if tokens < 1:
        raise PhysicsError(f"a prompt has at least 1 token, got {tokens}")
    check_fits(m, g, n, precision, tokens)
    p = serving_params(stack)
    flops = prefill_flops(m, tokens)
    cmp = compute_ms(flops, g, n, precision, p.prefill_mfu)
    mem = memory_ms(weight_bytes(m, precision), 0.0, g, n, p.mem_efficiency, 1.0)
    total = max(cmp, mem) + tp_comm_ms(m, g, n, tokens, p.one_shot_allreduce) + overhead_ms(m, p)
    mfu = flops / (n * g.tflops(precision) * 1e12) / (total / 1e3)
    return PrefillResult(m.id, g.id, n, precision, stack_name(stack), tokens, total, mfu)


@dataclass(frozen=True, slots=True)
class ServeResult:
    model: str
    gpu: str
    gpus: int
    precision: str
    stack: str
    context: int
    tpot_target_ms: float
    max_batch: int  # the largest batch that keeps TPOT under the target (and fits in memory)
    memory_max_batch: int
    limited_by: str  # "latency", "memory" or "demand"
    step_ms: float
    tpot_ms: float
    effective_batch: float  # batch x slot utilization: slots doing useful work under real traffic
    tokens_per_s: float
    tokens_per_s_per_gpu: float


def serve_under_tpot(
    m: ModelSpec,
    g: GpuSpec,
    n: int,
    precision: str,
    stack: Stack,
    context: int,
    tpot_ms: float,
    concurrency: int | None = None,
    prefill_ms_per_output: float = 0.0,
    cache_tokens: float = 0.0,
) -> ServeResult:
    """The largest batch whose TPOT stays under the target, and the throughput it gives (KB §11).

    Throughput counts only useful slots: static batching leaves slots idle behind the longest
    sequence, continuous batching refills them (``slot_utilization``). ``concurrency`` caps the
    batch at the streams the traffic offers this replica (None: unlimited demand).

    ``prefill_ms_per_output``: replica ms of prompt processing per output token. Prompts co-batched
    with decode stretch every request's TPOT: with B useful slots in flight at full load,
    TPOT = step(B) + B x prefill ms per output token (Little's law; issue 12 item 6), so the batch
    is sized on that. ``tokens_per_s`` stays decode-only (the prompts' time is counted apart).
    ``cache_tokens``: idle prefix-cache KV per sequence, which lowers the memory cap (``max_batch``).
    """
    if tpot_ms <= 0:
        raise PhysicsError(f"the TPOT target must be positive, got {tpot_ms}")
    check_fits(m, g, n, precision, context)
    cap = max_batch(m, g, n, precision, context, stack, cache_tokens)
    if cap < 1:
        raise PhysicsError(_fits_msg(m, g, n, precision) + f": no room for one sequence of {context:,} tokens")
    first = decode(m, g, n, precision, 1, context, stack)
    if first.tpot_ms > tpot_ms:
        raise PhysicsError(
            f"TPOT target {tpot_ms:g} ms is below even a single stream's {first.tpot_ms:.1f} ms on "
            f"{n} x {g.id.upper()}: raise --tpot-ms, or use a faster --stack, --precision or GPU"
        )
    demand_cap = cap if concurrency is None else max(1, min(cap, concurrency))
    util = serving_params(stack).slot_utilization

    def tpot_at(r: DecodeResult) -> float:
        return r.tpot_ms + r.batch * util * prefill_ms_per_output

    lo, hi = 1, demand_cap  # TPOT rises with batch: binary search the largest batch under the target
    best = first
    while lo < hi:
        mid = (lo + hi + 1) // 2
        r = decode(m, g, n, precision, mid, context, stack)
        if tpot_at(r) <= tpot_ms:
            lo, best = mid, r
        else:
            hi = mid - 1
    if best.batch != lo:
        best = decode(m, g, n, precision, lo, context, stack)
    tps = best.tokens_per_s * util
    return ServeResult(
        model=m.id, gpu=g.id, gpus=n, precision=precision, stack=stack_name(stack), context=context,
        tpot_target_ms=tpot_ms, max_batch=lo, memory_max_batch=cap,
        limited_by="memory" if lo == cap else "demand" if lo == demand_cap else "latency", step_ms=best.step_ms, tpot_ms=tpot_at(best),
        effective_batch=lo * util, tokens_per_s=tps, tokens_per_s_per_gpu=tps / n,
    )


def prefill_compute_ms(m: ModelSpec, g: GpuSpec, n: int, precision: str, tokens: float, stack: Stack) -> float:
    """Replica time one prompt's uncached tokens cost when chunked prefill rides along decode steps:
    the prompt's FLOPs at the prefill MFU plus its all-reduces; the weight reads and step overheads
    are the decode step's, already paid (issue 12 items 6, 7)."""
    if tokens <= 0:
        return 0.0
    p = serving_params(stack)
    flops = prefill_flops(m, tokens)  # type: ignore[arg-type]
    return compute_ms(flops, g, n, precision, p.prefill_mfu) + tp_comm_ms(m, g, n, tokens, p.one_shot_allreduce)


@dataclass(frozen=True, slots=True)
class MaxLoadResult:
    batch: int  # running sequences: as many as the KV cache holds at the mean context
    context: int
    step_ms: float
    speculative: bool
    prefill_share: float  # share of replica time spent on prompts
    requests_per_s: float
    output_tokens_per_s: float  # end to end, prefill included: what max-load benchmarks report
    output_tokens_per_s_per_gpu: float


def max_load_throughput(
    m: ModelSpec, g: GpuSpec, n: int, precision: str, stack: Stack, input_tokens: int, output_tokens: int,
    cached_share: float = 0.0,
) -> MaxLoadResult:
    """Output tokens/s of one replica fed requests as fast as it takes them (issue 12 item 7).

    The batch holds as many sequences as the KV cache fits at the mean context (prompt + half the
    output); each request costs its prompt's prefill (cached prefix tokens skip it, KB §15) plus
    its share of ``output_tokens`` decode steps of that batch. The cached prefixes cost HBM: they
    stay resident between uses (``prefix_cache_tokens``), so fewer sequences fit the batch.
    """
    if input_tokens < 1 or output_tokens < 1:
        raise PhysicsError(f"input and output tokens must be at least 1, got {input_tokens} and {output_tokens}")
    if not 0 <= cached_share <= 1:
        raise PhysicsError(f"the cached share is a fraction between 0 and 1, got {cached_share}")
    context = input_tokens + output_tokens // 2
    check_fits(m, g, n, precision, input_tokens + output_tokens)
    batch = max_batch(m, g, n, precision, context, stack, prefix_cache_tokens(input_tokens, cached_share))
    if batch < 1:
        raise PhysicsError(_fits_msg(m, g, n, precision) + f": no room for one sequence of {context:,} tokens")
    d = decode(m, g, n, precision, batch, context, stack)
    pre = prefill_compute_ms(m, g, n, precision, input_tokens * (1 - cached_share), stack)
    decode_ms = output_tokens * d.tpot_ms / batch  # this request's share of the batch's steps
    per_request = pre + decode_ms
    rps = 1e3 / per_request
    return MaxLoadResult(
        batch=batch, context=context, step_ms=d.step_ms, speculative=d.speculative,
        prefill_share=pre / per_request, requests_per_s=rps, output_tokens_per_s=rps * output_tokens,
        output_tokens_per_s_per_gpu=rps * output_tokens / n,
    )


# Published max-load throughput (total output tok/s, no latency target, FP8 on H100; issue 12):
# (model, GPUs, input tokens, output tokens, measured). Calibration points of the full stack.
MAX_LOAD_MEASUREMENTS: tuple[tuple[str, int, int, int, float], ...] = (
    ("llama-3.1-8b", 1, 1000, 1000, 15_220),
    ("llama-3.1-8b", 1, 128, 2048, 22_714),
    ("llama-3.1-70b", 2, 1000, 1000, 4_205),
    ("llama-3.1-70b", 2, 128, 2048, 6_651),
    ("llama-3.1-70b", 2, 2048, 128, 762),
)
# Splitwise (CALIBRATION 24): Llama2-70B, BF16, A100-80GB, batch 1, prompt 512, ms per decode step.
SPLITWISE_TP_MS: dict[int, float] = {2: 59.9, 4: 44.5, 8: 45.0}


SERVICE_CV2 = 0.5  # squared coefficient of variation of a request's replica time (mixed lengths)
PREFILL_CHUNK_TOKENS = 512  # prompt tokens one decode step carries (chunked prefill, a serving setting)


def wait_probability(load: float, servers: int = 1) -> float:
    """Share of arrivals that queue at all: ``load`` for one server (G/G/1), and
    load^(sqrt(2(c+1)) - 1) for c batch slots (Sakasegawa's G/G/c approximation): a replica
    running a hundred sequences rarely makes a request wait until it is nearly full."""
    if load <= 0:
        return 0.0
    return min(1.0, load ** (math.sqrt(2 * (max(1, servers) + 1)) - 1))


def queue_wait_quantile_ms(load: float, service_ms: float, arrival_cv: float = 1.0, quantile: float = 0.95,
                           service_cv2: float = SERVICE_CV2, servers: int = 1) -> float:
    """Waiting time at a quantile in a G/G/c queue (Kingman / Sakasegawa with an exponential tail).

    ``service_ms`` is the replica time one request costs at capacity (1 / capacity in requests/s).
    A request waits with probability P (``wait_probability``), then an exponential time of mean
    (ca^2 + cs^2)/2 x service/(1 - load); the quantile is that mean x ln(P/(1-quantile)), 0 when
    1-quantile >= P. With one server this is Kingman's G/G/1 formula (mean wait load/(1-load) x
    (ca^2 + cs^2)/2 x service). No cap: it grows without bound as load approaches 1 and with
    burstier arrivals (issue 12 item 6). Load >= 1: infinite.
    """
    if load <= 0:
        return 0.0
    if load >= 1:
        return float("inf")
    p = wait_probability(load, servers)
    if 1 - quantile >= p:
        return 0.0
    return (arrival_cv ** 2 + service_cv2) / 2 * service_ms / (1 - load) * math.log(p / (1 - quantile))


def queue_wait_exceeds(load: float, service_ms: float, arrival_cv: float, wait_ms: float,
                       service_cv2: float = SERVICE_CV2, servers: int = 1) -> float:
    """Share of requests that wait longer than ``wait_ms`` in the same approximation."""
    if load <= 0:
        return 0.0
    if load >= 1:
        return 1.0
    p = wait_probability(load, servers)
    if wait_ms <= 0:
        return p
    return p * math.exp(-wait_ms * (1 - load) / ((arrival_cv ** 2 + service_cv2) / 2 * service_ms))


def two_queue_wait_quantile_ms(slot_load: float, service_ms: float, slots: int, prefill_load: float, prefill_ms: float,
                               arrival_cv: float, quantile: float) -> float:
    """A request first waits for a batch slot (G/G/c), then for the prefill stage (G/G/1 at
    ``prefill_load``, ``prefill_ms`` per prompt): the quantile of the sum, each wait exponential-tailed, solved by bisection on
    P(W1 > t) + P(W2 > t) = 1 - quantile (a conservative union)."""
    if slot_load >= 1 or prefill_load >= 1:
        return float("inf")
    queues = []
    ca2 = arrival_cv ** 2
    for load, svc, c in ((slot_load, service_ms, slots), (prefill_load, prefill_ms, 1)):
        if load > 0 and svc > 0:
            queues.append((wait_probability(load, c), (ca2 + SERVICE_CV2) / 2 * svc / (1 - load)))
    if sum(p for p, _ in queues) <= 1 - quantile:
        return 0.0
    lo, hi = 0.0, max(m for _, m in queues) * 50
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sum(p * math.exp(-mid / m) for p, m in queues) > 1 - quantile else (lo, mid)
    return hi


def ttft_ms(
    m: ModelSpec,
    g: GpuSpec,
    n: int,
    precision: str,
    stack: Stack,
    prompt_tokens: int,
    load: float = 0.5,
    batch: int = 1,
    context: int = DEFAULT_CONTEXT,
    arrival_cv: float = 1.0,
    quantile: float = 0.95,
) -> float:
    """Time to first token at a quantile: request path + G/G/1 wait for the prefill stage + prefill
    + one decode step. ``load`` is the prefill stage's utilization; 1 or more never clears (inf)."""
    if load < 0:
        raise PhysicsError(f"load is a utilization, 0 or more, got {load}")
    pre = prefill(m, g, n, precision, prompt_tokens, stack).prefill_ms
    ctx = max(context, prompt_tokens)
    batch = max(1, min(batch, max_batch(m, g, n, precision, ctx, stack)))
    step = decode(m, g, n, precision, batch, ctx, stack).step_ms
    return REQUEST_OVERHEAD_MS + queue_wait_quantile_ms(load, pre, arrival_cv, quantile) + pre + step


Z95 = 1.645  # standard normal quantile of 95%


def tpot_quantile_ms(step_ms: float, chunk_ms: float, chunks_per_step: float, output_tokens: int, z: float) -> float:
    """A request's TPOT at a normal quantile ``z``: its mean over ``output_tokens`` steps carrying
    q prefill chunks on average: step + chunk x (q + z sqrt(p(1-p)/N)), p the fractional part of
    q (each step carries floor(q) chunks, a share p one more: binomial; issue 12 item 6)."""
    whole = math.floor(chunks_per_step)
    p = chunks_per_step - whole
    spread = z * math.sqrt(p * (1 - p) / max(1, output_tokens))
    return step_ms + chunk_ms * (whole + min(1.0, max(0.0, p + spread)))


@dataclass(frozen=True, slots=True)
class LoadResult:
    load: float  # share of the replica's capacity in requests/s
    requests_per_s: float
    batch: float  # running sequences, by Little's law: arrival rate x output tokens x TPOT
    prefill_share: float  # share of replica time on prompts (co-batched with decode)
    chunk_step_share: float  # prefill chunks per decode step (above 1: steps carry several)
    step_ms: float  # per output token, without a chunk (a decode step / tokens per step)
    chunk_step_ms: float  # the same with a full prefill chunk riding along
    chunk_per_token_ms: float  # what a chunk adds to each token of the step it rides on
    p50_tpot_ms: float  # per request: the mean gap between its tokens
    p95_tpot_ms: float
    mean_tpot_ms: float
    p95_itl_ms: float  # inter-token latency: a single gap, chunk steps included
    prefill_latency_ms: float  # the request's own prompt, chunk by chunk
    service_ms: float  # replica time one request costs at capacity (the queue's service time)
    p50_ttft_ms: float
    p95_ttft_ms: float
    speculative: bool
    saturated: bool  # the load cannot be served: latencies are infinite


def latency_under_load(
    m: ModelSpec, g: GpuSpec, n: int, precision: str, stack: Stack, input_tokens: int, output_tokens: int,
    load: float, arrival_cv: float = 1.0, cached_share: float = 0.0, chunk_tokens: int = PREFILL_CHUNK_TOKENS,
    capacity_rps: float | None = None, disaggregated: bool = False,
) -> LoadResult:
    """TTFT and TPOT percentiles of one replica at ``load`` x its capacity (issue 12 item 6).

    Prefill is chunked into decode steps: a share f = rate x prefill time of replica time goes to
    prompts, so decode runs at step/(1-f) on average and a step carrying a chunk takes step +
    chunk time (the p95 TPOT once more than 5% of steps carry one). The batch follows Little's
    law, B = rate x output x TPOT, solved by a few scalar iterations. TTFT = request path + the wait
    for a batch slot (G/G/c: service = the replica time a request costs at capacity, c = the
    batch at capacity, ``arrival_cv`` the burstiness) + the wait for the prefill stage (G/G/1 at
    the prefill share of replica time, one prompt's compute each: servers schedule prompts first)
    + the prompt's chunks. Cached prefix tokens skip prefill (KB §15). ``capacity_rps`` overrides
    the max-load capacity (the game's TPOT-limited one). ``disaggregated``: decode runs on its own
    GPUs, so no chunk rides along (the prefill pool is sized apart, ``disaggregation``).
    """
    if load < 0:
        raise PhysicsError(f"load is a share of capacity, 0 or more, got {load}")
    if arrival_cv < 0:
        raise PhysicsError(f"the arrival CV is 0 or more (1 = Poisson), got {arrival_cv}")
    if chunk_tokens < 1:
        raise PhysicsError(f"the prefill chunk is at least 1 token, got {chunk_tokens}")
    full = max_load_throughput(m, g, n, precision, stack, input_tokens, output_tokens, cached_share)
    cap_rps = full.requests_per_s if capacity_rps is None else capacity_rps
    rate = load * cap_rps
    context = full.context
    uncached = input_tokens * (1 - cached_share)
    pre_ms = prefill_compute_ms(m, g, n, precision, uncached, stack)
    f = 0.0 if disaggregated else rate * pre_ms / 1e3
    chunk_ms = 0.0 if disaggregated else prefill_compute_ms(m, g, n, precision, min(chunk_tokens, max(uncached, 1.0)), stack)
    batch, d = 1.0, None
    saturated = load >= 1 or f >= 1
    if not saturated:
        for _ in range(12):  # Little's law fixed point; converges in a few steps (TPOT is flat in B)
            d = decode(m, g, n, precision, max(1, min(full.batch, round(batch))), context, stack)
            tpot = d.tpot_ms / (1 - f)
            new = max(1.0, rate * output_tokens * tpot / 1e3)
            if abs(new - batch) < 0.5:
                batch = new
                break
            batch = new
        saturated = batch > full.batch
    if d is None:
        d = decode(m, g, n, precision, max(1, min(full.batch, round(batch))), context, stack)
    step = d.tpot_ms
    if saturated:
        inf = float("inf")
        return LoadResult(load, rate, batch, f, 1.0, step, step + chunk_ms, chunk_ms / d.tokens_per_step, inf, inf, inf, inf, inf, 1e3 / cap_rps, inf,
                          inf, d.speculative, True)
    # chunk steps per second / decode steps per second = share of steps carrying a chunk
    chunk_share = (f / chunk_ms) / ((1 - f) / d.step_ms) if chunk_ms > 0 else 0.0
    chunk_step = step + chunk_ms
    per_token_chunk = chunk_ms / d.tokens_per_step  # a speculative step advances several tokens
    p50_tpot = tpot_quantile_ms(step, per_token_chunk, chunk_share, output_tokens, 0.0)
    p95_tpot = tpot_quantile_ms(step, per_token_chunk, chunk_share, output_tokens, Z95)
    chunks = max(1, math.ceil(uncached / chunk_tokens)) if uncached > 0 else 0
    prefill_latency = chunks * (d.step_ms + chunk_ms) if not disaggregated else pre_ms
    service = 1e3 / cap_rps
    slots = max(1, round(full.batch * cap_rps / full.requests_per_s))  # sequences the replica runs at capacity
    base = REQUEST_OVERHEAD_MS + prefill_latency + d.step_ms
    return LoadResult(
        load=load, requests_per_s=rate, batch=batch, prefill_share=f, chunk_step_share=chunk_share,
        step_ms=step, chunk_step_ms=chunk_step, chunk_per_token_ms=per_token_chunk, p50_tpot_ms=p50_tpot, p95_tpot_ms=p95_tpot,
        mean_tpot_ms=step + per_token_chunk * chunk_share,
        p95_itl_ms=step + chunk_ms * math.ceil(chunk_share) if chunk_share % 1 > 0.05 or chunk_share >= 1 else step,
        prefill_latency_ms=prefill_latency, service_ms=service,
        p50_ttft_ms=base + two_queue_wait_quantile_ms(load, service, slots, f, pre_ms, arrival_cv, 0.5),
        p95_ttft_ms=base + two_queue_wait_quantile_ms(load, service, slots, f, pre_ms, arrival_cv, 0.95),
        speculative=d.speculative, saturated=False,
    )


# ---------------------------------------------------------------------------------------------
# Prefill/decode disaggregation (Splitwise, DistServe; issue 12 item 3)
# ---------------------------------------------------------------------------------------------


def kv_transfer_ms(m: ModelSpec, g: GpuSpec, n: int, precision: str, tokens: float, same_domain: bool = True) -> float:
    """Moving a prompt's KV cache from a prefill replica to a decode replica (KB §7): each of the
    ``n`` GPUs sends its shard over NVLink inside one domain, else over 400 Gb/s InfiniBand."""
    link_gb_s = g.nvlink_gb_s / 2 if same_domain and 2 * n <= g.nvlink_domain else IB_GB_S
    return tokens * kv_bytes_per_token(m, precision) / (n * link_gb_s * 1e9) * 1e3


def _max_load(meets: Callable[[float], bool]) -> float:
    """Largest load in [0, 1) at which ``meets(load)`` holds (bisection; latency rises with load)."""
    if not meets(1e-6):
        return 0.0
    lo, hi = 1e-6, 0.999
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if meets(mid) else (lo, mid)
    return lo


@dataclass(frozen=True, slots=True)
class DisaggregationResult:
    colocated_goodput_rps_per_gpu: float  # requests/s per GPU meeting both SLAs, prefill and decode sharing GPUs
    disaggregated_goodput_rps_per_gpu: float  # the same with separate prefill and decode pools
    prefill_gpu_share: float  # share of the GPUs in the prefill pool
    kv_transfer_ms: float
    colocated_p95_tpot_ms: float  # at the colocated goodput: chunks of prefill ride along decode steps
    disaggregated_p95_tpot_ms: float
    disaggregated_p95_ttft_ms: float


def disaggregation(
    m: ModelSpec, g: GpuSpec, n: int, precision: str, stack: Stack, input_tokens: int, output_tokens: int,
    ttft_sla_ms: float, tpot_sla_ms: float, arrival_cv: float = 1.0, cached_share: float = 0.0,
    chunk_tokens: int = PREFILL_CHUNK_TOKENS,
) -> DisaggregationResult:
    """Goodput (requests/s per GPU with p95 TTFT and p95 TPOT within their SLAs) of colocated
    serving against prefill/decode disaggregation on replicas of ``n`` GPUs (Splitwise, DistServe).

    Disaggregated, a prefill replica only runs prompts (a G/G/1 queue of prefill times), ships the
    KV cache to a decode replica, and decode replicas run the largest batch whose TPOT meets the
    SLA with no prefill chunks in their steps; the pools are sized in the ratio of their loads.
    """
    if ttft_sla_ms <= 0 or tpot_sla_ms <= 0:
        raise PhysicsError(f"SLAs must be positive, got TTFT {ttft_sla_ms} ms and TPOT {tpot_sla_ms} ms")

    def colocated_ok(load: float) -> bool:
        r = latency_under_load(m, g, n, precision, stack, input_tokens, output_tokens, load, arrival_cv,
                               cached_share, chunk_tokens)
        return r.p95_ttft_ms <= ttft_sla_ms and r.p95_tpot_ms <= tpot_sla_ms

    full = max_load_throughput(m, g, n, precision, stack, input_tokens, output_tokens, cached_share)
    co_load = _max_load(colocated_ok)
    co = latency_under_load(m, g, n, precision, stack, input_tokens, output_tokens, max(co_load, 1e-6), arrival_cv,
                            cached_share, chunk_tokens)
    co_goodput = co_load * full.requests_per_s / n
    # prefill pool: whole prompts back to back, then the KV cache crosses the interconnect
    uncached = max(1, round(input_tokens * (1 - cached_share)))
    pre_ms = prefill(m, g, n, precision, uncached, stack).prefill_ms
    transfer = kv_transfer_ms(m, g, n, precision, input_tokens)
    context = full.context
    first_step = decode(m, g, n, precision, 1, context, stack).step_ms
    fixed = REQUEST_OVERHEAD_MS + pre_ms + transfer + first_step
    p_load = _max_load(lambda x: fixed + queue_wait_quantile_ms(x, pre_ms, arrival_cv, 0.95) <= ttft_sla_ms)
    prefill_rps = p_load * 1e3 / pre_ms  # per prefill replica
    # decode pool: the largest batch whose TPOT meets the SLA, no chunks in its steps
    try:
        served = serve_under_tpot(m, g, n, precision, stack, context, tpot_sla_ms)
        decode_rps = served.effective_batch * 1e3 / (served.tpot_ms * output_tokens)  # Little: B = rate x out x TPOT
        d_tpot = served.tpot_ms
    except PhysicsError:
        decode_rps, d_tpot = 0.0, float("inf")
    if prefill_rps <= 0 or decode_rps <= 0:
        return DisaggregationResult(co_goodput, 0.0, 0.0, transfer, co.p95_tpot_ms, d_tpot, float("inf"))
    per_request_gpus = n / prefill_rps + n / decode_rps  # GPU-seconds of each pool per request
    return DisaggregationResult(
        colocated_goodput_rps_per_gpu=co_goodput, disaggregated_goodput_rps_per_gpu=1 / per_request_gpus,
        prefill_gpu_share=(n / prefill_rps) / per_request_gpus, kv_transfer_ms=transfer,
        colocated_p95_tpot_ms=co.p95_tpot_ms, disaggregated_p95_tpot_ms=d_tpot,
        disaggregated_p95_ttft_ms=fixed + queue_wait_quantile_ms(p_load, pre_ms, arrival_cv, 0.95),
    )


# ---------------------------------------------------------------------------------------------
# Power
# ---------------------------------------------------------------------------------------------


def power_per_gpu_w(g: GpuSpec, phase: str) -> float:
    """Board power in a phase as a share of TDP: idle, prefill (compute-bound), decode (memory-bound)."""
    try:
        return g.tdp_w * POWER_SHARE_OF_TDP[phase]
    except KeyError:
        raise PhysicsError(f"unknown phase {phase!r}; valid: {', '.join(POWER_SHARE_OF_TDP)}") from None


# ---------------------------------------------------------------------------------------------
# The KB §17 ladder
# ---------------------------------------------------------------------------------------------

# The reference the ladder is computed for (documented in the README): Llama-3.1-70B on one pair
# of H100s (BF16 needs both; at FP8 the operator may run one replica per GPU or one TP-2 replica,
# whichever serves more), chat traffic of ~80 open streams whose sequences hold ~384 tokens on
# average while they decode (short prompts, few-hundred-token answers), and a 60 ms TPOT target.
LADDER_MODEL = "llama-3.1-70b"
LADDER_GPU = "h100"
LADDER_GPUS = 2
LADDER_CONTEXT = 384
LADDER_TPOT_MS = 60.0
LADDER_CONCURRENCY = 80  # chat streams the traffic keeps open on these GPUs

# KB §17's quoted figures, for comparison only: the ladder is computed, never read from here.
KB_LADDER_TOKENS_PER_S = {
    "naive": 300,
    "continuous_batching": 750,
    "paged_attention": 1275,
    "flash_attention": 1658,
    "fp8": 2984,
    "custom_kernels": 3879,
    "speculative_decoding": 5043,
}


@dataclass(frozen=True, slots=True)
class LadderRow:
    step: str
    tokens_per_s: float  # system tokens/s on the reference hardware
    multiplier: float  # vs the previous step
    cumulative: float  # vs naive
    kb_tokens_per_s: float
    precision: str
    gpus_per_replica: int
    replicas: int
    max_batch: int
    tpot_ms: float


def system_throughput(
    m: ModelSpec, g: GpuSpec, gpus: int, stack: Stack, context: int, tpot_ms: float,
    concurrency: int | None = None,
) -> tuple[float, str, int, ServeResult]:
    """Tokens/s of ``gpus`` GPUs, split into the replicas that serve the most (as an operator would).

    The precision follows the stack (FP8 when it quantizes); a split is ``gpus // n`` replicas of
    ``n`` GPUs for each tensor-parallel size ``n`` that fits.
    """
    precision = default_precision(stack, g)
    best: tuple[float, str, int, ServeResult] | None = None
    for n in (d for d in TP_DEGREES if d <= gpus):
        try:
            per_replica = None if concurrency is None else -(-concurrency // (gpus // n))
            served = serve_under_tpot(m, g, n, precision, stack, context, tpot_ms, per_replica)
        except PhysicsError:
            continue
        total = served.tokens_per_s * (gpus // n)
        if best is None or total > best[0]:
            best = (total, precision, n, served)
    if best is None:
        check_fits(m, g, gpus, precision, context)  # raises with the reason
        raise PhysicsError(f"{m.id} cannot meet a {tpot_ms:g} ms TPOT on {gpus} x {g.id.upper()}")
    return best


def ladder(
    model_id: str = LADDER_MODEL,
    gpu_id: str = LADDER_GPU,
    gpus: int = LADDER_GPUS,
    context: int = LADDER_CONTEXT,
    tpot_ms: float = LADDER_TPOT_MS,
    concurrency: int | None = None,
) -> list[LadderRow]:
    """KB §17's stack, one technique added per row, each changing only its own parameter."""
    m, g = lookup_model(model_id), lookup_gpu(gpu_id)
    rows: list[LadderRow] = []
    stack = NAIVE
    for step in ("naive", *TECHNIQUES):
        if step != "naive":
            stack = stack.with_(step)
        tps, precision, n, served = system_throughput(m, g, gpus, stack, context, tpot_ms, concurrency or LADDER_CONCURRENCY)
        prev = rows[-1].tokens_per_s if rows else tps
        base = rows[0].tokens_per_s if rows else tps
        rows.append(LadderRow(
            step=step, tokens_per_s=tps, multiplier=tps / prev, cumulative=tps / base,
            kb_tokens_per_s=KB_LADDER_TOKENS_PER_S[step], precision=precision, gpus_per_replica=n,
            replicas=gpus // n, max_batch=served.max_batch, tpot_ms=served.tpot_ms,
        ))
    return rows


# ---------------------------------------------------------------------------------------------
# The game's capacity table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CapacityRow:
    model: str
    gpu: str
    precision: str
    stack: str
    gpus: int  # per replica
    feasible: bool
    tokens_per_s: float  # per replica, under the TPOT target, useful slots only
    tokens_per_s_per_gpu: float
    max_batch: int
    tpot_ms: float
    reason: str = ""


def capacity_table(
    context: int = DEFAULT_CONTEXT,
    tpot_ms: float = DEFAULT_TPOT_MS,
    models: tuple[str, ...] | None = None,
    gpus: tuple[str, ...] | None = None,
    gpu_counts: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64),
) -> list[CapacityRow]:
    """Every model x GPU x precision x preset x GPU count; infeasible rows carry the reason."""
    rows: list[CapacityRow] = []
    for mid in models or tuple(MODELS):
        m = MODELS[mid]
        for gid in gpus or tuple(GPUS):
            g = GPUS[gid]
            for precision in PRECISIONS:
                for sname, stack in PRESETS.items():
                    for n in gpu_counts:
                        try:
                            s = serve_under_tpot(m, g, n, precision, stack, context, tpot_ms)
                        except PhysicsError as exc:
                            rows.append(CapacityRow(mid, gid, precision, sname, n, False, 0.0, 0.0, 0, 0.0, str(exc)))
                            continue
                        rows.append(CapacityRow(
                            mid, gid, precision, sname, n, True, s.tokens_per_s, s.tokens_per_s_per_gpu,
                            s.max_batch, s.tpot_ms,
                        ))
    return rows


def resolve(model_id: str, gpu_id: str) -> tuple[ModelSpec, GpuSpec]:
    """Look up a model and a GPU, turning unknown ids into PhysicsError."""
    try:
        return lookup_model(model_id), lookup_gpu(gpu_id)
    except KeyError as exc:
        raise PhysicsError(exc.args[0]) from None

