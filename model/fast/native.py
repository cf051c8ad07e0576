"""The trainer's fused elementwise kernels (kernels.c), compiled once per machine with the system C compiler.

Why: beyond its five matrix products, a step spent ~180 µs on five separate PyTorch passes over its (256, 784)
buffer (sigmoid, difference, loss, sigmoid derivative, bias sum), each reading and writing 800 KB, plus Adam's
six and the batch's conversion from bytes; one C loop each does the same work in one pass. The source has no
PyTorch headers, so it builds in well under a second with `cc` and is loaded with ctypes.

The build is cached per user, keyed by a hash of the source, the compiler, its flags and this CPU (the flags
include -march=native), and is race-safe: several engine workers may build at once, each into a temporary
file that os.replace moves into place. Everything falls back to the eager PyTorch code when the kernels are
unusable: no compiler, a failed build, STUDIO_NATIVE_KERNELS=0, a tensor on CUDA or not contiguous float32.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import torch

ENV_SWITCH = "STUDIO_NATIVE_KERNELS"  # "0" turns the kernels off: the eager PyTorch code runs instead
ENV_CACHE = "STUDIO_KERNEL_CACHE"  # where built libraries are kept (default: the user's cache directory)
SOURCE = Path(__file__).with_name("kernels.c")
FLAGS = ("-O3", "-march=native", "-fno-math-errno", "-fno-trapping-math", "-fPIC", "-shared")
# Tried when FLAGS fail (a compiler without -march=native for this CPU): slower vectors, same results.
PORTABLE_FLAGS = tuple(flag for flag in FLAGS if flag != "-march=native")
MAX_COLS = 1024  # kernels.c's per-column scratch: wider rows go the eager way
BUILD_SECONDS = 60  # a compiler that takes longer than this is treated as absent

_c_float, _c_int64, _ptr = ctypes.c_float, ctypes.c_int64, ctypes.c_void_p
_SIGNATURES = {
    "decoder_pass": (None, [_ptr, _ptr, _ptr, _c_int64, _c_int64, ctypes.c_int, _c_float, _ptr, _ptr]),
    "squared_error": (ctypes.c_double, [_ptr, _ptr, _ptr, _c_int64, _c_int64, ctypes.c_int]),
    "code_pass": (None, [_ptr, _ptr, _c_int64, _c_int64, ctypes.c_int, _c_float, _ptr]),
    "adam": (None, [_ptr, _ptr, _ptr, _ptr, _c_int64, _c_float, _c_float, _c_float, _c_float, _c_float]),
    "unit_float": (None, [_ptr, _ptr, _c_int64]),
}

_lock = threading.Lock()
_UNSET = object()
_library: ctypes.CDLL | None | object = _UNSET  # this process's answer, found once: the library or None
last_error = ""  # why the kernels are off, for tests and logs ("" while they work or were never tried)


def enabled() -> bool:
    """False when the environment switch turns the kernels off."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def compiler() -> str | None:
    """The C compiler to use: $CC, else `cc` on the PATH; None when there is none."""
    name = os.environ.get("CC") or "cc"
    return shutil.which(name)


def machine_identity() -> str:
    """What -march=native depends on: the architecture and, where Linux says, the CPU's model and flags."""
    parts = [platform.machine(), platform.processor()]
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.split(":")[0].strip() in ("model name", "flags", "Features", "CPU part"):
                    parts.append(line.strip())
                if line.strip() == "":  # the first processor's block is enough
                    break
    except OSError:
        pass
    return "\n".join(parts)


def cache_dir() -> Path:
    """Per-user directory of built libraries."""
    chosen = os.environ.get(ENV_CACHE)
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autoencoder-studio" / "kernels"


def library_key(cc: str, source: bytes) -> str:
    """A hash of everything the built file depends on."""
    digest = hashlib.sha256()
    for part in (source, cc.encode(), " ".join(FLAGS).encode(), machine_identity().encode()):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()[:24]


def _build(cc: str, target: Path) -> None:
    """Compile kernels.c into `target`: into a temporary file first, moved into place in one step."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".so", dir=target.parent)
    os.close(handle)
    try:
        for flags in (FLAGS, PORTABLE_FLAGS):
            command = [cc, *flags, "-o", temp, str(SOURCE), "-lm"]
            try:
                subprocess.run(command, check=True, capture_output=True, timeout=BUILD_SECONDS)
                break
            except subprocess.CalledProcessError:
                if flags is PORTABLE_FLAGS:
                    raise
        os.replace(temp, target)  # atomic: a racing process loads either no file or a whole one
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _load(path: Path) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(path))
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    _check(lib)
    return lib


def _check(lib: ctypes.CDLL) -> None:
    """Refuse a library whose byte conversion is not PyTorch's bit for bit (the batches' contract)."""
    pixels = torch.arange(256, dtype=torch.uint8)
    ours = torch.empty(256)
    lib.unit_float(pixels.data_ptr(), ours.data_ptr(), 256)
    theirs = pixels.to(torch.float32).div_(255.0)
    if not torch.equal(ours.view(torch.int32), theirs.view(torch.int32)):
        raise RuntimeError("the kernels' byte conversion differs from PyTorch's")


def library() -> ctypes.CDLL | None:
    """The kernels, built on first use (or found built); None when they are off or cannot be built.

    Looked for once per process (forget() makes the next call look again); the switch is read at every call.
    """
    if not enabled():
        return None
    found = _library
    if found is _UNSET:
        with _lock:
            if _library is _UNSET:
                _find()
            found = _library
    return found  # type: ignore[return-value]


def _find() -> None:
    """Load the library for this source, compiler and CPU, building it first if no process has yet."""
    global _library, last_error
    _library, last_error = None, ""
    cc = compiler()
    if cc is None:
        last_error = "no C compiler found (set CC or install cc)"
        return
    try:
        target = cache_dir() / f"kernels-{library_key(cc, SOURCE.read_bytes())}.so"
        if not target.exists():
            _build(cc, target)
        try:
            _library = _load(target)
        except OSError:  # a file that cannot be loaded (damaged, another ABI): built anew once
            _build(cc, target)
            _library = _load(target)
    except subprocess.CalledProcessError as exc:
        last_error = f"the kernels did not build: {exc.stderr.decode(errors='replace')[-500:]}"
    except (OSError, subprocess.SubprocessError, RuntimeError, AttributeError) as exc:
        last_error = f"the kernels are unusable: {exc}"


def forget() -> None:
    """Drop this process's answer, so the next library() call looks again (after changing CC or the cache)."""
    global _library
    with _lock:
        _library = _UNSET


def usable(*tensors: torch.Tensor) -> ctypes.CDLL | None:
    """The kernels, if every tensor is a contiguous float32 CPU tensor and they are on; else None (go eager)."""
    for t in tensors:
        if t.device.type != "cpu" or t.dtype != torch.float32 or not t.is_contiguous():
            return None
    return library()
