"""Reading and parsing the raw step's landing files in worker processes, ahead of the load.

Parsing is Python, one core's work; writing the rows is DuckDB's. A load (``load_sources``: the
raw step's sources one after the other; ``load_partitions``: one source) hands its files, in load
order, every source's, to worker processes that each read a file (the same
``read_landing_bytes``: no symbolic link, no secret), hash and parse it; the load takes the
results in exactly that order and does everything else as the serial path does (the duplicate
check, the suppression, the writes), so the tables do not depend on the workers or their timing.

* A worker is a new interpreter (``subprocess``: fork and exec at once, as multiprocessing's
  ``spawn`` does): the step's process holds DuckDB's threads, and a fork of it that runs on may
  deadlock. Unlike ``spawn`` it does not run the parent's main script again (under
  ``dagster api execute_run`` that imports Dagster, ~1.5 CPU s a worker). It imports the readers
  only (``parse.py``, no DuckDB): ~0.5 CPU s, so a load of few or small files parses in its
  own process (``pool_size``), and the raw step starts one pool for all its sources.
* A parsed file comes back as one Arrow IPC stream (its columns, ``_extra`` and ``_line``) and
  its few Python objects (the quarantined rows, notes), not as Python lists of values; its kind
  is sent by name and looked up again (the load compares kinds by identity).
* Files are handed out and not yet taken by the load while they are at most ``workers + 1``
  files or ``WINDOW_BYTES`` of them, and never more than ``MAX_AHEAD_BYTES``: the workers hold no
  more than that many files' results beyond what the serial load holds.
* A file is parsed even when the load then finds its bytes were delivered before (a duplicate,
  not loaded): it is known only once read. Duplicates are rare; the serial path skips them.
* A GA4 file the load will likely not write (``held_deliveries.likely_unwritten``: a later file
  of the load replaces its events day, or an earlier one did) is only counted: its lines read and
  judged as a whole parse does, its loaded rows' values not kept nor sent (``_Counted``). Should
  the load want its rows after all (the later file was not loaded, an erased person's rows must
  be dropped), ``ParsedFile.again`` reads and parses it whole in the load's process, and must
  find the same bytes. At 1,000,000 customers 10 of the 40 GA4 files (262 of 1,097 MB).
* A file the readers reject is a result like any other (a ledger entry, never an error); an
  error the serial path would raise (a bug) is raised by ``take``, with the worker's traceback.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

import pyarrow as pa

from cdp_pipeline.lib.common.gc_pause import cyclic_gc_paused
from cdp_pipeline.lib.raw.file_kinds import FILE_KINDS
from cdp_pipeline.lib.raw.files import LandingFile, RefusedPath, page_in, read_landing_bytes, with_bytes_read
from cdp_pipeline.lib.raw.parse import parse_or_reject
from cdp_pipeline.lib.raw.parsed import FileRejected, ParsedFile, QuarantinedRow, as_arrow

# A load whose files hold fewer bytes than this parses them itself: parsing takes 13-30 ms a MB
# (GA4 to SMS, one core), so on 64 MB a second core saves ~0.5-1 s, what two workers' start-up
# costs (~0.4 CPU s each: Python, pyarrow, the JSON readers) and the results' copy between them.
MIN_POOL_BYTES = 64 << 20
# Files handed to the workers and not yet taken hold at most this many bytes (at least one file
# is): parsing a file takes ~7 times its size (a 25 MB GA4 file: 179 MB), and a 10M-record
# night's GA4 files are ~275 MB each.
MAX_AHEAD_BYTES = 1 << 30
# Below MAX_AHEAD_BYTES, more than workers + 1 files are handed out while they hold at most this
# many bytes: the load writes files in batches of up to 256 MB (``load._PendingWrites``; raw/pos_*
# at 1,000,000 customers is one, ~2.7 CPU s), during which the workers parse on. With workers + 1
# files out they parsed three and sat idle: at 1,000,000 customers both workers idle for 11.4 s of
# a load, the writer waiting 14 s (a 2-core machine at load ~4). A file only counted
# (``_Counted``) is not counted here: its result holds its line numbers, no values. 384 MB, not
# 256: with one worker fewer parsing while the load writes (``FileReads._call``) the workers bank
# the sources the writer is slower on (crm, esp, pos) for the ones it is faster on (sms, GA4); at
# 256 MB they stopped during raw/pos_*' write at 1,000,000 customers and a core sat idle.
WINDOW_BYTES = 384 << 20

_EXTRA, _LINE = "_extra", "_line"  # columns of the raw table itself: no file kind has them


def pool_size(files: list[LandingFile], workers: int) -> int:
    """How many worker processes parse ``files``: 0 (the serial path) for one worker, one file,
    or fewer than ``MIN_POOL_BYTES`` bytes; else ``workers``, at most one per file."""
    if workers <= 1 or len(files) < 2 or sum(lf.bytes for lf in files) < MIN_POOL_BYTES:
        return 0
    return min(workers, len(files))


@dataclass
class _Rows:
    """A parsed file as it crosses between processes."""

    kind: str
    encoding: str
    delimiter: str | None
    quarantined: list[QuarantinedRow]
    notes: list[str]
    ipc: pa.Buffer  # the columns, _extra and _line: one Arrow IPC stream

    @classmethod
    def of(cls, parsed: ParsedFile) -> _Rows:
        # the types ``load._raw_batch`` makes of them
        arrays = {c: as_arrow(v, pa.string()) for c, v in parsed.columns.items()}
        arrays[_EXTRA] = as_arrow(parsed.extra, pa.string())
        arrays[_LINE] = as_arrow(parsed.lines, pa.int64())
        table = pa.table(arrays)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return cls(
            parsed.kind.name, parsed.encoding, parsed.delimiter, parsed.quarantined, parsed.notes, sink.getvalue()
        )

    def parsed(self) -> ParsedFile:
        table = pa.ipc.open_stream(self.ipc).read_all()
        columns = {c: table.column(c) for c in table.column_names if c not in (_EXTRA, _LINE)}
        return ParsedFile(
            kind=FILE_KINDS[self.kind],
            encoding=self.encoding,
            delimiter=self.delimiter,
            columns=columns,
            extra=table.column(_EXTRA),
            lines=table.column(_LINE),
            quarantined=self.quarantined,
            notes=self.notes,
        )


@dataclass
class _Counted:
    """A file parsed with ``counts_only`` as it crosses between processes: its lines, no values."""

    kind: str
    encoding: str
    delimiter: str | None
    quarantined: list[QuarantinedRow]
    notes: list[str]
    lines: list[int]

    def parsed(self) -> ParsedFile:
        return ParsedFile(
            kind=FILE_KINDS[self.kind],
            encoding=self.encoding,
            delimiter=self.delimiter,
            lines=self.lines,
            quarantined=self.quarantined,
            notes=self.notes,
            counted_only=True,
        )


@dataclass
class _Rejection:
    """A ``FileRejected`` as it crosses between processes (its pickle keeps the reason only)."""

    reason: str
    encoding: str | None
    delimiter: str | None
    file_kind: str | None
    raw_record: str | None

    def error(self) -> FileRejected:
        return FileRejected(
            self.reason,
            encoding=self.encoding,
            delimiter=self.delimiter,
            file_kind=self.file_kind,
            raw_record=self.raw_record,
        )


@dataclass
class FileRead:
    """One file read and parsed by a worker: ``lf`` with the size and SHA-256 of the bytes read,
    and their rows or why the file is rejected; or ``refused`` (never read: ``RefusedPath``)."""

    lf: LandingFile
    refused: str | None = None
    rows: _Rows | _Counted | _Rejection | None = None

    def result(self, secrets: frozenset[tuple[int, int]] = frozenset()) -> ParsedFile | FileRejected:
        """What ``parse_or_reject`` gave for the file (counted only: with ``again``, which reads
        it with ``secrets``)."""
        if isinstance(self.rows, _Rejection):
            return self.rows.error()
        parsed = self.rows.parsed()
        if parsed.counted_only:
            parsed.again = lambda: parse_again(self.lf, secrets)
        return parsed


def parse_again(lf: LandingFile, secrets: frozenset[tuple[int, int]]) -> ParsedFile:
    """The whole parse of a file a worker only counted: read again, and the same bytes, or the
    load fails (the ledger holds the SHA-256 of the bytes counted; a rerun reads the file anew)."""
    data = read_landing_bytes(lf, secrets)
    again = with_bytes_read(lf, data)
    if (again.sha256, again.bytes) != (lf.sha256, lf.bytes):
        raise RuntimeError(f"{lf.rel_path} changed while the load read it; load its day again")
    parsed = parse_or_reject(lf.source, lf.name, data)
    if isinstance(parsed, FileRejected):  # the same bytes parsed alike: a bug
        raise RuntimeError(f"{lf.rel_path} was counted, then rejected: {parsed.reason}")
    return parsed


def read_and_parse(lf: LandingFile, secrets: frozenset[tuple[int, int]], counts_only: bool = False) -> FileRead:
    """A worker's task: read ``lf`` once, as the load would, and parse its bytes (``counts_only``:
    count them, ``_Counted``)."""
    try:
        data = read_landing_bytes(lf, secrets)
    except RefusedPath as exc:
        return FileRead(lf, refused=str(exc))
    lf = with_bytes_read(lf, data)
    # a file's rows are a list or dict each, freed by reference counting (load.load_file says why)
    with cyclic_gc_paused():
        result = parse_or_reject(lf.source, lf.name, data, counts_only)
        del data
        if isinstance(result, FileRejected):
            rows = _Rejection(result.reason, result.encoding, result.delimiter, result.file_kind, result.raw_record)
        elif result.counted_only:
            lines = list(result.lines)
            rows = _Counted(
                result.kind.name, result.encoding, result.delimiter, result.quarantined, result.notes, lines
            )
        else:
            rows = _Rows.of(result)
            del result
    return FileRead(lf, rows=rows)


class FileReads:
    """The files of a load, read and parsed ahead by ``workers`` processes, taken in order.

    ``take(lf)`` must be called for each file in the order given; it waits for that file's
    result. Use as a context manager: leaving it stops the workers (a file being parsed is
    finished first; files not started are dropped)."""

    def __init__(
        self,
        files: list[LandingFile],
        secrets: frozenset[tuple[int, int]],
        workers: int,
        counted: frozenset[str] = frozenset(),
    ):
        """``counted``: the paths of GA4 files to count only (``_Counted``)."""
        self._files = list(files)
        self._secrets = secrets
        self._counted = counted
        self._next = 0
        self._ahead: deque[tuple[LandingFile, Future]] = deque()
        self._ahead_bytes = 0
        self._window_bytes = 0  # of the files ahead, what WINDOW_BYTES counts
        self._window = workers + 1
        self._workers: list[_Worker] = []
        try:
            for _ in range(workers):
                self._workers.append(_Worker())
        except BaseException:
            for w in self._workers:
                w.close()
            raise
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        for w in self._workers:
            self._idle.put(w)
        # Parses running at once: all the workers while the load waits in ``take``, one fewer while
        # it writes (``_may_start``); files start in order (``_started``: the next file's index).
        self._slots = threading.Condition()
        self._running = 0
        self._started = 0
        self._load_waiting = False  # for file ``_taken`` - 1
        self._taken = 0  # files taken by the load
        self._closed = False
        self._writing_limit = max(1, workers - 1)
        # one thread per worker waits on its pipes (the GIL is free while it waits)
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="raw-parse")
        self._paging_in = _PageIn(secrets)
        self._hand_out()

    def _hand_out(self) -> None:
        while self._next < len(self._files):
            lf = self._files[self._next]
            if self._ahead:
                after = self._ahead_bytes + lf.bytes
                window = self._window_bytes + self._held_bytes(lf)
                if after > MAX_AHEAD_BYTES or (len(self._ahead) >= self._window and window > WINDOW_BYTES):
                    return
            self._ahead.append((lf, self._threads.submit(self._call, lf, self._next)))
            self._paging_in.add(lf)
            self._next += 1
            self._ahead_bytes += lf.bytes
            self._window_bytes += self._held_bytes(lf)

    def _held_bytes(self, lf: LandingFile) -> int:
        """``lf``'s bytes as WINDOW_BYTES counts them: none for a file only counted."""
        return 0 if lf.rel_path in self._counted else lf.bytes

    def _may_start(self) -> bool:
        limit = len(self._workers) if self._load_waiting else self._writing_limit
        return self._running < limit

    def _call(self, lf: LandingFile, index: int) -> FileRead:
        # The load's writing is one core's work on the step's critical path: its files are
        # written in order, one after the other, by this process alone. With every worker parsing
        # while it writes, the cores were shared three ways and the writer ran at two thirds of a
        # core; then the workers, ahead by WINDOW_BYTES, waited and left a core idle while the
        # writer caught up. So while the load writes, one worker fewer parses (the writer and
        # the rest fill the cores); while it waits for a file, all of them parse.
        with self._slots:
            while index != self._started or not self._may_start():
                if self._closed:  # the load stopped: files not started are dropped
                    raise RuntimeError(f"{lf.rel_path} not parsed: the load stopped")
                self._slots.wait()
            self._started += 1
            self._running += 1
            self._slots.notify_all()
        worker = self._idle.get()
        try:
            return worker.call(lf, self._secrets, lf.rel_path in self._counted)
        finally:
            self._idle.put(worker)
            with self._slots:
                self._running -= 1
                if index == self._taken - 1:  # the load waits no more: it writes this file next
                    self._load_waiting = False
                self._slots.notify_all()

    def _waiting(self, waiting: bool) -> None:
        with self._slots:
            self._load_waiting = waiting
            self._slots.notify_all()

    def files_of(self, source: str, day: dt.date) -> list[LandingFile]:
        """The files of ``source``'s landing day ``day`` among those to read, in order."""
        return [lf for lf in self._files if lf.source == source and lf.landing_date == day]

    def take(self, lf: LandingFile) -> FileRead:
        expected, future = self._ahead.popleft()
        if expected.rel_path != lf.rel_path:
            raise RuntimeError(f"files taken out of order: {lf.rel_path}, expected {expected.rel_path}")
        with self._slots:
            self._taken += 1
        if future.done():
            read = future.result()
        else:
            self._waiting(True)
            try:
                read = future.result()
            finally:
                self._waiting(False)
        self._ahead_bytes -= expected.bytes
        self._window_bytes -= self._held_bytes(expected)
        self._hand_out()
        return read

    def close(self) -> None:
        with self._slots:
            self._closed = True
            self._slots.notify_all()
        self._threads.shutdown(wait=True, cancel_futures=True)
        self._paging_in.close()
        # every worker told first, then waited for: they end side by side, not one after the other
        for w in self._workers:
            w.end_input()
        for w in self._workers:
            w.close()

    def __enter__(self) -> FileReads:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _PageIn:
    """The files handed out, paged in (``files.page_in``) one after the other by a thread of its
    own, as they are handed out: while the workers parse the files before them, the disk reads
    theirs. A landing not read for a while is not in memory (on these machines the kernel pages
    out file pages untouched for a minute, DAMON's ``pageout``): each worker then waited for the
    disk at every file, where the workers are the step's critical path (GA4) with a core idle.
    Twenty of the 1,000,000-customer landing's GA4 files (~500 MB) read cold one after the other,
    0.2 CPU s of work after each: 0.21 s waiting for the disk, 0.03-0.04 s with each file paged
    in six files ahead (at ~500 MB/s; more on a busy disk). Its files are at most those handed
    out (``WINDOW_BYTES``, ``MAX_AHEAD_BYTES``): what the workers read next."""

    def __init__(self, secrets: frozenset[tuple[int, int]]):
        self._secrets = secrets
        self._files: queue.SimpleQueue[LandingFile | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="raw-page-in", daemon=True)
        self._thread.start()

    def add(self, lf: LandingFile) -> None:
        self._files.put(lf)

    def close(self) -> None:
        """Every file added asked for (the reads are started, not waited for), then stop."""
        self._files.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (lf := self._files.get()) is not None:
            page_in(lf, self._secrets)


