"""coursekit.precision: the number format chosen from facts about the machine."""

import sys
import types

import nbformat
import pytest

from coursekit import precision
from coursekit.facts import MODELS
from coursekit.paths import COURSE_ROOT
from coursekit.precision import Gpu, decide_precision
from coursekit.results import read_results

AMX_CPU = {"fpu", "avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"}
LAPTOP_CPU = {"fpu", "sse4_2", "avx2", "fma"}
A100, T4 = Gpu("A100", (8, 0)), Gpu("Tesla T4", (7, 5))


@pytest.mark.parametrize("cpu_flags, gpus, policy, why", [
    (AMX_CPU, [], "mixed_bfloat16", "AMX bfloat16"),
    ({"fpu", "avx512f", "avx512_bf16"}, [], "mixed_bfloat16", "AVX-512 bfloat16"),
    (LAPTOP_CPU, [], "float32", "no AMX or AVX-512 bfloat16"),
    (None, [], "float32", "cannot be read"),  # macOS, Windows
    # Colab's T4: float16 units, no bfloat16, whatever the CPU beside it has
    (AMX_CPU, [T4], "mixed_float16", "Tesla T4 (compute capability 7.5) computes float16"),
    # Keras computes on the first GPU, so it decides; bfloat16 units start at 8.0 (Ampere)
    (LAPTOP_CPU, [A100, T4], "mixed_bfloat16", "A100 (compute capability 8.0)"),
    (AMX_CPU, [Gpu("unknown accelerator", None), A100], "float32", "not a CUDA"),
])
def test_decision_follows_the_hardware(cpu_flags, gpus, policy, why):
    chosen, reason = decide_precision(cpu_flags, gpus)
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


@pytest.mark.parametrize("forced, said", [
    (None, "mixed_float16 (GPU Tesla T4 (compute capability 7.5) computes float16 natively)"),
    ("float32", "float32 (chosen for this timing run)"),  # `make bench`'s float32 timings
])
def test_choose_precision_sets_the_policy_and_says_why(monkeypatch, capsys, forced, said):
    policies = []
    fake_keras = types.SimpleNamespace(
        mixed_precision=types.SimpleNamespace(set_global_policy=policies.append))
    monkeypatch.setitem(sys.modules, "keras", fake_keras)  # no TensorFlow start-up here
    monkeypatch.setattr(precision, "cpu_flags", lambda: LAPTOP_CPU)
    monkeypatch.setattr(precision, "gpus", lambda: [T4])
    if forced:
        monkeypatch.setitem(precision.FORCED, "policy", forced)
    assert [precision.choose_precision()] == policies == [said.split()[0]]
    assert capsys.readouterr().out == f"precision: {said}\n"


def test_reference_machine_chooses_what_the_committed_results_recorded():
    """On a CPU with bfloat16 instructions and no GPU, like the reference machine, a lesson
    that chooses its precision chooses the one its committed results were trained in."""
    flags = precision.cpu_flags()
    if not flags or not flags & set(precision.BFLOAT16_CPU_FLAGS) or precision.gpus():
        pytest.skip("not a machine like the reference one (bfloat16 CPU, no GPU)")
    choosing = {p.name for p in (COURSE_ROOT / "notebooks").glob("[0-9]*.ipynb")
                if "choose_precision()" in p.read_text(encoding="utf-8")}
    recorded = {model_id: entry.get("precision") for model_id, entry
                in read_results(COURSE_ROOT / "figures" / "results.json").items()
                if MODELS[model_id].lesson in choosing}
    assert recorded, "no committed result comes from a lesson that calls choose_precision()"
    assert set(recorded.values()) == {decide_precision(flags, [])[0]}, recorded
