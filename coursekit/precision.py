"""The number format a lesson trains in, chosen for the hardware it runs on: 16-bit
arithmetic ("mixed precision": compute in 16 bits, keep the weights in float32) is faster
only where the hardware computes it natively, and slower than float32 where emulated."""

import sys
from dataclasses import dataclass
from pathlib import Path

# Set by coursekit.runtime.start(precision=...) for a timing run in one format everywhere
# (`make bench` times every lesson in float32 too, as on a machine without bfloat16 units).
FORCED: dict[str, str] = {}
# Where a CPU flag says bfloat16 is native, and how a learner would call it.
BFLOAT16_CPU_FLAGS = {"amx_bf16": "AMX bfloat16", "avx512_bf16": "AVX-512 bfloat16"}


@dataclass(frozen=True)
class Gpu:
    name: str
    compute_capability: tuple[int, int] | None  # None: not an NVIDIA (CUDA) GPU, or unknown


def decide_precision(*, cpu_flags: set[str] | None, gpus: list[Gpu],
                     platform: str = "linux") -> tuple[str, str]:
    """``(policy, reason)`` for these facts; ``cpu_flags`` is None where unreadable."""
    if gpus:
        # Keras places its work on the first GPU unless told otherwise, so that one decides.
        gpu = gpus[0]
        if gpu.compute_capability is None:
            return "float32", f"GPU {gpu.name} is not a CUDA GPU whose 16-bit units are known"
        capability = ".".join(map(str, gpu.compute_capability))
        # bfloat16 units arrived with NVIDIA's Ampere (8.0: A100, RTX 30xx, L4, H100...);
        # older GPUs (Colab's T4 is 7.5) have float16 units only.
        if gpu.compute_capability >= (8, 0):
            return "mixed_bfloat16", (f"GPU {gpu.name} (compute capability {capability}) "
                                      f"computes bfloat16 natively")
        return "mixed_float16", (f"GPU {gpu.name} (compute capability {capability}) computes "
                                 f"float16 natively, bfloat16 only from 8.0 on")
    if platform == "darwin":
        return "float32", ("macOS: TensorFlow's CPU kernels there are not known to compute "
                           "bfloat16 natively")
    if cpu_flags is None:
        return "float32", "this CPU's instruction set cannot be read here"
    for flag, name in BFLOAT16_CPU_FLAGS.items():
        if flag in cpu_flags:
            return "mixed_bfloat16", f"this CPU has {name} instructions"
    return "float32", ("this CPU has no AMX or AVX-512 bfloat16 instructions; 16-bit "
                       "arithmetic would be emulated, and slower")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    """The CPU's feature flags from /proc/cpuinfo (Linux), or None where there is none."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86, Arm
            return set(value.split())
    return None


def gpus() -> list[Gpu]:
    """The GPUs TensorFlow sees, with their CUDA compute capability where it has one."""
    import tensorflow as tf

    found = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        found.append(Gpu(details.get("device_name", device.name),
                         details.get("compute_capability")))
    return found


def choose_precision() -> str:
    """Set Keras's global precision policy for this machine, print why, return its name."""
    import keras

    policy, reason = decide_precision(cpu_flags=cpu_flags(), gpus=gpus(), platform=sys.platform)
    if "policy" in FORCED:
        policy, reason = FORCED["policy"], "chosen for this timing run"
    keras.mixed_precision.set_global_policy(policy)
    print(f"precision: {policy} ({reason})")
    return policy
