"""safetensors read and write in plain Python and torch (the `safetensors` package is not assumed installed).

The format: an 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}} with an
optional `__metadata__` of strings, then the raw little-endian tensor bytes.
"""
import ctypes
import json
import os
import struct

import torch

from .protocol import WorkerError

DTYPES = {
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "F64": torch.float64,
    "I64": torch.int64,
    "I32": torch.int32,
}
NAMES = {v: k for k, v in DTYPES.items()}
MAX_HEADER_BYTES = 100 << 20


def read_safetensors(path, max_bytes=64 << 30):
    """name -> tensor (float32 for float types, as the engine trains in float32), and the metadata."""
    size = os.path.getsize(path)
    if size > max_bytes or size < 8:
        raise WorkerError("checkpoint-invalid", f"{path} has {size} bytes: not a safetensors file this reads")
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > MAX_HEADER_BYTES or 8 + n > size:
            raise WorkerError("checkpoint-invalid", f"{path}: header length {n} does not fit the file")
        header = json.loads(f.read(n))
        body = bytearray(f.read())
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        if not 0 <= start <= end <= len(body) or info["dtype"] not in DTYPES:
            raise WorkerError("checkpoint-invalid", f"{path}: tensor {name} has bad offsets or dtype")
        dtype = DTYPES[info["dtype"]]
        raw = body[start:end]
        t = torch.frombuffer(raw, dtype=dtype) if raw else torch.zeros(0, dtype=dtype)
        t = t.reshape(info["shape"]).clone()
        tensors[name] = t.float() if t.is_floating_point() else t
    return tensors, header.get("__metadata__", {})


def write_safetensors(path, tensors, metadata=None):
    """Writes name -> tensor in sorted order, as the safetensors library does, through a temp file and a rename."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        # The bytes of a contiguous CPU tensor, without numpy (torch 2 does not require it).
        data = ctypes.string_at(t.data_ptr(), t.numel() * t.element_size()) if t.numel() else b""
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
