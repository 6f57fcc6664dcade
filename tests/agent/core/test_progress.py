"""Progress: sums of what items report, the terminal line, and the server's throttle."""

from __future__ import annotations

import io

from cleverfox.agent.core.progress import (
    Figures,
    RunProgress,
    ServerProgress,
    TerminalLine,
    describe,
    size_text,
)
from cleverfox.client import errors


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    def __init__(self, fail: errors.CleverFoxError | None = None) -> None:
        self.sent: list[dict[str, int]] = []
        self.fail = fail

    def progress(self, log_id: int, figures: dict[str, int]) -> None:
        self.sent.append(figures)
        if self.fail is not None:
            raise self.fail


def test_figures_sum_the_items_with_rate_and_estimate() -> None:
    clock = Ticker()
    progress = RunProgress(clock=clock)
    progress.planned(10, 1000)
    clock.now = 2.0
    progress.done(4, 400, uploaded=100)

    figures = progress.figures()
    assert figures == Figures(4, 10, 400, 1000, 100, 200, 3)
    assert figures.wire()["EtaSeconds"] == 3


def test_the_server_hears_at_most_every_two_seconds() -> None:
    clock, server = Ticker(), Recorder()
    progress = RunProgress([ServerProgress(server, 5, 2.0, clock)], clock=clock)
    for step in range(10):
        clock.now = step * 0.5
        progress.done(1, 10)

    assert [s["FilesDone"] for s in server.sent] == [1, 5, 9]


def test_a_server_without_the_progress_endpoint_is_not_asked_again() -> None:
    clock = Ticker()
    server = Recorder(errors.NotFound(404, "not_found", "no"))
    listener = ServerProgress(server, 5, 0.0, clock)
    for step in range(3):
        clock.now = float(step)
        listener(Figures(1, 1, 1, 1, 0, 0, None), False)

    assert len(server.sent) == 1


def test_a_transport_failure_does_not_fail_the_run() -> None:
    server = Recorder(errors.TransportError("down"))
    listener = ServerProgress(server, 5, 0.0, Ticker())

    listener(Figures(1, 1, 1, 1, 0, 0, None), False)  # no exception
    assert len(server.sent) == 1


def test_the_terminal_line_is_rewritten_then_ended() -> None:
    clock, out = Ticker(), io.StringIO()
    line = TerminalLine(out, 0.2, clock)
    line(Figures(1, 2, 1024, 2048, 0, 512, 2), False)
    clock.now = 0.1
    line(Figures(2, 2, 2048, 2048, 0, 512, 0), False)  # too soon: skipped
    line(Figures(2, 2, 2048, 2048, 10, 512, 0), True)

    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    assert "2/2 files, 2.0 KiB/2.0 KiB, 512 B/s, ETA 0:00:00, 10 B sent" in text


def test_describe_and_sizes() -> None:
    assert (
        size_text(0) == "0 B" and size_text(1536) == "1.5 KiB" and size_text(3 << 30) == "3.0 GiB"
    )
    assert "ETA --" in describe(Figures(0, 0, 0, 0, 0, 0, None))
