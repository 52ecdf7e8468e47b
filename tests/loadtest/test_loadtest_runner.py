"""The runner's pure parts: loopback-only targets, the knee, the report section."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.capacity import Criteria, Step, find_knee, judge_step, search_users
from loadtest.hosts import NotLoopback, require_loopback
from loadtest.locust_run import TaskStats, run_locust
from loadtest.report import BEGIN, END, replace_section, write_section


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000", "http://127.9.9.9:1/", "https://[::1]:8443", "http://localhost:8000"],
)
def test_loopback_hosts_are_allowed(url: str) -> None:
    assert require_loopback(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1:8000",
        "http://192.168.1.10",
        "http://172.16.0.1",
        "http://8.8.8.8",
        "http://[2001:db8::1]",
        "http://example.invalid",
        "ftp://127.0.0.1",
        "127.0.0.1:8000",
        "",
        None,
    ],
)
def test_other_hosts_are_refused(url: str | None) -> None:
    with pytest.raises(NotLoopback):
        require_loopback(url)


def test_run_locust_refuses_before_starting(tmp_path: Path) -> None:
    with pytest.raises(NotLoopback):
        run_locust("http://10.1.2.3:8000", tmp_path, "never", 1, 1)
    assert not list(tmp_path.iterdir())


def stats(ok: int, shed: int, failed: int, ok_rps: float, p99: float | None) -> TaskStats:
    return TaskStats("images", ok, shed, failed, ok_rps, 0.0, p99, p99, p99, p99)


def test_judge_step() -> None:
    criteria = Criteria(p99_target_ms=500, max_shed_ratio=0.01, min_keep_up=0.9)
    assert judge_step(4, 2.0, stats(120, 0, 0, 8.0, 300), criteria).sustainable
    reasons = judge_step(4, 2.0, stats(60, 60, 1, 4.0, 900), criteria).reasons
    assert reasons == [
        "1 failed requests",
        "50% shed",
        "p99 900 ms > 500 ms",
        "answered 4.0 of 8.0 req/s offered",
    ]
    assert judge_step(1, 1.0, stats(0, 0, 0, 0.0, None), criteria).reasons[0] == (
        "no accepted request"
    )


def test_knee_is_the_best_sustainable_step() -> None:
    good = [Step(u, u * 2.0, stats(100, 0, 0, rps, 100)) for u, rps in ((2, 4.0), (4, 7.9))]
    bad = Step(6, 12.0, stats(100, 50, 0, 9.0, 100), ["33% shed"])
    assert find_knee([*good, bad]) is good[1]
    assert find_knee([bad]) is None


@pytest.mark.parametrize(
    ("limit", "tried", "best"),
    [
        (9, [2, 4, 6, 8, 10, 9], 9),  # steps up, then bisects between 8 and 10
        (13, [2, 4, 6, 8, 10, 12, 16, 14, 13], 13),
        (8, [2, 4, 6, 8, 10, 9], 8),
        (1, [2], None),  # not even the first step
        (99, [2, 4, 6, 8, 10, 12, 16], 16),  # never unsustainable
    ],
)
def test_user_search(limit: int, tried: list[int], best: int | None) -> None:
    calls: list[int] = []

    def sustainable(users: int) -> bool:
        calls.append(users)
        return users <= limit

    assert search_users([2, 4, 6, 8, 10, 12, 16], sustainable) == best
    assert calls == tried


def test_report_section_replaces_only_its_own_text(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    write_section(doc, "## Load test (Locust)\n\nfirst")
    assert doc.read_text() == f"# Benchmarks\n\n{BEGIN}\n## Load test (Locust)\n\nfirst\n{END}\n"
    others = "# Benchmarks\n\n## Inference\n\n| a | b |\n"
    doc.write_text(others)
    write_section(doc, "## Load test (Locust)\n\nsecond")
    text = doc.read_text()
    assert text.startswith(others) and text.count(BEGIN) == 1 and "second" in text
    doc.write_text(text + "\n## Later section\n\nkept\n")
    write_section(doc, "## Load test (Locust)\n\nthird")
    text = doc.read_text()
    assert "second" not in text and "third" in text
    assert text.startswith(others) and text.endswith("## Later section\n\nkept\n")
    assert replace_section("", "x") == f"# Benchmarks\n\n{BEGIN}\nx\n{END}\n"
