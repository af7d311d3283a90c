"""The content-addressed media store."""

import hashlib

import pytest

from artdash.errors import ValidationError
from artdash.media.store import MediaStore


def test_files_are_named_by_their_hash(tmp_path):
    store = MediaStore(tmp_path)
    key = store.put(b"pixels", "jpg")
    assert key == hashlib.sha256(b"pixels").hexdigest()
    path = store.original_path(key, "jpg")
    assert path == tmp_path / key[:2] / key[2:4] / f"{key}.jpg"
    assert path.read_bytes() == b"pixels"
    assert store.put(b"pixels", "jpg") == key  # idempotent
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [f"{key}.jpg"]  # no temp files left


def test_keys_are_never_paths(tmp_path):
    store = MediaStore(tmp_path)
    for key, ext in [("../../etc/passwd", "jpg"), ("a" * 64, "../x"), ("A" * 64, "jpg")]:
        with pytest.raises(ValidationError):
            store.original_path(key, ext)


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    store = MediaStore(tmp_path)

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("artdash.media.store.os.replace", broken_replace)
    with pytest.raises(OSError):
        store.put(b"half", "png")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
