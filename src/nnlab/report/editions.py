"""Each edition rendered in a forked process of its own, which ends with the render's process:
no orphan writes on after a `kill -9` of the render, and one edition's failure stops the other.

The job reaches each child through the fork, so nothing large is pickled; each child sends back
its timings, or its error."""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable

from nnlab.errors import NnlabError
from nnlab.fsutil import fault_pause

# linux/prctl.h: a signal the kernel sends this process when its parent ends
PR_SET_PDEATHSIG = 1


def forked(render_one: Callable, job, langs: list[str]) -> list[dict]:
    """`render_one(job, lang)` for each of `langs`, each in a forked process; their results in
    the order of `langs`. The first failure is raised once the other editions are stopped."""
    context = multiprocessing.get_context("fork")
    children = {}
    try:
        for lang in langs:
            receiver, sender = context.Pipe(duplex=False)
            child = context.Process(target=_send, args=(render_one, job, lang, sender, os.getpid()))
            child.start()
            sender.close()
            children[receiver] = (lang, child)
        fault_pause("editions forked")
        results = {}
        while len(results) < len(langs):
            pending = [receiver for receiver, (lang, _) in children.items() if lang not in results]
            for receiver in multiprocessing.connection.wait(pending):
                lang, child = children[receiver]
                try:
                    outcome = receiver.recv()
                except EOFError:
                    child.join()
                    outcome = edition_died(lang, child.exitcode)
                if isinstance(outcome, BaseException):
                    raise outcome
                results[lang] = outcome
        for _, child in children.values():
            child.join()
        return [results[lang] for lang in langs]
    finally:
        for _, child in children.values():
            if child.is_alive():
                child.kill()
            child.join()


def edition_died(lang: str, exitcode: int | None) -> Exception:
    """An edition's process that ended without a word: killed by a signal (most often the
    out-of-memory killer's SIGKILL) is not a bug in nnlab; any other end is."""
    if exitcode is None or exitcode >= 0:
        return RuntimeError(f"the {lang} edition's process died (exit code {exitcode})")
    number = -exitcode
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = "unknown"
    cause = ", most likely for lack of memory" if number == signal.SIGKILL else ""
    return NnlabError(
        f"the {lang} edition's process was killed by signal {number} ({name}){cause}; free "
        "some memory, then run the command again"
    )


def die_with_parent(parent: int) -> None:
    """In an edition's process: end as soon as the render's process `parent` ends, even by
    SIGKILL. Linux: the kernel's parent-death signal; elsewhere a thread that watches."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    else:

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.2)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # it ended before the signal was asked for
        os._exit(1)


def _send(render_one: Callable, job, lang: str, sender, parent: int) -> None:
    die_with_parent(parent)
    fault_pause(f"edition {lang}")
    try:
        sender.send(render_one(job, lang))
    except NnlabError as exc:  # the user's input: one line, as in the parent
        sender.send(exc)
    except BaseException:  # a bug: its traceback travels with it
        sender.send(RuntimeError(f"rendering the {lang} edition failed:\n{traceback.format_exc()}"))
