"""What a result's metadata records about the machine that made it."""

from googlenet import provenance

ZEN3 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx fma avx2 sha_ni

processor\t: 1
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx fma avx2 sha_ni
"""
ZEN4 = ZEN3.replace("model\t\t: 1", "model\t\t: 17").replace(
    "avx2 sha_ni", "avx2 avx512f avx512_vnni avx512_bf16 sha_ni"
)


def test_two_cpus_of_one_model_name_are_told_apart():
    old, new = provenance.cpu_identity(ZEN3), provenance.cpu_identity(ZEN4)
    assert old == {"family": "25", "model": "1", "flags": ["avx2", "fma"]}
    assert new == {"family": "25", "model": "17", "flags": ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16"]}


def test_an_unreadable_cpuinfo_records_nothing_rather_than_failing():
    assert provenance.cpu_identity("") == {"family": "", "model": "", "flags": []}


def test_this_machine_is_described_with_its_identity():
    described = provenance.machine_description()
    assert set(described) == {"platform", "cpu", "cpu_identity", "cpu_count", "gpus"}
    assert set(described["cpu_identity"]["flags"]) <= set(provenance.KERNEL_FLAGS)
