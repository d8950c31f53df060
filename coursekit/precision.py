"""The number format a lesson trains in, chosen for the hardware it runs on: 16-bit
arithmetic ("mixed precision": compute in 16 bits, keep the weights in float32) is faster
only where the hardware computes it natively, and slower than float32 where emulated."""

import re
from pathlib import Path
from typing import NamedTuple

# Set by coursekit.runtime.start(precision=...) for a timing run in one format everywhere
# (`make bench` times every lesson in float32 too, as on a machine without bfloat16 units).
FORCED: dict[str, str] = {}
# Where a CPU flag says bfloat16 is native, and how a learner would call it.
BFLOAT16_CPU_FLAGS = {"amx_bf16": "AMX bfloat16", "avx512_bf16": "AVX-512 bfloat16"}


class Gpu(NamedTuple):
    name: str
    compute_capability: tuple[int, int] | None  # None: not an NVIDIA (CUDA) GPU, or unknown


def decide_precision(cpu_flags: set[str] | None, gpus: list[Gpu]) -> tuple[str, str]:
    """``(policy, reason)`` for these facts; ``cpu_flags`` is None where unreadable."""
    if gpus:  # Keras places its work on the first GPU unless told otherwise
        name, capability = gpus[0]
        if capability is None:
            return "float32", f"GPU {name} is not a CUDA GPU whose 16-bit units are known"
        # bfloat16 units arrived with NVIDIA's Ampere (8.0: A100, RTX 30xx, L4, H100...);
        # older GPUs (Colab's T4 is 7.5) have float16 units only.
        units = "bfloat16" if capability >= (8, 0) else "float16"
        return f"mixed_{units}", (f"GPU {name} (compute capability {capability[0]}."
                                  f"{capability[1]}) computes {units} natively")
    if native := [name for flag, name in BFLOAT16_CPU_FLAGS.items() if flag in (cpu_flags or ())]:
        return "mixed_bfloat16", f"this CPU has {native[0]} instructions"
    return "float32", ("this CPU's instruction set cannot be read here" if cpu_flags is None else
                       "this CPU has no AMX or AVX-512 bfloat16 instructions; 16-bit arithmetic "
                       "would be emulated, and slower")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    """The CPU's feature flags from /proc/cpuinfo (Linux), or None where there is none."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = re.search(r"^(?:flags|Features)\s*:(.*)$", text, re.M)  # x86, Arm
    return set(found[1].split()) if found else None


def gpus() -> list[Gpu]:
    """The GPUs TensorFlow sees, with their CUDA compute capability where it has one."""
    import tensorflow as tf

    return [Gpu(details.get("device_name", device.name), details.get("compute_capability"))
            for device in tf.config.list_physical_devices("GPU")
            for details in [tf.config.experimental.get_device_details(device)]]


def choose_precision() -> str:
    """Set Keras's global precision policy for this machine, print why, return its name."""
    import keras

    policy, reason = ((FORCED["policy"], "chosen for this timing run") if FORCED
                      else decide_precision(cpu_flags(), gpus()))
    keras.mixed_precision.set_global_policy(policy)
    print(f"precision: {policy} ({reason})")
    return policy
