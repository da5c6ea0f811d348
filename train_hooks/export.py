"""Export a checkpoint to a Hugging Face `LlamaForCausalLM` directory.

`python -m train_hooks.export --ckpt OUT --hf HF_DIR` writes config.json, model.safetensors,
generation_config.json, tokenizer.model, tokenizer.json (see `train_hooks.hf_tokenizer`),
tokenizer_config.json and train.json (the trainer's record of what the model was trained on). The
model uses HF's rotary layout already, so this is a rename of weights; no q/k permutation. Needs
neither `transformers` nor Beam: the config is written as JSON, the weights with `safetensors`.

OUT is train.py's --out folder or a checkpoint file in it; the checkpoint is verified against its
SHA-256, and the tokenizer comes from the data folder it records (train_hooks/checkpoint.py).
`--data DIR` names that folder elsewhere and is refused, in one line with exit 2, when its
mixture.json or tokenizer is not the one the model was trained on, or when the tokenizer's size is
not the model's vocabulary. Every file is written under a temporary name and renamed.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from common import atomic
from common.cli import Parser, UsageError, guarded
from train_hooks import checkpoint as ckpt_io
from train_hooks import hf_tokenizer
from train_hooks.model import ModelConfig

# ours -> Hugging Face, per block
BLOCK_NAMES = {
    "attn_norm.weight": "input_layernorm.weight",
    "attn.wq.weight": "self_attn.q_proj.weight",
    "attn.wk.weight": "self_attn.k_proj.weight",
    "attn.wv.weight": "self_attn.v_proj.weight",
    "attn.wo.weight": "self_attn.o_proj.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "ffn.w_gate.weight": "mlp.gate_proj.weight",
    "ffn.w_up.weight": "mlp.up_proj.weight",
    "ffn.w_down.weight": "mlp.down_proj.weight",
}
TOP_NAMES = {"tok_emb.weight": "model.embed_tokens.weight", "norm.weight": "model.norm.weight",
             "head.weight": "lm_head.weight"}


def hf_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for name, tensor in state.items():
        name = name.removeprefix("_orig_mod.")     # saved from a torch.compile'd module
        if name in TOP_NAMES:
            out[TOP_NAMES[name]] = tensor
            continue
        _, layer, rest = name.split(".", 2)        # blocks.<i>.<rest>
        out[f"model.layers.{layer}.{BLOCK_NAMES[rest]}"] = tensor
    return {k: v.detach().to(torch.float32).contiguous() for k, v in out.items()}


def hf_config(cfg: ModelConfig, bos_id: int, eos_id: int) -> dict:
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "vocab_size": cfg.vocab_size, "hidden_size": cfg.dim, "intermediate_size": cfg.ffn_hidden,
        "num_hidden_layers": cfg.n_layers, "num_attention_heads": cfg.n_heads,
        "num_key_value_heads": cfg.n_heads, "head_dim": cfg.head_dim, "hidden_act": "silu",
        "max_position_embeddings": cfg.context, "rms_norm_eps": cfg.norm_eps,
        "rope_theta": cfg.rope_theta,
        "rope_parameters": {"rope_type": "default", "rope_theta": cfg.rope_theta},
        "attention_bias": False, "mlp_bias": False, "tie_word_embeddings": False,
        "bos_token_id": bos_id, "eos_token_id": eos_id, "torch_dtype": "float32", "dtype": "float32",
    }


def export(ckpt_dir: str | Path, data_dir: str | Path | None, hf_dir: str | Path) -> Path:
    """Write the Hugging Face directory `hf_dir` for the checkpoint in `ckpt_dir` (a --out folder or
    a checkpoint file); `data_dir` None: the data folder the checkpoint records."""
    from safetensors.torch import save_file

    folder, file = ckpt_io.locate(ckpt_dir, "--ckpt")
    hf_dir = Path(hf_dir)
    if hf_dir.exists() and not hf_dir.is_dir():
        raise UsageError(f"--hf {hf_dir} is a file; give a folder to write")
    ckpt = ckpt_io.load(file, "--ckpt")
    if "model" not in ckpt:
        raise UsageError(f"--ckpt {ckpt_dir}: sharded (FSDP) checkpoint; convert it with "
                         "torch.distributed.checkpoint.format_utils.dcp_to_torch_save first")
    cfg = ModelConfig(**ckpt["config"])
    data_dir = ckpt_io.data_folder(ckpt.get("data", {}), str(data_dir) if data_dir else None, file)
    mixture = json.loads((data_dir / "mixture.json").read_text())
    tokenizer = data_dir / mixture["tokenizer"]
    import sentencepiece as spm

    pieces = spm.SentencePieceProcessor(model_file=str(tokenizer)).get_piece_size()
    if pieces != cfg.vocab_size:     # the record matched, so only a hand-edited checkpoint gets here
        raise UsageError(f"--data {data_dir}: its tokenizer has {pieces:,} pieces, the model {cfg.vocab_size:,}; "
                         "export with the data folder the model was trained on")
    bos, eos = int(mixture.get("bos_id", 1)), int(mixture.get("eos_id", 2))
    hf_dir.mkdir(parents=True, exist_ok=True)
    weights = hf_dir / "model.safetensors"
    tmp = atomic.temp_name(str(weights))
    try:
        save_file(hf_state_dict(ckpt["model"]), tmp, metadata={"format": "pt"})
        atomic.replace(tmp, str(weights))
    finally:
        if Path(tmp).exists():
            Path(tmp).unlink()
    atomic.write_text(str(hf_dir / "config.json"), json.dumps(hf_config(cfg, bos, eos), indent=2) + "\n")
    atomic.write_text(str(hf_dir / "generation_config.json"),
                      json.dumps({"bos_token_id": bos, "eos_token_id": eos}, indent=2) + "\n")
    copy_tokenizer(tokenizer, hf_dir)
    record = ckpt_io.read_record(folder) or {}
    ckpt_io.write_record(hf_dir, {**{k: v for k, v in record.items() if k not in ("format", "checkpoint")},
                                  "data": {k: ckpt["data"][k] for k in ckpt["data"]
                                           if k in ("folder", "mixture_sha256", "tokenizer", "tokenizer_sha256",
                                                    "vocab_size")},
                                  "exported_from": {"checkpoint": str(file.resolve()), "step": ckpt.get("step")}})
    return hf_dir


def copy_tokenizer(model_path: Path, hf_dir: Path) -> None:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model_path))   # refuse a file that does not load
    atomic.copy_file(model_path, hf_dir / "tokenizer.model")
    # No BOS: the token shards separate documents with EOS only, so the model never saw a BOS;
    # a prompt should be encoded the way training text was.
    hf_tokenizer.write(str(model_path), hf_dir)
    # The generic fast class: it runs tokenizer.json as written. transformers' LlamaTokenizer would
    # rebuild the pre-tokenisation from its own defaults and split some text differently.
    atomic.write_text(str(hf_dir / "tokenizer_config.json"), json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": sp.id_to_piece(sp.bos_id()),
        "eos_token": sp.id_to_piece(sp.eos_id()), "unk_token": sp.id_to_piece(sp.unk_id()),
        "add_bos_token": False, "add_eos_token": False,
    }, indent=2) + "\n")


def main(argv=None) -> int:
    p = Parser(prog="python -m train_hooks.export", description=__doc__.split("\n")[0])
    p.add_argument("--ckpt", required=True, help="train.py --out folder (or a checkpoint file in it)")
    p.add_argument("--data", default=None,
                   help="the mixture folder (for the tokenizer); default: the one the checkpoint was trained on")
    p.add_argument("--hf", required=True, help="directory to write")
    p.add_argument("--debug", action="store_true", help="tracebacks for usage errors")
    args = p.parse_args(argv)
    print(export(args.ckpt, args.data, args.hf))
    return 0


if __name__ == "__main__":
    guarded(main, sys.argv[1:], "python -m train_hooks.export")
