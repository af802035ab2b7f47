#!/usr/bin/env python3
"""Reference fixtures from HuggingFace `transformers` for core/model/hf_reference_test.cc.

    python3 tools/hf_reference/make_hf_reference.py OUT_DIR

For each HF model family that core/model/hf_import.h imports (Dinov2Model, SiglipVisionModel,
T5EncoderModel), builds a TINY model from a config object (random, seeded initialisation; nothing is
downloaded), runs it in float32 on the CPU with eager attention, and writes into OUT_DIR:

  <name>.safetensors     the model's state dict under HF names, float32, as save_pretrained writes it
                         (one name per tied tensor: T5's embedding is `shared.weight`)
  <name>_io.safetensors  the inputs and transformers' outputs (see CASES in <name>.json)
  <name>.json            our encoder's config (key names as in core/model/model_config.cc), the cases
                         (input and output tensor names), versions, seed and the full HF config

HF initialises norms to 1/0, biases to 0 and layer scales to a constant, under which a swapped or
misnamed vector goes unnoticed; every 1-D parameter therefore gets seeded noise, and the position
embeddings and CLS token a larger draw, before the outputs are computed.

Needs python3 with torch, transformers (5.x), safetensors. Runs in seconds on a CPU.
"""

import copy
import json
import os
import sys
import traceback

import torch
import transformers
from safetensors.torch import load_file, save_file

MAX_TOTAL_BYTES = 2 * 1024 * 1024


# ---- helpers --------------------------------------------------------------------------------------


def request_eager(config):
    """Asks for the eager attention path (the plain softmax(q k^T) v our encoders compute)."""
    try:
        config._attn_implementation = "eager"
    except (AttributeError, TypeError, ValueError):
        pass


def build(cls, config):
    request_eager(config)
    model = cls(config)
    if hasattr(model, "set_attn_implementation"):
        try:
            model.set_attn_implementation("eager")
        except (AttributeError, TypeError, ValueError):
            pass
    impl = getattr(model.config, "_attn_implementation", None)
    if impl not in (None, "eager"):
        sys.exit(f"{cls.__name__}: attention implementation is {impl!r}, not 'eager'")
    return model.float().eval()


def perturb(model, vector_scale=0.1, embedding_scale=0.5):
    """Seeded noise on every 1-D parameter; position embeddings and CLS token redrawn larger."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "position_embedding" in name or name.endswith("cls_token"):
                p.copy_(embedding_scale * torch.randn_like(p))
            elif p.dim() == 1:
                p.add_(vector_scale * torch.randn_like(p))


def state_dict_for_saving(model, prefer=("shared.weight",)):
    """model.state_dict() with one name per storage (save_pretrained drops tied duplicates), float32,
    contiguous, in state-dict order."""
    state = model.state_dict()
    groups = {}
    for name, t in state.items():
        groups.setdefault((t.data_ptr(), tuple(t.shape), t.dtype), []).append(name)
    keep = set()
    for names in groups.values():
        preferred = [n for n in names if n in prefer]
        keep.add(preferred[0] if preferred else names[0])
        if len(names) > 1:
            print(f"  tied: {names} -> written once as {preferred[0] if preferred else names[0]!r}")
    out = {}
    for name, t in state.items():
        if name not in keep:
            continue
        t = t.detach().cpu()
        if t.is_floating_point():
            t = t.to(torch.float32)
        out[name] = t.contiguous().clone()
    return out


def write_safetensors(path, tensors):
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
    save_file(tensors, path, metadata={"format": "pt"})
    back = load_file(path)
    assert set(back) == set(tensors), path
    for k, v in tensors.items():
        assert torch.equal(back[k], v), f"{path}: {k} did not read back"


def forward(model, **inputs):
    with torch.no_grad():
        return model(**inputs, output_hidden_states=True)


def fp64_diff(model, inputs, reference):
    """max |fp32 last_hidden_state - fp64 last_hidden_state| of the same model: transformers' own
    rounding noise, a scale for the C++ test's tolerance."""
    try:
        m64 = copy.deepcopy(model).double()
        inputs64 = {k: (v.double() if v.is_floating_point() else v) for k, v in inputs.items()}
        with torch.no_grad():
            out64 = m64(**inputs64).last_hidden_state
        return float((out64 - reference.double()).abs().max())
    except Exception as e:  # informative only: never lose the fixture over it
        print(f"  note: no fp64 comparison ({type(e).__name__}: {e})")
        return None


def hidden_states(prefix, out):
    """HF's output_hidden_states tuple, for diagnosis only (the C++ test does not read it)."""
    hs = getattr(out, "hidden_states", None) or ()
    return {f"{prefix}hidden_states.{i}": h for i, h in enumerate(hs)}


