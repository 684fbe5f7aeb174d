"""Convert a GGUF checkpoint to a plain, trainable Hugging Face folder (fp32 safetensors)."""

from __future__ import annotations

from pathlib import Path


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
