"""GPU hardware: one spec table for the whole engine (CALIBRATION.md "Hardware").

Dense (not sparse) tensor FLOPS. ``fp8_tflops`` is None where the chip has no FP8 tensor
cores (A100: Ampere only does weight-only 8-bit); ``fp4_tflops`` is None before Blackwell.
NVLink figures are per GPU, bidirectional (KB §7). The fictional successor exists so that
games running past 2027 still see a new generation arrive; it is flagged as such.

``async_mma``: Hopper and later stream GEMM operands with the Tensor Memory Accelerator while
warpgroup MMAs (wgmma) run asynchronously, so even stock library kernels hide weight loads under
math. Ampere's mma.sync is issued by the same warps that load the weights: a stock skinny GEMM
waits for each weight slice before multiplying it (engine.physics.gemm_ms, issue 12).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GpuSpec:
    id: str
    name: str
    arch: str  # "ampere" | "hopper" | "blackwell" | "next"
    hbm_gb: float
    hbm_tb_s: float
    bf16_tflops: float
    fp8_tflops: float | None
    fp4_tflops: float | None
    tdp_w: float
    nvlink_gb_s: float
    nvlink_domain: int  # GPUs that share one NVLink domain (a node, or a whole NVL72 rack)
    fictional: bool = False
    async_mma: bool = True  # TMA + asynchronous wgmma (Hopper on); False: Ampere's synchronous mma.sync

    def tflops(self, precision: str) -> float | None:
        """Dense TFLOPS at a precision, or None when the hardware lacks it."""
        return {"bf16": self.bf16_tflops, "fp8": self.fp8_tflops, "fp4": self.fp4_tflops}[precision]


GPUS: dict[str, GpuSpec] = {
    g.id: g
    for g in (
        GpuSpec("a100", "A100 80GB SXM", "ampere", 80, 2.039, 312, None, None, 400, 600, 8, async_mma=False),
        GpuSpec("h100", "H100 SXM", "hopper", 80, 3.35, 989, 1979, None, 700, 900, 8),
        GpuSpec("h200", "H200 SXM", "hopper", 141, 4.8, 989, 1979, None, 700, 900, 8),
        GpuSpec("b200", "B200 (HGX)", "blackwell", 180, 8.0, 2250, 4500, 9000, 1000, 1800, 8),
        GpuSpec("gb200", "GB200 NVL72 (per GPU)", "blackwell", 186, 8.0, 2500, 5000, 10000, 1200, 1800, 72),
        GpuSpec(
            "x300", "X300 (fictional successor)", "next", 288, 13.0, 4000, 8000, 16000, 1400, 3600, 72,
            fictional=True,
        ),
    )
}

GPU_ORDER: tuple[str, ...] = tuple(GPUS)


def gpu(gpu_id: str) -> GpuSpec:
    """Look up a GPU by id; a clear error names the valid ids."""
    try:
        return GPUS[gpu_id]
    except KeyError:
        raise KeyError(f"unknown GPU {gpu_id!r}; valid: {', '.join(GPU_ORDER)}") from None
