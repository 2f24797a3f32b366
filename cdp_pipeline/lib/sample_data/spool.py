"""Items kept on disk per day until the day's file is written: the generator's memory then
holds one day of them, not the whole period, at any sample size."""

import marshal
from pathlib import Path


class DaySpool:
    """Marshal-able items (tuples of str, bytes, int, None) appended per day and read back per
    day in the order they were added. Each day's items go to one file in ``directory`` in
    batches; ``take`` reads and deletes them."""

    def __init__(self, directory: Path, batch: int = 1_000):
        self._directory = Path(directory)
        self._directory.mkdir(parents=True, exist_ok=True)
        self._batch = batch
        self._pending: dict[int, list] = {}
        self._files: dict = {}  # day → its file, open for appending until taken

    def _path(self, day: int) -> Path:
        return self._directory / f"day{day}.marshal"

    def add(self, day: int, item: tuple) -> None:
        pending = self._pending.get(day)
        if pending is None:
            pending = self._pending[day] = []
        pending.append(item)
        if len(pending) >= self._batch:
            self._flush(day)

    def _flush(self, day: int) -> None:
        data = marshal.dumps(self._pending[day])
        handle = self._files.get(day)
        if handle is None:
            handle = self._files[day] = self._path(day).open("ab")
        handle.write(len(data).to_bytes(8, "little"))
        handle.write(data)
        self._pending[day] = []

    def take(self, day: int) -> list:
        """Every item added for the day, in the order added; the day's store is emptied."""
        items: list = []
        path = self._path(day)
        handle = self._files.pop(day, None)
        if handle is not None:
            handle.close()
            # Each batch as its length and its bytes: marshal.load from a file reads object by
            # object (a read call per string), several times slower than loads on a batch's bytes.
            with path.open("rb") as handle:
                while size := handle.read(8):
                    items += marshal.loads(handle.read(int.from_bytes(size, "little")))
            path.unlink()
        items += self._pending.pop(day, [])
        return items

    def close(self) -> None:
        """Close the files still open (days never taken)."""
        for handle in self._files.values():
            handle.close()
        self._files.clear()
