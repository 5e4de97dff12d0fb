"""FileTransaction.create: a new file, never one written over, and gone again when the transaction fails."""

from __future__ import annotations

import os

import pytest

from generator.atomic_files import FileTransaction


@pytest.mark.parametrize("kind", ["file", "dangling link"])
def test_create_never_writes_over_a_name_that_is_taken(tmp_path, kind):
    target = tmp_path / "config.yaml"
    if kind == "file":
        target.write_text("mine\n")
    else:
        target.symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsError), FileTransaction(tmp_path) as files:
        files.create(target, "new\n")
    assert target.read_text() == "mine\n" if kind == "file" else os.readlink(target) == str(tmp_path / "nowhere")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.yaml"]  # no staged copy left


def test_a_created_file_is_removed_when_the_transaction_fails_later(tmp_path):
    with pytest.raises(FileExistsError), FileTransaction(tmp_path) as files:
        files.create(tmp_path / "first", "one\n")
        assert (tmp_path / "first").read_text() == "one\n"
        (tmp_path / "second").write_text("taken\n")
        files.create(tmp_path / "second", "two\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["second"]
    assert (tmp_path / "second").read_text() == "taken\n"
