"""Moving a staged export folder into place: whole folders, old or new, never a mix."""

import pytest

from cdp_pipeline.lib.activation.export_staging import STAGING_DIRNAME, clear_staging, promote, staging_root


def _folder(path, files: dict[str, str]):
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def _read(path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(path.iterdir())}


def test_a_first_export_of_the_date_is_moved_into_place(tmp_path):
    root = staging_root(tmp_path, "run-1")
    staged = _folder(root / "newsletter" / "2025-06-01", {"full.csv": "new", "manifest.json": "{}"})
    final = tmp_path / "newsletter" / "2025-06-01"
    assert promote(staged, final, root) == final
    assert _read(final) == {"full.csv": "new", "manifest.json": "{}"} and not staged.exists()


def test_a_rerun_replaces_the_whole_folder_and_leaves_nothing_aside(tmp_path):
    final = _folder(tmp_path / "newsletter" / "2025-06-01", {"full.csv": "old", "delta_removed.csv": "old"})
    root = staging_root(tmp_path, "run-2")
    staged = _folder(root / "newsletter" / "2025-06-01", {"full.csv": "new"})
    promote(staged, final, root)
    assert _read(final) == {"full.csv": "new"}  # no file of the old folder survives next to the new ones
    clear_staging(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["newsletter"]


def test_a_move_that_fails_puts_the_old_folder_back(tmp_path):
    final = _folder(tmp_path / "newsletter" / "2025-06-01", {"full.csv": "old"})
    root = staging_root(tmp_path, "run-3")
    with pytest.raises(FileNotFoundError):
        promote(root / "newsletter" / "2025-06-01", final, root)  # nothing was staged
    assert _read(final) == {"full.csv": "old"}


def test_the_staging_folder_of_a_run_is_inside_the_exports_root_and_never_a_destination_name(tmp_path):
    root = staging_root(tmp_path, "../../etc/x")
    assert root.parent == tmp_path / STAGING_DIRNAME and root.name == "______etc_x"


def test_a_rerun_of_a_delivered_date_keeps_the_uploaders_delivery_marker(tmp_path):
    """An erasure asks destinations to delete a person from folders marked delivered: a rerun of the date
    must not make the folder look undelivered."""
    final = _folder(tmp_path / "newsletter" / "2025-06-01", {"full.csv": "old", "DELIVERED": "2025-06-01T03:00"})
    root = staging_root(tmp_path, "run-4")
    promote(_folder(root / "newsletter" / "2025-06-01", {"full.csv": "new"}), final, root)
    assert _read(final) == {"DELIVERED": "2025-06-01T03:00", "full.csv": "new"}
