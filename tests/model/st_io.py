"""st_io.py — safetensors files (SPEC 11.2) written and read by hand (struct + json + numpy) for the model
reference tests: float32 tensors, string metadata, the header padded to 8 bytes."""
import json
import struct

import numpy as np


def st_write(path, tensors, meta=None):
    hdr, blobs, off = {}, [], 0
    if meta:
        hdr["__metadata__"] = {k: str(v) for k, v in meta.items()}
    for name, a in tensors.items():
        b = np.ascontiguousarray(a, dtype="<f4").tobytes()
        hdr[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(hdr).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def st_read(path):
    """Returns ({name: float32 array}, {metadata})."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    hdr = json.loads(raw[8:8 + n])
    meta = hdr.pop("__metadata__", {})
    out = {}
    for name, d in hdr.items():
        assert d["dtype"] == "F32", d
        a, b = d["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype="<f4").reshape(d["shape"])
    return out, meta