def versions():
    return {"transformers_version": transformers.__version__, "torch_version": torch.__version__}


def hf_config_dict(config):
    return json.loads(config.to_json_string(use_diff=False))


def write_fixture(out_dir, name, model, io, meta, prefix=""):
    """prefix: put before every weight name that lacks it (see make_siglip)."""
    written = []
    weights = {(k if k.startswith(prefix) else prefix + k): v for k, v in state_dict_for_saving(model).items()}
    paths = {
        f"{name}.safetensors": weights,
        f"{name}_io.safetensors": io,
    }
    for file_name, tensors in paths.items():
        path = os.path.join(out_dir, file_name)
        write_safetensors(path, tensors)
        written.append(path)
    path = os.path.join(out_dir, f"{name}.json")
    with open(path, "w") as f:
        json.dump(meta, f, indent=2, sort_keys=True)
        f.write("\n")
    written.append(path)
    return written


def vit_meta(style, config, mlp_dim):
    """Our VitConfig (keys as in core/model/model_config.cc) from the HF config it was built from."""
    return {
        "style": style,
        "image_size": config.image_size,
        "patch_size": config.patch_size,
        "width": config.hidden_size,
        "depth": config.num_hidden_layers,
        "heads": config.num_attention_heads,
        "mlp_dim": mlp_dim,
        "eps": config.layer_norm_eps,
        "position_grid": config.image_size // config.patch_size,
    }


def t5_meta(config, max_tokens):
    """Our T5Config from the HF config (max_tokens is ours alone)."""
    return {
        "vocab_size": config.vocab_size,
        "d_model": config.d_model,
        "d_kv": config.d_kv,
        "heads": config.num_heads,
        "d_ff": config.d_ff,
        "layers": config.num_layers,
        "num_buckets": config.relative_attention_num_buckets,
        "max_distance": config.relative_attention_max_distance,
        "eps": config.layer_norm_epsilon,
        "max_tokens": max_tokens,
    }


# ---- fixtures -------------------------------------------------------------------------------------


