"""Number formats for training: float32, or bfloat16 where the CPU computes it natively.

Keras's ``mixed_bfloat16`` policy computes in bfloat16 and keeps the weights in float32. On a
CPU without bfloat16 instructions that is emulated and slower, so the book trains in float32
unless the CPU has them: AVX512-BF16 or AMX-BF16 on x86-64 (the ``avx512_bf16`` and
``amx_bf16`` flags of ``/proc/cpuinfo``), the BF16 extension on AArch64 (``bf16`` among the
``Features``). bfloat16 keeps float32's exponent range, so unlike float16 it needs no loss
scaling.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import keras

from .checks import choice

PRECISIONS = ("float32", "mixed_bfloat16")
DEFAULT_PRECISION = "float32"
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")
"""CPU flags (x86-64's, then AArch64's) that mean bfloat16 arithmetic in hardware."""


def cpu_flags(cpuinfo: str) -> set[str]:
    """The feature flags of the first processor listed in the text of ``/proc/cpuinfo``.

    x86-64 lists them on a ``flags`` line, AArch64 on a ``Features`` line; an empty set means
    the text lists none (another system, or an unreadable file).

    Args:
        cpuinfo: the contents of ``/proc/cpuinfo``.
    """
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in ("flags", "features"):
            return set(value.split())
    return set()


def read_cpu_flags(path: str | Path = "/proc/cpuinfo") -> set[str]:
    """This machine's CPU flags (:func:`cpu_flags` of ``path``; empty where it cannot be read).

    Args:
        path: the file to read.
    """
    try:
        return cpu_flags(Path(path).read_text(errors="replace"))
    except OSError:
        return set()


def native_bf16(flags: set[str]) -> list[str]:
    """The flags among ``flags`` that mean native bfloat16 (empty: bfloat16 would be emulated).

    Args:
        flags: CPU flags, for instance from :func:`read_cpu_flags`.
    """
    return [flag for flag in BF16_FLAGS if flag in flags]


def describe_bf16(flags: set[str]) -> str:
    """One sentence on whether this CPU computes bfloat16 natively, naming the flags it has.

    Args:
        flags: CPU flags, for instance from :func:`read_cpu_flags`.
    """
    found = native_bf16(flags)
    if found:
        return f"native bfloat16: yes ({', '.join(found)})"
    if not flags:
        return "native bfloat16: unknown (no CPU flags found); training stays in float32"
    return "native bfloat16: no (no avx512_bf16, amx_bf16 or bf16 flag); training stays in float32"


def check_precision(name: str) -> str:
    """``name`` if it is a known precision, else an error listing the known ones.

    Args:
        name: ``"float32"`` or ``"mixed_bfloat16"``.
    """
    return choice("precision", name, PRECISIONS)


@contextmanager
def using_precision(name: str) -> Iterator[None]:
    """Build and train under Keras's global dtype policy ``name``, restoring the previous one after.

    Args:
        name: ``"float32"`` or ``"mixed_bfloat16"``.
    """
    check_precision(name)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def float32_outputs(model: keras.Model) -> keras.Model:
    """``model`` with every output cast to float32 (a model built under bfloat16 returns bfloat16).

    The cast layers are named after the outputs (``<name>_float32``); the loss, the metrics and
    a saved model's user all see float32 logits. A float32 model is returned unchanged.

    Args:
        model: a built functional model.
    """
    outputs = getattr(model, "outputs", None)
    if outputs is None:  # a subclassed model (the note's) has no graph to add a cast to
        raise ValueError(f"{model.name} is a subclassed model; only functional models can return float32 logits")
    if all(keras.backend.standardize_dtype(t.dtype) == "float32" for t in outputs):
        return model
    structure = model.output
    names = list(structure) if isinstance(structure, dict) else None
    tensors = (
        [structure[n] for n in names] if names else ([structure] if not isinstance(structure, list) else structure)
    )
    cast = [
        keras.layers.Activation("linear", dtype="float32", name=f"{t._keras_history.operation.name}_float32")(t)
        for t in tensors
    ]
    result = dict(zip(names, cast, strict=True)) if names else (cast[0] if len(cast) == 1 else cast)
    return keras.Model(model.input, result, name=model.name)
