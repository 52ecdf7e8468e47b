"""Whether this CPU has 8-bit dot-product instructions, without which int8 inference does not pay.

XNNPACK's int8 kernels run far faster than its float ones where the CPU multiplies 8-bit vectors
into 32-bit sums in one instruction (x86 VNNI: ``avx512_vnni``, ``avx_vnni``, ``amx_int8``; Arm:
``asimddp``, ``i8mm``) and no faster without them. micro-cnn 7, batches of 32, one thread: an
AMD EPYC with AVX-512 VNNI, int8 0.39 against float 1.59 ms a face (README "int8 on the CPU");
an AMD EPYC without it (Zen 3, AVX2 only), int8 1.55 against 1.33 ms (``tools.int8_cost``,
the README's figures).
"""

from __future__ import annotations

from pathlib import Path

INT8_DOT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8", "asimddp", "i8mm"})


def int8_dot_product(cpuinfo: str | None = None) -> bool | None:
    """True if ``cpuinfo`` (default: ``/proc/cpuinfo``) lists one of ``INT8_DOT_FLAGS`` on a
    ``flags`` (x86) or ``Features`` (Arm) line, False if it lists flags but none of them,
    None where there are no such lines to read (another OS)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return None
    seen = False
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            seen = True
            if INT8_DOT_FLAGS.intersection(value.split()):
                return True
    return False if seen else None
