from __future__ import annotations

from pathlib import Path

import keras
import pytest

from googlenet import precision

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("fixture", "native"),
    [
        ("cpuinfo_amd_zen5.txt", ["avx512_bf16"]),  # this book's machine: AVX512-BF16, no AMX
        ("cpuinfo_intel_sapphire_rapids.txt", ["avx512_bf16", "amx_bf16"]),
        ("cpuinfo_intel_skylake.txt", []),  # AVX-512 without BF16
        ("cpuinfo_arm_neoverse_v1.txt", ["bf16"]),  # AArch64 lists "Features", not "flags"
    ],
)
def test_bf16_detection_on_cpuinfo_fixtures(fixture, native):
    flags = precision.read_cpu_flags(FIXTURES / fixture)
    assert flags and precision.native_bf16(flags) == native
    sentence = precision.describe_bf16(flags)
    assert sentence.startswith("native bfloat16: yes" if native else "native bfloat16: no")


def test_unreadable_cpuinfo_means_unknown_and_float32(tmp_path):
    assert precision.read_cpu_flags(tmp_path / "missing") == set()
    assert precision.cpu_flags("processor : 0\nmodel name : something\n") == set()
    assert "unknown" in precision.describe_bf16(set()) and "float32" in precision.describe_bf16(set())


def test_using_precision_sets_and_restores_the_policy():
    before = keras.config.dtype_policy().name
    with precision.using_precision("mixed_bfloat16"):
        layer = keras.layers.Dense(2)
        assert layer.compute_dtype == "bfloat16" and layer.variable_dtype == "float32"
    assert keras.config.dtype_policy().name == before
    with pytest.raises(ValueError, match="precision must be one of 'float32', 'mixed_bfloat16'"):
        with precision.using_precision("float16"):
            pass
    assert keras.config.dtype_policy().name == before
