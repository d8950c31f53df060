"""coursekit.precision: the number format chosen from facts about the machine."""

import json
import sys
import types

import nbformat
import pytest

from coursekit import precision
from coursekit.facts import MODELS
from coursekit.precision import Gpu, decide_precision
from coursekit.paths import COURSE_ROOT as REPO

AMX_CPU = {"fpu", "avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"}
AVX512_BF16_CPU = {"fpu", "avx2", "avx512f", "avx512_bf16"}
LAPTOP_CPU = {"fpu", "sse4_2", "avx2", "fma"}


@pytest.mark.parametrize("facts, policy, why", [
    (dict(cpu_flags=AMX_CPU, gpus=[]), "mixed_bfloat16", "AMX bfloat16"),
    (dict(cpu_flags=AVX512_BF16_CPU, gpus=[]), "mixed_bfloat16", "AVX-512 bfloat16"),
    (dict(cpu_flags=LAPTOP_CPU, gpus=[]), "float32", "no AMX or AVX-512 bfloat16"),
    (dict(cpu_flags=None, gpus=[], platform="win32"), "float32", "cannot be read"),
    # Apple silicon: TensorFlow's CPU kernels there are not known to use its bf16
    (dict(cpu_flags=None, gpus=[], platform="darwin"), "float32", "macOS"),
    # Colab's T4: float16 units, no bfloat16, whatever the CPU beside it has
    (dict(cpu_flags=AMX_CPU, gpus=[Gpu("Tesla T4", (7, 5))]), "mixed_float16", "7.5"),
    (dict(cpu_flags=LAPTOP_CPU, gpus=[Gpu("NVIDIA A100-SXM4-40GB", (8, 0))]),
     "mixed_bfloat16", "8.0"),
    (dict(cpu_flags=LAPTOP_CPU, gpus=[Gpu("NVIDIA L4", (8, 9))]), "mixed_bfloat16", "8.9"),
    # Keras computes on the first GPU, so it decides, whatever the others are
    (dict(cpu_flags=LAPTOP_CPU, gpus=[Gpu("A100", (8, 0)), Gpu("Tesla V100", (7, 0))]),
     "mixed_bfloat16", "A100"),
    (dict(cpu_flags=LAPTOP_CPU, gpus=[Gpu("Tesla V100", (7, 0)), Gpu("A100", (8, 0))]),
     "mixed_float16", "V100"),
    (dict(cpu_flags=AMX_CPU, gpus=[Gpu("unknown accelerator", None), Gpu("A100", (8, 0))]),
     "float32", "not a CUDA"),
    (dict(cpu_flags=AMX_CPU, gpus=[Gpu("unknown accelerator", None)]), "float32", "not a CUDA"),
])
def test_decision_follows_the_hardware(facts, policy, why):
    chosen, reason = decide_precision(**facts)
    assert chosen == policy and why in reason, reason


@pytest.mark.parametrize("cpuinfo, flags", [
    ("processor\t: 0\nflags\t\t: fpu avx512_bf16 amx_bf16\n\nprocessor\t: 1\n",
     {"fpu", "avx512_bf16", "amx_bf16"}),
    ("processor\t: 0\nFeatures\t: fp asimd bf16\n", {"fp", "asimd", "bf16"}),  # Arm
    ("processor\t: 0\n", None),
    (None, None),  # no /proc/cpuinfo at all
])
def test_cpu_flags_are_read_from_cpuinfo(tmp_path, cpuinfo, flags):
    if cpuinfo is not None:
        (tmp_path / "cpuinfo").write_text(cpuinfo)
    assert precision.cpu_flags(tmp_path / "cpuinfo") == flags


def test_choose_precision_sets_the_policy_and_says_why(monkeypatch, capsys):
    policies = []
    fake_keras = types.SimpleNamespace(
        mixed_precision=types.SimpleNamespace(set_global_policy=policies.append))
    monkeypatch.setitem(sys.modules, "keras", fake_keras)  # no TensorFlow start-up here
    monkeypatch.setattr(precision, "cpu_flags", lambda: LAPTOP_CPU)
    monkeypatch.setattr(precision, "gpus", lambda: [Gpu("Tesla T4", (7, 5))])

    assert precision.choose_precision() == "mixed_float16"
    assert policies == ["mixed_float16"]
    assert capsys.readouterr().out == (
        "precision: mixed_float16 (GPU Tesla T4 (compute capability 7.5) computes float16 "
        "natively, bfloat16 only from 8.0 on)\n")


def test_reference_machine_chooses_what_the_committed_results_recorded():
    """On an AMX CPU without a GPU, like the reference machine, each lesson that chooses
    its precision chooses the one its committed results were trained in."""
    flags = precision.cpu_flags()
    if not flags or "amx_bf16" not in flags:
        pytest.skip("not an AMX machine like the reference one")
    choosing = {path.name for path in (REPO / "notebooks").glob("[0-9]*.ipynb")
                if "choose_precision()" in "\n".join(
                    cell.source for cell in nbformat.read(path, as_version=4).cells
                    if cell.cell_type == "code")}
    results = json.loads((REPO / "figures" / "results.json").read_text(encoding="utf-8"))
    recorded = {model_id: entry.get("precision") for model_id, entry in results.items()
                if MODELS[model_id].lesson in choosing}
    assert recorded, "no committed result comes from a lesson that calls choose_precision()"
    chosen = decide_precision(cpu_flags=flags, gpus=[])[0]
    assert recorded == dict.fromkeys(recorded, chosen)
