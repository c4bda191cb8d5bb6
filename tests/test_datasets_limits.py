"""Hostile dataset files: one DatasetError naming the file, before anything large is allocated."""
from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib

import numpy as np
import pytest

from graph.model import limits
from graph.training.datasets import DatasetError, load_dataset
from graph.training.datasets.custom import load_image_folder, load_npz, read_image
from graph.training.datasets.mnist import read_idx
from graph.training.datasets.png import SIGNATURE, decode_png, encode_png


@pytest.fixture
def small_limits():
    limits.override(max_elements=10_000, max_file_bytes=100_000)
    yield
    limits.override(max_elements=None, max_file_bytes=None)


def npz_with(path, **members: bytes):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name + ".npy", data)
    return path


def npy_bytes(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def npy_header(shape, descr="<f8") -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": tuple(shape)}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def dataset_error(fn, *args) -> str:
    with pytest.raises(DatasetError) as info:
        fn(*args)
    text = str(info.value)
    assert "allow_pickle" not in text and "Traceback" not in text
    return text


def test_npz_member_without_header_or_with_a_bad_header(tmp_path):
    y = npy_bytes(np.zeros(4, np.int64))
    text = dataset_error(load_npz, npz_with(tmp_path / "raw.npz", x=b"\x00" * 64, y=y))
    assert "raw.npz" in text and "member 'x'" in text
    bad = b"\x93NUMPY\x01\x00" + struct.pack("<H", 6) + b"{'a':\n"
    assert "member 'x'" in dataset_error(load_npz, npz_with(tmp_path / "hdr.npz", x=bad, y=y))
    obj = npy_header((4,), "|O")
    assert "dtype" in dataset_error(load_npz, npz_with(tmp_path / "obj.npz", x=obj, y=y))


def test_npz_declaring_a_huge_array_is_refused_before_reading(tmp_path):
    y = npy_bytes(np.zeros(4, np.int64))
    text = dataset_error(load_npz, npz_with(tmp_path / "big.npz", x=npy_header((10 ** 6, 10 ** 6)), y=y))
    assert "member 'x'" in text and "limit" in text


def test_npz_bomb_is_refused_by_the_byte_limit(tmp_path, small_limits):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, x=np.zeros((200, 100), np.float64), y=np.zeros(200, np.int64))
    assert path.stat().st_size < 5000
    assert "limit" in dataset_error(load_npz, path)


def test_npz_class_names_must_be_a_list_and_labels_bounded(tmp_path):
    x, y = np.zeros((10, 2)), np.zeros(10, np.int64)
    np.savez(tmp_path / "names.npz", x=x, y=y, class_names=np.array("a"))
    assert "class_names" in dataset_error(load_npz, tmp_path / "names.npz")
    y[3] = 10 ** 9
    np.savez(tmp_path / "label.npz", x=x, y=y)
    assert "label 1000000000" in dataset_error(load_npz, tmp_path / "label.npz")


def test_nonfinite_data_is_refused_with_count_and_first_index(tmp_path):
    x = np.zeros((20, 3))
    x[7, 1] = np.nan
    x[12] = np.inf
    np.savez(tmp_path / "nan.npz", x=x, y=np.zeros(20, np.int64))
    text = dataset_error(load_npz, tmp_path / "nan.npz")
    assert "4 NaN/Inf values in 2 samples (first: sample 7)" in text


def idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    dtype = {0x08: ">u1", 0x0D: ">f4"}[code]
    head = bytes([0, 0, code, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    return head + arr.astype(dtype).tobytes()


def test_idx_corrupt_gzip_and_declared_sizes(tmp_path):
    (tmp_path / "bad.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((4, 2, 2))))[:-12] + b"\xff" * 12)
    assert "bad.gz" in dataset_error(read_idx, tmp_path / "bad.gz")
    (tmp_path / "junk.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 30)
    assert "junk.gz" in dataset_error(read_idx, tmp_path / "junk.gz")
    huge = bytes([0, 0, 8, 3]) + struct.pack(">III", 60000, 60000, 60000)
    (tmp_path / "huge").write_bytes(huge)
    assert "limit" in dataset_error(read_idx, tmp_path / "huge")


def test_idx_gzip_bomb_is_read_only_up_to_the_limit(tmp_path, small_limits):
    (tmp_path / "bomb.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((500, 28, 28)))))
    assert "limit" in dataset_error(read_idx, tmp_path / "bomb.gz")


def test_nan_in_a_float_idx_split_is_refused(tmp_path):
    x = np.zeros((6, 2, 2), np.float32)
    x[4, 1, 0] = np.nan
    folder = tmp_path / "mnist"
    folder.mkdir()
    for stem, arr, code in (("train-images-idx3-ubyte", x, 0x0D), ("t10k-images-idx3-ubyte", x, 0x0D),
                            ("train-labels-idx1-ubyte", np.zeros(6), 0x08),
                            ("t10k-labels-idx1-ubyte", np.zeros(6), 0x08)):
        (folder / stem).write_bytes(idx_bytes(arr, code))
    from graph.training.datasets.mnist import load_idx_set
    assert "first: sample 4" in dataset_error(load_idx_set, "mnist", tmp_path)


def png_declaring(width, height, idat=b"") -> bytes:
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_png_size_is_checked_before_inflating(tmp_path):
    text = dataset_error(decode_png, png_declaring(100000, 100000, zlib.compress(b"\x00" * 1000)))
    assert "limit" in text
    # a bomb: 1 MB of zeros promised as a 10x10 image inflates only 110 bytes
    img = decode_png(png_declaring(10, 10, zlib.compress(b"\x00" * 1_000_000)))
    assert img.shape == (1, 10, 10)


def test_paeth_and_average_rows_decode_exactly_at_every_size():
    rng = np.random.default_rng(1)
    for shape in [(1, 1), (3, 70), (120, 150), (33, 17, 3)]:
        img = rng.integers(0, 256, shape).astype(np.uint8)
        for kind in (3, 4):
            out = decode_png(encode_png(img, kind))
            assert np.array_equal(out, img[None] if img.ndim == 2 else img.transpose(2, 0, 1))


def test_empty_subfolders_are_not_classes(tmp_path):
    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            (tmp_path / cls / f"{i}.png").write_bytes(encode_png(np.full((4, 4), i, np.uint8)))
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("x")
    x, y, names = load_image_folder(tmp_path)
    assert names == ["cat", "dog"] and x.shape == (6, 1, 4, 4) and set(y.tolist()) == {0, 1}


def test_pnm_declaring_a_huge_image(tmp_path):
    (tmp_path / "a.pgm").write_bytes(b"P5 100000 100000 255\n\x00\x00")
    assert "a.pgm" in dataset_error(read_image, tmp_path / "a.pgm")


def test_an_empty_training_split_is_refused(tmp_path):
    np.savez(tmp_path / "none.npz", x=np.zeros((0, 2)), y=np.zeros(0, np.int64))
    assert "no samples" in dataset_error(load_dataset, str(tmp_path / "none.npz"))
    folder = tmp_path / "mnist"
    folder.mkdir()
    for stem, arr in (("train-images-idx3-ubyte", np.zeros((6, 2, 2))), ("t10k-images-idx3-ubyte", np.zeros((6, 2, 2))),
                      ("train-labels-idx1-ubyte", np.zeros(6)), ("t10k-labels-idx1-ubyte", np.zeros(6))):
        (folder / stem).write_bytes(idx_bytes(arr))
    assert "nothing after holding out" in dataset_error(load_dataset, "mnist", tmp_path)