# The worker's program: the parent's import path, then ``serve`` (as multiprocessing's spawn
# sets sys.path, without running the parent's main script).
_BOOT = "import sys; sys.path[:] = {path!r}; from cdp_pipeline.lib.raw.parse_pool import serve; serve()"


# A worker's allocator keeps the memory it frees for the next file instead of giving it back to
# the system and faulting it in again, zeroed, page by page: glibc's malloc serves blocks of up to
# 256 MB from its heap (not a fresh mmap each) and trims the heap only past 256 MB free, and
# Arrow allocates through it (its default, mimalloc, returns freed pages as soon). A worker reads
# and parses files of 1-30 MB one after the other, each into new bytes, lists and Arrow
# buffers: at 1,000,000 customers (all 435 files in one process) its system CPU 2.2-2.9 ->
# 1.0-1.9 s, its user CPU about the same, its peak RSS +70-100 MB (0.59-0.65 -> 0.67-0.74 GB).
_WORKER_ENV = {
    "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=268435456",
    "ARROW_DEFAULT_MEMORY_POOL": "system",
}


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    for name, value in _WORKER_ENV.items():
        if name == "GLIBC_TUNABLES" and env.get(name):
            value = f"{env[name]}:{value}"  # the caller's tunables kept (a later one wins)
        env[name] = value
    return env


