"""Write a Hugging Face model as GGUF for llama.cpp / Ollama, using the GGUF it was made from as
the template: its metadata (architecture, hyperparameters, tokenizer, chat template) is copied
and each of its tensors is replaced by the trained weights of the same name.

    write_gguf(Path("runs/x/train/model"), Path("~/.cache/synthrl/models/base.gguf"), out)

That covers every model synthrl trains from a GGUF (`embedded:base`, `gguf:PATH`), without
llama.cpp's own converter (`convert_hf_to_gguf.py`, not on PyPI). Architectures whose tensors
llama.cpp stores as Hugging Face does (no rotary permutation, no norm offsets) are supported:
Qwen2 among them; others are refused with a pointer to that converter. Norms and biases stay in
F32; matrices are written as `q8_0` (default), `q5_0`, `q4_0`, `f16` or `f32`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from synthrl.errors import SynthRLError

SUPPORTED = ("qwen2", "qwen3")
DTYPES = ("q8_0", "q5_0", "q4_0", "f16", "f32")
_FILE_TYPES = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 7, "q5_0": 8}  # llama_ftype


def write_gguf(hf_dir: Path, template: Path, out: Path, dtype: str = "q8_0") -> Path:
    """Write the weights of `hf_dir` into a GGUF shaped like `template`; atomically."""
    import gguf

    if dtype not in DTYPES:
        raise SynthRLError(f"GGUF dtype {dtype!r}: use one of {', '.join(DTYPES)}")
    reader = gguf.GGUFReader(str(template))
    arch = str(reader.fields["general.architecture"].contents())
    if arch not in SUPPORTED:
        raise SynthRLError(
            f"writing a {arch} model as GGUF is not supported here (only {', '.join(SUPPORTED)}); "
            "use llama.cpp's convert_hf_to_gguf.py on the Hugging Face folder instead."
        )
    weights = _hf_weights(hf_dir)
    names = _name_map(arch, reader, weights)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    writer = gguf.GGUFWriter(str(partial), arch)
    try:
        _copy_metadata(reader, writer, dtype)
        for tensor in reader.tensors:
            _add_tensor(writer, tensor.name, weights[names[tensor.name]], dtype)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return out


CACHE_KEEP = 3  # conversions kept in the GGUF cache (about 0.5 GB each for the embedded base)


def cached_gguf(hf_dir: Path, template: Path, dtype: str = "q8_0") -> Path:
    """`hf_dir` written as GGUF once, kept under `$SYNTHRL_HOME/gguf/` by the content hash of
    its weights (a retrained model gets a new file; the same weights are written once). Only the
    `CACHE_KEEP` most recently used conversions are kept: every training run adds one."""
    from synthrl.fingerprint import digest, file_digest, folder_digest
    from synthrl.paths import home

    key = digest([folder_digest(hf_dir), file_digest(template), dtype])
    out = home() / "gguf" / f"{hf_dir.name}-{key}-{dtype}.gguf"
    if out.is_file():
        out.touch()  # most recently used
    else:
        write_gguf(hf_dir, template, out, dtype)
    evict_stale(out.parent, CACHE_KEEP)
    return out


def evict_stale(folder: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` most recently modified `*.gguf` files in `folder`."""
    files = sorted(folder.glob("*.gguf"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in files[keep:]:
        path.unlink(missing_ok=True)
    return files[keep:]


def _hf_weights(hf_dir: Path) -> dict[str, Any]:
    from safetensors.numpy import load_file

    files = sorted(hf_dir.glob("*.safetensors"))
    if not files:
        raise SynthRLError(f"{hf_dir}: no *.safetensors weights to write as GGUF")
    weights: dict[str, Any] = {}
    for path in files:
        weights.update(load_file(str(path)))
    return weights


def _name_map(arch: str, reader: Any, weights: dict[str, Any]) -> dict[str, str]:
    """GGUF tensor name -> Hugging Face tensor name, for every tensor of the template."""
    import gguf

    blocks = int(reader.fields[f"{arch}.block_count"].contents())
    table = gguf.TensorNameMap(gguf.MODEL_ARCH[arch.upper()], blocks)
    found = {}
    for hf_name in weights:
        name = table.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is not None:
            found[name] = hf_name
    missing = [t.name for t in reader.tensors if t.name not in found]
    if missing:
        raise SynthRLError(
            f"the model has no weights for {len(missing)} tensors of its GGUF template "
            f"(e.g. {', '.join(missing[:3])}); is it the same architecture and size?"
        )
    return found


def _copy_metadata(reader: Any, writer: Any, dtype: str) -> None:
    import gguf

    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key in ("general.architecture", "general.file_type"):
            continue
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), value_type, sub_type=sub_type)
    writer.add_file_type(_FILE_TYPES[dtype])


def _add_tensor(writer: Any, name: str, array: Any, dtype: str) -> None:
    import gguf

    data = np.asarray(array, dtype=np.float32)
    if data.ndim == 1 or dtype == "f32":  # norms and biases stay exact
        writer.add_tensor(name, data)
    elif dtype == "f16":
        writer.add_tensor(name, data.astype(np.float16))
    else:
        qtype = gguf.GGMLQuantizationType[dtype.upper()]
        writer.add_tensor(name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)
