"""LLM architectures: one spec table for the whole engine (CALIBRATION.md "Models").

Everything the inference physics needs to know about a model is here, as data:

* weight bytes = ``params_total`` x bytes per parameter (all experts of a mixture-of-experts
  model stay resident in HBM);
* a decode token *reads* ``params_active`` worth of weights when the batch is one sequence
  (a dense model: all of them; an MoE model: the shared part plus ``experts_per_token`` experts);
* KV bytes per token = ``layers x kv_values_per_layer x kv_bytes``.

KV cache, the honest figure (CALIBRATION.md intro): KB §11 quotes ~1.2 MB per token for a
"70B model", which matches no layout of Llama-3.1-70B (full multi-head attention with 64 KV
heads would be 2.6 MB). With grouped-query attention's 8 KV heads the arithmetic gives 2 (K and
V) x 80 layers x 8 heads x 128 dims x 2 bytes = 327,680 bytes = 320 KiB per token at BF16. The
game uses the arithmetic, and the help text explains the difference.

DeepSeek-V3 uses multi-head latent attention (MLA): per layer it caches one compressed latent of
512 values plus a 64-value rotary key, shared by all heads, i.e. 576 values, not 2 x heads x dim.
That is 61 x 576 x 2 bytes = 70,272 bytes (~69 KiB) per token at BF16, less than Llama-3.1-8B
even though the model is 80x larger. Its first three layers are dense and it has one shared
expert per layer; the table folds those into the always-read ``shared`` parameters.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelSpec:
    id: str
    name: str
    params_total: float  # all weights resident in HBM
    params_active: float  # weights one token touches (equal to params_total when dense)
    layers: int
    d_model: int  # hidden size: the all-reduce message per token per layer
    n_heads: int  # query heads
    kv_heads: int
    head_dim: int
    n_experts: int = 1  # routed experts per MoE layer (1 = dense)
    experts_per_token: int = 1  # routed experts a token uses (top-k)
    kv_values_per_layer: int | None = None  # override for MLA; default 2 x kv_heads x head_dim
    note: str = ""

    @property
    def is_moe(self) -> bool:
        return self.n_experts > 1

    @property
    def kv_values(self) -> int:
        """Numbers cached per token per layer: K and V for each KV head (GQA), or MLA's latent."""
        if self.kv_values_per_layer is not None:
            return self.kv_values_per_layer
        return 2 * self.kv_heads * self.head_dim

    @property
    def expert_params(self) -> float:
        """Parameters of one routed expert summed over all layers (0 for a dense model)."""
        if not self.is_moe:
            return 0.0
        return (self.params_total - self.params_active) / (self.n_experts - self.experts_per_token)

    @property
    def shared_params(self) -> float:
        """Parameters every token reads: attention, embeddings, shared experts, dense layers."""
        return self.params_active - self.experts_per_token * self.expert_params


MODELS: dict[str, ModelSpec] = {
    m.id: m
    for m in (
        ModelSpec("llama-3.1-8b", "Llama-3.1-8B", 8.03e9, 8.03e9, 32, 4096, 32, 8, 128),
        ModelSpec("llama-3.1-70b", "Llama-3.1-70B", 70.6e9, 70.6e9, 80, 8192, 64, 8, 128),
        ModelSpec("llama-3.1-405b", "Llama-3.1-405B", 405.9e9, 405.9e9, 126, 16384, 128, 8, 128),
        ModelSpec(
            "mixtral-8x7b", "Mixtral-8x7B (MoE)", 46.7e9, 12.9e9, 32, 4096, 32, 8, 128,
            n_experts=8, experts_per_token=2,
            note="8 experts, top-2: all 46.7B resident, 12.9B read per token",
        ),
        ModelSpec(
            "deepseek-v3", "DeepSeek-V3 (MoE, MLA)", 671e9, 37e9, 61, 7168, 128, 1, 128,
            n_experts=256, experts_per_token=8, kv_values_per_layer=512 + 64,
            note="256 routed experts, top-8; MLA caches a 576-value latent per layer",
        ),
    )
}

MODEL_ORDER: tuple[str, ...] = tuple(MODELS)


def model(model_id: str) -> ModelSpec:
    """Look up a model by id; a clear error names the valid ids."""
    try:
        return MODELS[model_id]
    except KeyError:
        raise KeyError(f"unknown model {model_id!r}; valid: {', '.join(MODEL_ORDER)}") from None
