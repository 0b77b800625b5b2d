from __future__ import annotations

import logging
import threading
import time

import pytest

from safecity.core.periodic import PeriodicWork

log = logging.getLogger("tests.periodic")


def test_runs_every_interval_on_a_named_thread_until_stopped() -> None:
    threads: list[str] = []
    ran_twice = threading.Event()

    def work() -> None:
        threads.append(threading.current_thread().name)
        if len(threads) == 2:
            ran_twice.set()

    job = PeriodicWork("tick", work, every=0.01, log=log, failed="tick failed")
    job.start()
    assert ran_twice.wait(5)
    assert job.stop(timeout=5)
    runs = len(threads)
    time.sleep(0.05)
    assert len(threads) == runs
    assert set(threads) == {"tick"}


def test_a_failing_run_is_logged_and_the_next_one_still_comes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []
    recovered = threading.Event()

    def work() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise OSError("disk gone")
        recovered.set()

    job = PeriodicWork("flaky", work, every=0.01, log=log, failed="could not write")
    with caplog.at_level(logging.ERROR, logger="tests.periodic"):
        job.start()
        assert recovered.wait(5)
        job.stop()
    failure = caplog.records[0]
    assert failure.getMessage() == "could not write; trying again in 0.0 s"
    assert failure.exc_info is not None and isinstance(failure.exc_info[1], OSError)


def test_stop_ends_a_long_wait_at_once_and_the_first_run_can_be_now() -> None:
    ran = threading.Event()
    job = PeriodicWork("slow", ran.set, first=0, every=3600, log=log, failed="x")
    job.start()
    assert ran.wait(5)
    began = time.monotonic()
    assert job.stop(timeout=5)
    assert time.monotonic() - began < 1
    assert job.stopping and not job.started


def test_a_run_under_way_finishes_and_stop_says_when_it_outlasts_the_timeout() -> None:
    inside, release = threading.Event(), threading.Event()

    def work() -> None:
        inside.set()
        release.wait(5)

    job = PeriodicWork("busy", work, first=0, every=3600, log=log, failed="x")
    job.start()
    assert inside.wait(5)
    assert not job.stop(timeout=0.05)
    release.set()


def test_waits_may_vary_and_starting_twice_is_refused() -> None:
    waits = iter([0.01, 0.02, 0.03])
    asked: list[float] = []

    def every() -> float:
        wait = next(waits, 0.01)
        asked.append(wait)
        return wait

    done = threading.Event()
    job = PeriodicWork(
        "random", lambda: len(asked) >= 3 and done.set(), every=every, log=log, failed="x"
    )
    job.start()
    with pytest.raises(RuntimeError, match="already running"):
        job.start()
    assert done.wait(5)
    job.stop()
    assert asked[:3] == [0.01, 0.02, 0.03]
    assert PeriodicWork("never", done.set, every=1, log=log, failed="x").stop()