class _Worker:
    """One worker process: a request (a file, the secrets) on its stdin, a reply on its stdout."""

    def __init__(self) -> None:
        path = [p or os.getcwd() for p in sys.path]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT.format(path=path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_worker_env(),
        )

    def call(self, lf: LandingFile, secrets: frozenset[tuple[int, int]], counts_only: bool) -> FileRead:
        try:
            _send(self.proc.stdin, (lf, secrets, counts_only))
            status, value = pickle.load(self.proc.stdout)
        except (EOFError, BrokenPipeError, pickle.UnpicklingError) as exc:
            code = self.proc.poll()
            raise RuntimeError(f"the process parsing {lf.rel_path} ended (exit code {code})") from exc
        if status == "error":
            raise RuntimeError(f"parsing {lf.rel_path} failed in a worker process:\n{value}")
        return value

    def end_input(self) -> None:
        try:
            self.proc.stdin.close()  # the worker's loop ends at the end of its input
        except OSError:
            pass

    def close(self) -> None:
        self.end_input()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def _send(stream: BinaryIO, obj) -> None:
    pickle.dump(obj, stream, protocol=pickle.HIGHEST_PROTOCOL)
    stream.flush()


class _NoPandas:
    """A finder that refuses pandas. pyarrow imports pandas (when installed) the first time it
    makes an array, only to ask whether a list is a pandas object: ~0.2 CPU s in each worker's
    start, while the load waits for the first files. The readers never use pandas."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas":
            raise ModuleNotFoundError("a parse worker does not import pandas", name=name)
        return None


def serve() -> None:
    """A worker process's loop: read and parse each file asked for, until the input ends."""
    sys.meta_path.insert(0, _NoPandas())
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not land in the replies
    requests = sys.stdin.buffer
    while True:
        try:
            lf, secrets, counts_only = pickle.load(requests)
        except EOFError:
            # every reply is flushed: the interpreter's teardown (its modules, the last file's
            # objects) would only keep the load's close waiting
            os._exit(0)
        try:
            reply = ("ok", read_and_parse(lf, secrets, counts_only))
        except Exception:  # a bug: the load raises it, as the serial path would
            reply = ("error", traceback.format_exc())
        _send(replies, reply)