def make_dinov2(out_dir, seed=1401):
    """Dinov2Model: CLS first, layer scale, exact GELU, final layernorm; position grid 4x4 (56 px at
    patch 14). Case 1: 56x56 input (stored grid, no interpolation). Case 2: 42x70 input (3x5 grid:
    bicubic interpolation of the position embedding, non-square)."""
    torch.manual_seed(seed)
    config = transformers.Dinov2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        mlp_ratio=3,  # mlp_dim 96 (transformers 5 takes an int)
        hidden_act="gelu",
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        initializer_range=0.05,
        layer_norm_eps=1e-6,
        image_size=56,
        patch_size=14,
        num_channels=3,
        qkv_bias=True,
        layerscale_value=0.5,
        drop_path_rate=0.0,
        use_swiglu_ffn=False,
    )
    model = build(transformers.Dinov2Model, config)
    perturb(model)
    io, cases = {}, []
    for prefix, (h, w) in (("", (56, 56)), ("interpolated.", (42, 70))):
        pixels = torch.randn(2 if not prefix else 1, 3, h, w)
        out = forward(model, pixel_values=pixels)
        last = out.last_hidden_state
        grid = (h // 14) * (w // 14)
        assert last.shape == (pixels.shape[0], 1 + grid, 32), last.shape
        io[prefix + "pixel_values"] = pixels
        io[prefix + "last_hidden_state"] = last
        io.update(hidden_states(prefix, out))
        cases.append({
            "input": prefix + "pixel_values",
            "output": prefix + "last_hidden_state",
            "fp32_vs_fp64_max_abs_diff": fp64_diff(model, {"pixel_values": pixels}, last),
        })
    meta = {
        "fixture": "dinov2",
        "hf_class": "Dinov2Model",
        "seed": seed,
        "vit": vit_meta("dinov2", config, config.hidden_size * config.mlp_ratio),
        "cases": cases,
        "hf_config": hf_config_dict(config),
        **versions(),
    }
    return write_fixture(out_dir, "dinov2", model, io, meta)


def make_siglip(out_dir, seed=1402):
    """SiglipVisionModel: no CLS, tanh GELU, post_layernorm; 48 px at patch 16 (3x3 patches). The
    attention-pooling head (vision_model.head.*) is in the file, as in real checkpoints, and is not
    compared (our encoder returns last_hidden_state)."""
    torch.manual_seed(seed)
    config = transformers.SiglipVisionConfig(
        hidden_size=32,
        intermediate_size=72,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_channels=3,
        image_size=48,
        patch_size=16,
        hidden_act="gelu_pytorch_tanh",
        layer_norm_eps=1e-6,
        attention_dropout=0.0,
    )
    model = build(transformers.SiglipVisionModel, config)
    perturb(model)
    pixels = torch.randn(2, 3, 48, 48)
    out = forward(model, pixel_values=pixels)
    last = out.last_hidden_state
    assert last.shape == (2, 9, 32), last.shape
    io = {"pixel_values": pixels, "last_hidden_state": last, **hidden_states("", out)}
    meta = {
        "fixture": "siglip",
        "hf_class": "SiglipVisionModel",
        "seed": seed,
        "vit": vit_meta("siglip", config, config.intermediate_size),
        "cases": [{
            "input": "pixel_values",
            "output": "last_hidden_state",
            "fp32_vs_fp64_max_abs_diff": fp64_diff(model, {"pixel_values": pixels}, last),
        }],
        "hf_config": hf_config_dict(config),
        **versions(),
    }
    # Released SigLIP checkpoints (SiglipModel and SiglipVisionModel files alike) name the tower's
    # weights `vision_model.*`; transformers 5's SiglipVisionModel.state_dict() drops that prefix.
    return write_fixture(out_dir, "siglip", model, io, meta, prefix="vision_model.")


def make_t5(out_dir, seed=1403):
    """T5EncoderModel (v1.1: gated-gelu, no 1/sqrt(d), relative position buckets from block 0).
    inner = heads * d_kv = 48 differs from d_model = 32; 16 buckets with max_distance 20 and length 24
    reach the exact, the log-spaced and the clamped bucket ranges. Row 1 is padded after 17 tokens
    (mask 0): the test compares token positions only."""
    torch.manual_seed(seed)
    vocab, length = 64, 24
    config = transformers.T5Config(
        vocab_size=vocab,
        d_model=32,
        d_kv=12,
        d_ff=48,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=16,
        relative_attention_max_distance=20,
        dropout_rate=0.0,
        layer_norm_epsilon=1e-6,
        feed_forward_proj="gated-gelu",
        use_cache=False,
        pad_token_id=0,
        eos_token_id=1,
    )
    assert config.is_gated_act and config.dense_act_fn == "gelu_new", (config.is_gated_act, config.dense_act_fn)
    model = build(transformers.T5EncoderModel, config)
    perturb(model)
    embed = getattr(model.encoder, "embed_tokens", None)
    if embed is not None and embed.weight.data_ptr() != model.shared.weight.data_ptr():
        print("  note: encoder.embed_tokens is not tied to shared; copying shared into it")
        with torch.no_grad():
            embed.weight.copy_(model.shared.weight)
    ids = torch.randint(2, vocab, (2, length), dtype=torch.int64)
    mask = torch.ones(2, length, dtype=torch.int64)
    ids[0, -1] = 1  # EOS
    ids[1, 16] = 1
    ids[1, 17:] = 0  # pad
    mask[1, 17:] = 0
    out = forward(model, input_ids=ids, attention_mask=mask)
    last = out.last_hidden_state
    assert last.shape == (2, length, 32), last.shape
    io = {"input_ids": ids, "attention_mask": mask, "last_hidden_state": last, **hidden_states("", out)}
    meta = {
        "fixture": "t5",
        "hf_class": "T5EncoderModel",
        "seed": seed,
        "t5": t5_meta(config, max_tokens=32),
        "cases": [{
            "input_ids": "input_ids",
            "attention_mask": "attention_mask",
            "output": "last_hidden_state",
            "fp32_vs_fp64_max_abs_diff": fp64_diff(model, {"input_ids": ids, "attention_mask": mask}, last),
        }],
        "hf_config": hf_config_dict(config),
        **versions(),
    }
    return write_fixture(out_dir, "t5", model, io, meta)


# ---- main -----------------------------------------------------------------------------------------


def describe(path):
    size = os.path.getsize(path)
    print(f"{path}  ({size} bytes)")
    if path.endswith(".safetensors"):
        for k, v in load_file(path).items():
            print(f"    {k:70s} {str(list(v.shape)):18s} {str(v.dtype).replace('torch.', '')}")
    return size


def main(argv):
    if len(argv) != 2:
        sys.exit(f"usage: {argv[0]} OUT_DIR")
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    written = []
    failed = []
    for make in (make_dinov2, make_siglip, make_t5):
        name = make.__name__[len("make_"):]
        print(f"{name}:")
        try:
            written += make(out_dir)
        except Exception:  # one family's failure does not stop the others
            traceback.print_exc()
            failed.append(name)
    total = sum(describe(p) for p in written)
    print(f"wrote {len(written)} files, {total} bytes, into {out_dir}")
    if total > MAX_TOTAL_BYTES:
        sys.exit(f"fixtures total {total} bytes, over the {MAX_TOTAL_BYTES}-byte budget")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main(sys.argv)
