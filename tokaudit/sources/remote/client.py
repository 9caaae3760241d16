"""The parent's end of a worker: start it, talk to it, stop it, and turn every way it can fail into one line.

A Connection starts `<python> -m tokaudit.sources.remote.worker` with pipes for the protocol and its stderr
in a temporary file (the terminal with --debug), in an empty working directory, with a copy of the
running tokaudit first on PYTHONPATH: the other environment needs the side's libraries and tokaudit's
dependencies, not this tokaudit installed (environments.source_tree, as `bump --with` uses). Failures are
SourceError lines naming the side's key and the interpreter. A process forked from this one (`--workers N`)
never shares the pipe: the first call there starts its own worker, and the handles it held are made again.
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

from tokaudit.environments import install_hint, last_line, source_tree
from tokaudit.errors import SourceError
from tokaudit.quiet import debugging
from tokaudit.sources.remote import protocol as p
from tokaudit.version import __version__

WORKER = "tokaudit.sources.remote.worker"
#: how long a worker gets to leave after BYE before it is killed
STOP_SECONDS = 10

_copy_lock = threading.Lock()
_copy: Path | None = None
#: held while a forked process starts its own worker (a lock another thread held at the fork would stay held)
_fork_lock = threading.Lock()


def _after_fork() -> None:
    global _copy_lock, _fork_lock
    _copy_lock, _fork_lock = threading.Lock(), threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


def running_copy() -> Path:
    """A folder holding a copy of the running tokaudit (one per process tree, removed at exit)."""
    global _copy
    with _copy_lock:
        if _copy is None or not _copy.is_dir():
            _copy = Path(tempfile.mkdtemp(prefix="tokaudit-remote-"))
            source_tree(_copy / "src")
            atexit.register(_remove, _copy, os.getpid())
        return _copy


def _remove(root: Path, owner: int) -> None:
    if os.getpid() == owner:  # not from a forked child that exits: the parent's workers still use it
        shutil.rmtree(root, ignore_errors=True)


class WorkerFailed(SourceError):
    """The worker could not start, died, or answered something that is not the protocol."""


class Connection:
    """One worker process holding one side; `call` is thread-safe (one request at a time on the pipe)."""

    def __init__(self, python: str, spec: dict[str, Any], config_dir: str | None, where: str) -> None:
        self.python = python
        self.spec = spec
        self.config_dir = config_dir
        #: `cfg.yaml: training.python`, for failures after loading (load_sides words those while loading)
        self.where = where
        self.loaded = False
        self.generation = 0
        #: requests sent (tests hold the per-token reads to a few blocks)
        self.requests = 0
        self.info: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._pid = -1
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._start()

    # -- lifecycle --------------------------------------------------------------------------
    def _start(self) -> None:
        root = running_copy()
        empty = root / "cwd"
        empty.mkdir(exist_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root / "src"), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        self._stderr = None if debugging() else tempfile.TemporaryFile(prefix="tokaudit-worker-")
        self._pid = os.getpid()
        try:
            self._proc = subprocess.Popen(
                [self.python, "-m", WORKER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                cwd=empty,
                env=env,
            )
        except OSError as exc:
            self._drop_stderr()
            raise self._failed(f"cannot run it ({exc.strerror or exc})") from None
        self.generation += 1
        atexit.register(self.close)
        # a pool's worker process leaves through multiprocessing's exit, which runs Finalizers but not atexit
        multiprocessing.util.Finalize(self, self.close, exitpriority=10)
        hello = {"protocol": p.PROTOCOL, "tokaudit": __version__, "spec": self.spec}
        try:
            info = self._request((p.HELLO, {**hello, "config_dir": self.config_dir, "debug": debugging()}), "starting")
        except WorkerFailed:
            raise
        except SourceError as exc:  # the side's own load failure (a missing file): its key, and where it ran
            self.close()
            raise SourceError(f"{exc} (in {self.python})", key=exc.key) from None
        except Exception as exc:
            raise self.refused(exc) from None
        if not isinstance(info, dict) or "protocol" not in info:
            self.close()
            raise self._failed(f"answered {type(info).__name__} to the handshake: not tokaudit's worker")
        if info["protocol"] != p.PROTOCOL or info["tokaudit"] != __version__:
            self.close()
            raise self._failed(
                f"its tokaudit is {info['tokaudit']} (worker protocol {info['protocol']}), this one is "
                f"{__version__} (protocol {p.PROTOCOL}): both ends must be the same tokaudit"
            )
        self.info = info
        self.loaded = True

    def ensure(self) -> None:
        """In a process forked from the one that started the worker, start this process's own."""
        if os.getpid() == self._pid:
            return
        with _fork_lock:
            if os.getpid() != self._pid:
                self._lock = threading.RLock()  # the parent's may have been held by a thread that is not here
                self._proc = None  # the parent's: never wait on it, never write to it from here
                self._stderr = None
                self._start()

    def close(self) -> None:
        """Say BYE and wait for the worker to leave (kill it when it does not); safe to call twice."""
        if self._proc is not None and os.getpid() == self._pid:
            self._stop(self._proc, kill=False)
        self._drop_stderr()

    def _stop(self, proc: subprocess.Popen[bytes], kill: bool) -> int | None:
        """End the worker and reap it (no zombie), closing our ends of its pipes; its exit code."""
        self._proc = None
        if not kill and proc.poll() is None:
            try:
                if proc.stdin is not None:
                    p.write(proc.stdin, (p.BYE,))
            except (OSError, ValueError):
                pass
        for pipe in (proc.stdin, proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        if kill and proc.poll() is None:
            proc.kill()
        try:
            return proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def _drop_stderr(self) -> str:
        """The last line the worker wrote on stderr (its own `error:` and the like); the file is closed."""
        err, self._stderr = self._stderr, None
        if err is None:
            return "its output is above"
        with err:
            err.seek(0)
            return last_line(err.read().decode("utf-8", errors="replace"))

    # -- requests -----------------------------------------------------------------------------
    def call(self, *msg: Any) -> Any:
        self.ensure()
        with self._lock:
            return self._request(msg, f"answering {msg[2] if msg[0] == p.CALL else msg[0]}")

    def _request(self, msg: tuple[Any, ...], doing: str) -> Any:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise self._failed("the worker was stopped")
        self.requests += 1
        try:
            p.write(proc.stdin, msg)
        except OSError:
            pass  # it is gone or going: what it wrote before (if anything) says more than the broken pipe
        try:
            status, value = p.read(proc.stdout)
        except (p.Closed, OSError):
            code = self._stop(proc, kill=True)
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit {code}"
            raise self._failed(f"the worker exited while {doing} ({how}): {self._drop_stderr()}") from None
        except (p.BadFrame, ValueError, TypeError) as exc:
            self._stop(proc, kill=True)
            self._drop_stderr()
            raise self._failed(f"the worker answered something that is not tokaudit's protocol ({exc})") from None
        if status == "err" and isinstance(value, p.ErrorInfo):
            raise value.rebuild()
        if status != "ok":
            self._stop(proc, kill=True)
            self._drop_stderr()
            raise self._failed(f"the worker answered {status!r}, not a reply")
        return value

    # -- failures -----------------------------------------------------------------------------
    def _failed(self, what: str) -> WorkerFailed:
        if self.loaded:
            return WorkerFailed(f"{self.where}: {self.python}: {what}")
        return WorkerFailed(f"{self.python}: {what}", key="python")

    def refused(self, exc: Exception) -> WorkerFailed:
        """An exception the worker raised while loading that is not a SourceError (a missing library)."""
        line = f"{type(exc).__name__}: {exc}" if not isinstance(exc, p.RemoteError) else str(exc)
        hint = ""
        if isinstance(exc, ImportError):
            hint = (
                f" (that environment needs the side's library and tokaudit's dependencies: "
                f"{self.python} -m pip install {install_hint()})"
            )
        self.close()
        return self._failed(f"cannot load the side there: {line}{hint}")
