"""The editions' forked processes: a killed one is reported as killed, and one failure stops
the others (the render's own kill is in test_faults.py)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from nnlab.errors import NnlabError
from nnlab.report import editions


def test_an_edition_killed_by_a_signal_is_reported_as_killed_not_as_a_bug():
    def render_one(job, lang):
        if lang == "vi":
            os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
        return {"stages": {}, "figures": {}}

    with pytest.raises(NnlabError, match=r"^the vi edition's process was killed by signal 9 "
                       r"\(SIGKILL\), most likely for lack of memory"):  # fmt: skip
        editions.forked(render_one, None, ["vi", "en"])


def test_a_failed_edition_stops_the_others():
    def render_one(job, lang):
        if lang == "en":
            time.sleep(60)  # still rendering when vi fails
        raise NnlabError(f"{lang}: refused")

    with pytest.raises(NnlabError, match="vi: refused"):
        editions.forked(render_one, None, ["vi", "en"])
    assert multiprocessing.active_children() == []  # en was stopped, not left running


def test_a_crash_that_is_no_signal_stays_a_bug():
    assert isinstance(editions.edition_died("en", 1), RuntimeError)
