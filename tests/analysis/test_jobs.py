"""Background jobs: success with its result, an error captured as a message, progress visible while running."""

from __future__ import annotations

import threading

import pytest

from analysis.run.jobs import DONE, FAILED, PENDING, RUNNING, Job, JobStatus, Progress


def test_success_returns_the_result_and_finishes() -> None:
    job = Job("sum", lambda progress: sum(range(10)))
    assert job.status() == JobStatus() and job.status().state == PENDING and job.result() is None
    status = job.start().wait(10)
    assert status.state == DONE and status.fraction == 1.0 and status.error is None
    assert job.result() == 45
    assert status.started is not None and status.finished is not None and status.finished >= status.started
    assert not status.active and status.elapsed() == status.finished - status.started


def test_progress_is_visible_while_running_and_the_page_thread_is_not_blocked() -> None:
    reported, release = threading.Event(), threading.Event()

    def work(progress: Progress) -> str:
        progress("embedding 500 of 1,000 rows", 0.5)
        reported.set()
        assert release.wait(10)
        progress("overshoot", 7.0)
        return "ok"

    job = Job("slow", work).start()
    assert reported.wait(10)
    running = job.status()
    assert running.state == RUNNING and running.active
    assert (running.message, running.fraction) == ("embedding 500 of 1,000 rows", 0.5)
    assert job.result() is None  # nothing before it is done
    assert job.start() is job and job.status().state == RUNNING  # a second start does not run it twice
    release.set()
    done = job.wait(10)
    assert done.state == DONE and job.result() == "ok"
    job.progress("late", 0.1)  # a report after the end changes nothing
    assert job.status() == done


def test_error_is_captured_as_a_message(caplog: pytest.LogCaptureFixture) -> None:
    def broken(progress: Progress) -> None:
        progress("loading the model", 0.1)
        raise ValueError("no model folder at /nowhere")

    status = Job("broken", broken).start().wait(10)
    assert status.state == FAILED and status.error == "ValueError: no model folder at /nowhere"
    assert status.message == "loading the model" and status.finished is not None and not status.active
    assert "background job broken failed" in caplog.text  # the traceback goes to the log


def test_elapsed_before_start_is_zero() -> None:
    assert JobStatus().elapsed() == 0.0
    assert JobStatus(started=100.0).elapsed(now=130.0) == 30.0
