"""``service.backends.cpu``: 8-bit dot-product support read from ``/proc/cpuinfo``, and the
warning the int8 runtime logs on a CPU without it."""

from __future__ import annotations

import json
import logging

import pytest

from service.backends import runtimes
from service.backends.cpu import int8_dot_product
from service.catalogue import Catalogue
from tests.service.test_runtimes import SHIPPED

# Abridged /proc/cpuinfo lines of real machines.
ZEN3 = "model name\t: AMD EPYC\nflags\t\t: fpu sse2 avx fma avx2 bmi2 sha_ni vaes vpclmulqdq\n"
ZEN4 = "flags\t\t: fpu avx2 avx512f avx512bw avx512_bf16 avx512_vnni avx512_bitalg\n"
ALDER_LAKE = "flags\t\t: fpu avx2 avx_vnni sha_ni\n"
SAPPHIRE_RAPIDS = "flags\t\t: avx512f amx_bf16 amx_tile amx_int8\n"
GRAVITON2 = (
    "processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics asimddp\n"
)
CORTEX_A72 = "Features\t: fp asimd evtstrm crc32 cpuid\n"


@pytest.mark.parametrize(
    ("cpuinfo", "expected"),
    [
        (ZEN3, False),
        (ZEN4, True),
        (ALDER_LAKE, True),
        (SAPPHIRE_RAPIDS, True),
        (GRAVITON2, True),
        (CORTEX_A72, False),
        ("processor\t: 0\n", None),  # no flags to read
        ("", None),
    ],
    ids=[
        "zen3",
        "zen4",
        "alder-lake",
        "sapphire-rapids",
        "graviton2",
        "cortex-a72",
        "none",
        "empty",
    ],
)
def test_int8_dot_product_from_cpuinfo(cpuinfo: str, expected: bool | None) -> None:
    assert int8_dot_product(cpuinfo) is expected


def test_this_machine_is_read() -> None:
    assert int8_dot_product() in (True, False, None)


@pytest.mark.parametrize("dot", [False, True, None])
def test_int8_on_a_cpu_without_dot_products_logs_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, dot: bool | None
) -> None:
    monkeypatch.setattr(runtimes, "int8_dot_product", lambda: dot)
    with caplog.at_level(logging.WARNING, logger="mmed.backend.embedded"):
        runtime = runtimes.load_runtime(Catalogue(SHIPPED).get("micro-cnn"), "int8")
    assert runtime.name == "int8"  # still the default's answers: only a hint
    warned = "without 8-bit dot-product instructions" in caplog.text
    assert warned is (dot is False)
    if warned:
        assert "MMED_EMBEDDED_RUNTIME=tflite" in caplog.text


def test_int8_cost_measures_both_runtimes_of_the_shipped_default(capsys) -> None:
    from tools import int8_cost

    micro = Catalogue(SHIPPED).get("micro-cnn")
    assert int8_cost.main([str(micro.path), "--rounds", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["int8_dot_product"] is int8_dot_product()
    for key in ("cpu_ms_per_face_1_thread", "wall_ms_per_face"):
        assert set(out[key]) == {"float", "int8"} and all(v > 0 for v in out[key].values())
