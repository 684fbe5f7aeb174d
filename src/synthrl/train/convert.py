"""Convert a GGUF checkpoint to a plain, trainable Hugging Face folder (fp32 safetensors).

`convert_once` is crash-safe: it writes into a staging folder and renames it into place, so a
folder at the target is always complete (a kill mid-conversion leaves only the staging folder,
which the next call discards).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def convert_once(gguf: Path, target: Path) -> Path:
    """`target`, converted from `gguf` unless an earlier call already finished it."""
    if (target / "config.json").is_file():
        return target
    staging = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        gguf_to_hf(gguf, staging)
        shutil.rmtree(target, ignore_errors=True)  # an incomplete folder of an older version
        staging.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def gguf_to_hf(gguf: Path, out_dir: Path) -> Path:
    """Dequantise `gguf` with transformers and save it without any quantisation marker."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    # Loaded from GGUF, the model is flagged as quantised (and so untrainable); it holds plain
    # fp32 tensors, so drop the flag and the quantisation config before saving.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    return out_dir
