"""The LLaMA architecture (Touvron et al. 2023, section 2.2), readable top to bottom.

- Pre-normalisation: RMSNorm on the input of every attention and feed-forward sub-layer.
- SwiGLU feed-forward with hidden size 2/3·4d rounded up to a multiple of 256.
- Rotary position embeddings (the "rotate half" layout, so the export to Hugging Face's
  `LlamaForCausalLM` is a plain rename of weights, no q/k permutation).
- No biases anywhere; input embedding and output head are not tied.
- Causal attention through `F.scaled_dot_product_attention`, which dispatches to the flash /
  memory-efficient kernels and never materialises the attention weights.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
import torch.utils.checkpoint
from torch import nn


@dataclass(frozen=True)
class ModelConfig:
    dim: int
    n_layers: int
    n_heads: int
    vocab_size: int = 32000
    context: int = 2048          # longest sequence the rotary tables cover (and the default context)
    multiple_of: int = 256       # SwiGLU hidden size is rounded up to a multiple of this
    norm_eps: float = 1e-6       # LLaMA's params.json value
    rope_theta: float = 10000.0
    peak_lr: float = 3e-4        # Table 2
    batch_tokens: int = 4 * 1024 * 1024  # Table 2: 4M tokens per optimiser step

    @property
    def ffn_hidden(self) -> int:
        hidden = math.ceil(2 * 4 * self.dim / 3)
        return self.multiple_of * math.ceil(hidden / self.multiple_of)

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    def to_dict(self) -> dict:
        return asdict(self)


# Table 2 of the paper for 7B..65B; tiny/small/1B are ours (tests, quick runs, the GPU benchmark).
CONFIGS: dict[str, ModelConfig] = {
    "tiny": ModelConfig(dim=64, n_layers=2, n_heads=4, context=64, peak_lr=1e-3,
                        batch_tokens=8 * 64),
    "small": ModelConfig(dim=512, n_layers=8, n_heads=8, context=1024, peak_lr=6e-4,
                         batch_tokens=64 * 1024),
    "1B": ModelConfig(dim=2048, n_layers=24, n_heads=16, peak_lr=3e-4,
                      batch_tokens=1024 * 1024),
    "7B": ModelConfig(dim=4096, n_layers=32, n_heads=32, peak_lr=3.0e-4),
    "13B": ModelConfig(dim=5120, n_layers=40, n_heads=40, peak_lr=3.0e-4),
    "33B": ModelConfig(dim=6656, n_layers=60, n_heads=52, peak_lr=1.5e-4),
    "65B": ModelConfig(dim=8192, n_layers=80, n_heads=64, peak_lr=1.5e-4),
}


def get_config(name: str, **overrides) -> ModelConfig:
    if name not in CONFIGS:
        raise KeyError(f"unknown model {name!r}; choose one of {sorted(CONFIGS)}")
    cfg = CONFIGS[name]
    return ModelConfig(**{**cfg.to_dict(), **{k: v for k, v in overrides.items() if v is not None}})


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Normalise in float32 even under bf16 autocast: the mean of squares loses too much in bf16.
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


def rotary_tables(head_dim: int, length: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    angles = torch.outer(torch.arange(length, dtype=torch.int64).float(), inv_freq)
    angles = torch.cat([angles, angles], dim=-1)          # "rotate half" layout
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos.to(x.dtype) + rotated * sin.to(x.dtype)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_heads, self.head_dim = cfg.n_heads, cfg.head_dim
        self.wq = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.dim, bias=False)
        self.wo = nn.Linear(cfg.dim, cfg.dim, bias=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        q, k, v = (w(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
                   for w in (self.wq, self.wk, self.wv))
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.wo(y.transpose(1, 2).reshape(b, t, -1))


class FeedForward(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.w_gate = nn.Linear(cfg.dim, cfg.ffn_hidden, bias=False)
        self.w_up = nn.Linear(cfg.dim, cfg.ffn_hidden, bias=False)
        self.w_down = nn.Linear(cfg.ffn_hidden, cfg.dim, bias=False)

    def forward(self, x):
        return self.w_down(F.silu(self.w_gate(x)) * self.w_up(x))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.attn = Attention(cfg)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.ffn = FeedForward(cfg)

    def forward(self, x, cos, sin):
        x = x + self.attn(self.attn_norm(x), cos, sin)
        return x + self.ffn(self.ffn_norm(x))


class Llama(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.head = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
        cos, sin = rotary_tables(cfg.head_dim, cfg.context, cfg.rope_theta)
        # Not persistent: derived from the config, so checkpoints and exports hold weights only.
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)
        self.activation_checkpointing = False

    def init_weights(self) -> None:
        """Normal(0, 0.02) weights, output projections scaled by 1/sqrt(2·layers) (GPT-2 style).

        Draws from torch's global generator in place, so the caller seeds it; in place also works
        on sharded (FSDP) parameters materialised from the meta device.
        """
        for name, p in self.named_parameters():
            with torch.no_grad():
                if p.dim() == 1:
                    p.fill_(1.0)
                    continue
                std = 0.02
                if name.endswith(("wo.weight", "w_down.weight")):
                    std = 0.02 / math.sqrt(2 * self.cfg.n_layers)
                nn.init.normal_(p, mean=0.0, std=std)

    def reset_rotary(self) -> None:
        """Recompute the rotary tables (after building the model on the meta device)."""
        cos, sin = rotary_tables(self.cfg.head_dim, self.cfg.context, self.cfg.rope_theta)
        self.rope_cos, self.rope_sin = cos.to(self.rope_cos.device), sin.to(self.rope_sin.device)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(tokens))

    def hidden(self, tokens: torch.Tensor) -> torch.Tensor:
        """The final normed hidden states, before the output head (evaluation scores only the
        positions it needs through the head)."""
        t = tokens.shape[1]
        if t > self.cfg.context:
            raise ValueError(f"sequence of {t} tokens exceeds the model context {self.cfg.context}")
        cos, sin = self.rope_cos[:t], self.rope_sin[:t]
        x = self.tok_emb(tokens)
        for block in self.blocks:
            if self.activation_checkpointing and self.training:
                x = torch.utils.checkpoint.checkpoint(block, x, cos, sin, use_reentrant=False)
            else:
                x = block(x, cos, sin)
        return self.norm(x)


def count_params(model: Llama) -> dict:
    total = sum(p.numel() for p in model.parameters())
    embedding = model.tok_emb.weight.numel()
    return {"total": total, "embedding": embedding, "matmul": total - embedding}


def flops_per_token(cfg: ModelConfig, context: int) -> float:
    """Training FLOPs per token: 6N + 12·L·d·T (PaLM, appendix B).

    N counts the weights used in matrix multiplies: every parameter except the input embedding
    table (a lookup) and the norms (negligible, elementwise). 12·L·d·T is the attention score and
    value products, forward and backward.
    """
    per_block = 4 * cfg.dim * cfg.dim + 3 * cfg.dim * cfg.ffn_hidden
    n = cfg.n_layers * per_block + cfg.dim * cfg.vocab_size
    return 6.0 * n + 12.0 * cfg.n_layers * cfg.dim * context
