"""Datasets: embedded MNIST split, IDX reading, the user's own data, toy sets, transforms."""
from __future__ import annotations

import gzip
import hashlib
import struct
import zlib

import numpy as np
import pytest

from graph.training.datasets import (Augment, DatasetError, Scaler, check_xy, fit_to_input, labels_for_input,
                            load_dataset, make_toy, split_indices)
from graph.training.datasets import mnist as mnist_mod
from graph.training.datasets.custom import decode_png, decode_pnm, encode_png, read_image
from graph.training.datasets.split import holdout, split_sizes
from graph.training.datasets.toy import TOY_NAMES


# -- mnist-10k and the split ------------------------------------------------------------------
@pytest.fixture(scope="module")
def mnist10k():
    return load_dataset("mnist-10k")


def test_mnist_10k_split_is_8000_1000_1000(mnist10k):
    d = mnist10k
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (8000, 1000, 1000)
    assert d.x_train.shape == (8000, 1, 28, 28) and d.x_train.dtype == np.uint8
    assert d.y_train.dtype == np.int64 and set(np.unique(d.y_train)) == set(range(10))
    assert d.default_scaling == "unit" and d.num_classes == 10


def test_mnist_10k_split_is_the_documented_permutation(mnist10k):
    x, y = mnist_mod.load_mnist_10k()
    perm = np.random.default_rng(0).permutation(10000)
    np.testing.assert_array_equal(mnist10k.test_index, perm[9000:])
    np.testing.assert_array_equal(mnist10k.x_val, x[perm[8000:9000]])
    np.testing.assert_array_equal(mnist10k.y_train, y[perm[:8000]])
    # the three parts are disjoint and cover every image
    tr, va, te = split_indices(10000)
    assert len(np.unique(np.concatenate([tr, va, te]))) == 10000


def test_embedded_files_match_the_canonical_md5():
    folder = mnist_mod.embedded_dir()
    for name, md5 in mnist_mod.CHECKSUMS["mnist"].items():
        if name.startswith("t10k"):
            assert mnist_mod.verify(folder / name, md5)
    assert "CC BY-SA 3.0" in (folder / "README.md").read_text()


def test_split_sizes_round_validation_and_test():
    assert split_sizes(10000) == (8000, 1000, 1000)
    assert split_sizes(15) == (11, 2, 2)
    tr, va = holdout(60000, 5000)
    assert len(tr) == 55000 and len(va) == 5000
    with pytest.raises(ValueError):
        split_sizes(10, (0.5, 0.5, 0.5))


# -- IDX ------------------------------------------------------------------------------------
def _idx_bytes(arr: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int32: 0x0C, np.float32: 0x0D}[arr.dtype.type]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
@pytest.mark.parametrize("compressed", [True, False])
def test_read_idx_round_trip(tmp_path, dtype, compressed):
    arr = (np.arange(24).reshape(2, 3, 4) * 3).astype(dtype)
    path = tmp_path / ("a.idx.gz" if compressed else "a.idx")
    data = _idx_bytes(arr)
    path.write_bytes(gzip.compress(data) if compressed else data)
    out = mnist_mod.read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"hello world")
    with pytest.raises(DatasetError, match="not an IDX file"):
        mnist_mod.read_idx(tmp_path / "bad")
    arr = np.zeros((5, 4), np.uint8)
    (tmp_path / "short").write_bytes(_idx_bytes(arr)[:-3])
    with pytest.raises(DatasetError, match="truncated"):
        mnist_mod.read_idx(tmp_path / "short")


def _write_fake_mnist(folder, n_train=12, n_test=6, compress=True):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    parts = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
             "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
             "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
             "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8)}
    for stem, arr in parts.items():
        data = _idx_bytes(arr)
        if compress:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)
    return parts


def test_idx_set_found_in_data_dir_subfolder_or_env(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(mnist_mod.ENV_VAR, raising=False)
    parts = _write_fake_mnist(tmp_path / "data" / "fashion-mnist", compress=False)
    x_tr, y_tr, x_te, y_te = mnist_mod.load_idx_set("fashion-mnist", tmp_path / "data")
    assert x_tr.shape == (12, 1, 28, 28) and y_te.tolist() == parts["t10k-labels-idx1-ubyte"].tolist()
    monkeypatch.setenv(mnist_mod.ENV_VAR, str(tmp_path / "data"))
    assert mnist_mod.locate("fashion-mnist")["test_images"].name == "t10k-images-idx3-ubyte"


def test_missing_idx_files_name_the_files_and_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(mnist_mod.ENV_VAR, raising=False)
    with pytest.raises(DatasetError) as err:
        load_dataset("mnist", data_dir=tmp_path / "nowhere")
    msg = str(err.value)
    assert "train-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert str(tmp_path / "nowhere") in msg and "backprop-studio download mnist" in msg


@pytest.fixture
def no_network(monkeypatch):
    """Every http(s) URL fails as if offline; tests never touch the network."""
    import pooch
    import requests
    calls = []

    def offline(self, url, output_file, pooch_):
        calls.append(url)
        raise requests.exceptions.ConnectionError("offline")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", offline)
    return calls


def test_download_offline_fails_fast_naming_files_and_folder(tmp_path, no_network):
    with pytest.raises(mnist_mod.DownloadError) as err:
        mnist_mod.download("mnist", tmp_path / "m", mirrors=["http://a/", "http://b/"])
    msg = str(err.value)
    assert "train-images-idx3-ubyte.gz" in msg and str(tmp_path / "m") in msg and "offline" in msg
    assert no_network == ["http://a/train-images-idx3-ubyte.gz", "http://b/train-images-idx3-ubyte.gz"]
    assert not list((tmp_path / "m").iterdir())


def test_download_verifies_checksums_and_falls_back_to_the_next_mirror(tmp_path, monkeypatch, no_network):
    good = {name: name.encode() * 3 for name in mnist_mod.CHECKSUMS["mnist"]}
    checks = {name: hashlib.md5(data).hexdigest() for name, data in good.items()}
    monkeypatch.setitem(mnist_mod.CHECKSUMS, "mnist", checks)
    bad_dir, good_dir = tmp_path / "bad", tmp_path / "good"
    for folder, corrupt in ((bad_dir, True), (good_dir, False)):
        folder.mkdir()
        for name, data in good.items():
            (folder / name).write_bytes(b"corrupted" if corrupt else data)
    target = tmp_path / "cache"
    seen = []
    folder = mnist_mod.download("mnist", target, lambda f, done, total: seen.append((f, done, total)),
                                mirrors=[bad_dir.as_uri() + "/", good_dir.as_uri() + "/"])
    for name, data in good.items():
        assert (folder / name).read_bytes() == data
    assert seen and seen[-1][1] == seen[-1][2]
    assert sorted(p.name for p in target.iterdir()) == sorted(good) and no_network == []


def test_download_skips_files_that_already_verify(tmp_path, monkeypatch, no_network):
    checks = {}
    for name in mnist_mod.CHECKSUMS["mnist"]:
        (tmp_path / name).write_bytes(name.encode())
        checks[name] = mnist_mod.file_digest(tmp_path / name)
    monkeypatch.setitem(mnist_mod.CHECKSUMS, "mnist", checks)
    assert mnist_mod.download("mnist", tmp_path, mirrors=["http://a/"]) == tmp_path
    assert no_network == []
    sha = mnist_mod.file_digest(tmp_path / "t10k-images-idx3-ubyte.gz", "sha256")
    assert mnist_mod.verify(tmp_path / "t10k-images-idx3-ubyte.gz", sha)


# -- the user's own data -------------------------------------------------------------------------
def test_npz_dataset_with_channels_last_images(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (50, 8, 8, 3), dtype=np.uint8)
    y = np.arange(50) % 3
    np.savez(tmp_path / "d.npz", x=x, y=y, class_names=np.array(["a", "b", "c"]))
    d = load_dataset(tmp_path / "d.npz")
    assert d.sample_shape == (3, 8, 8) and d.class_names == ["a", "b", "c"]
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (40, 5, 5)
    assert d.default_scaling == "unit"


@pytest.mark.parametrize("x, y, match", [
    (np.zeros((5, 3)), np.zeros(4, int), "5 samples but y has 4"),
    (np.zeros((5, 3)), np.array([0, 1, 0.5, 1, 0]), "non-whole"),
    (np.zeros((5, 3)), np.array(["a"] * 5), "dtype"),
    (np.array([["a"] * 3] * 5), np.zeros(5, int), "expected numbers"),
    (np.zeros((5, 3)), -np.ones(5, int), ">= 0"),
    (np.full((5, 3), np.nan), np.zeros(5, int), "NaN"),
])
def test_npz_errors_are_clear(tmp_path, x, y, match):
    np.savez(tmp_path / "bad.npz", x=x, y=y)
    with pytest.raises(DatasetError, match=match):
        load_dataset(tmp_path / "bad.npz")


def test_npz_without_xy_names_the_keys(tmp_path):
    np.savez(tmp_path / "d.npz", images=np.zeros((3, 2)))
    with pytest.raises(DatasetError, match="named 'x' and 'y'.*images"):
        load_dataset(str(tmp_path / "d.npz"))


def test_one_hot_labels_become_indices():
    x, y = check_xy(np.zeros((3, 2)), np.eye(3), "t")
    assert y.tolist() == [0, 1, 2]


def _png_with_filters(img: np.ndarray, filters) -> bytes:
    """A PNG (grey or RGB, 8 bit) whose rows use the given filter types."""
    h, w = img.shape[:2]
    bpp = 1 if img.ndim == 2 else img.shape[2]
    rows = img.reshape(h, -1).astype(np.int32)
    raw = b""
    prev = np.zeros(rows.shape[1], np.int32)
    for y, f in enumerate(filters):
        cur = rows[y]
        left = np.concatenate([np.zeros(bpp, np.int32), cur[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int32), prev[:-bpp]])
        if f == 0:
            pred = np.zeros_like(cur)
        elif f == 1:
            pred = left
        elif f == 2:
            pred = prev
        elif f == 3:
            pred = (left + prev) // 2
        else:
            p = left + prev - upleft
            pa, pb, pc = abs(p - left), abs(p - prev), abs(p - upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
        raw += bytes([f]) + ((cur - pred) % 256).astype(np.uint8).tobytes()
        prev = cur
    color = 0 if img.ndim == 2 else 2

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("channels", [1, 3])
def test_png_decoder_handles_all_five_filters(channels):
    rng = np.random.default_rng(3)
    shape = (10, 7) if channels == 1 else (10, 7, 3)
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    out = decode_png(_png_with_filters(img, [0, 1, 2, 3, 4, 4, 3, 2, 1, 0]))
    expected = img[None] if channels == 1 else img.transpose(2, 0, 1)
    np.testing.assert_array_equal(out, expected)


def test_png_decoder_rejects_interlaced_and_garbage():
    data = bytearray(encode_png(np.zeros((4, 4), np.uint8)))
    data[28] = 1  # IHDR interlace byte
    with pytest.raises(DatasetError, match="interlaced"):
        decode_png(bytes(data))
    with pytest.raises(DatasetError, match="not a PNG"):
        decode_png(b"GIF89a...")


def test_pnm_binary_and_ascii():
    img = np.arange(12, dtype=np.uint8).reshape(3, 4)
    p5 = b"P5\n# comment\n4 3\n255\n" + img.tobytes()
    np.testing.assert_array_equal(decode_pnm(p5)[0], img)
    p3 = b"P3 2 1 255 255 0 0 0 0 255"
    np.testing.assert_array_equal(decode_pnm(p3)[:, 0], [[255, 0], [0, 0], [0, 255]])


def test_image_folder_dataset(tmp_path):
    rng = np.random.default_rng(0)
    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for i in range(10):
            img = rng.integers(0, 256, (6, 5), dtype=np.uint8)
            if i % 3 == 0:
                (tmp_path / cls / f"{i}.png").write_bytes(encode_png(img))
            elif i % 3 == 1:
                (tmp_path / cls / f"{i}.pgm").write_bytes(b"P5 5 6 255\n" + img.tobytes())
            else:
                np.save(tmp_path / cls / f"{i}.npy", img)
        (tmp_path / cls / "notes.txt").write_text("ignored")
    d = load_dataset(tmp_path)
    assert d.class_names == ["cat", "dog"] and d.sample_shape == (1, 6, 5)
    assert len(d.y_train) + len(d.y_val) + len(d.y_test) == 20


def test_image_folder_errors(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(DatasetError, match=r"x\.jpg.*not supported.*PNG"):
        load_dataset(tmp_path)
    (tmp_path / "a" / "x.jpg").unlink()
    (tmp_path / "a" / "1.png").write_bytes(encode_png(np.zeros((4, 4), np.uint8)))
    (tmp_path / "a" / "2.png").write_bytes(encode_png(np.zeros((5, 4), np.uint8)))
    with pytest.raises(DatasetError, match="one size"):
        load_dataset(tmp_path)
    (tmp_path / "a" / "2.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    with pytest.raises(DatasetError, match="2.png"):
        read_image(tmp_path / "a" / "2.png")


def test_unknown_dataset_names_the_builtins():
    with pytest.raises(DatasetError, match="mnist-10k.*spiral"):
        load_dataset("no-such-set")


# -- toy sets ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", TOY_NAMES)
def test_toy_sets_are_seeded_balanced_and_2d(name):
    x, y = make_toy(name, n=200, noise=0.1, seed=5)
    x2, y2 = make_toy(name, n=200, noise=0.1, seed=5)
    np.testing.assert_array_equal(x, x2)
    assert x.shape == (200, 2) and y.shape == (200,) and set(y) <= {0, 1}
    assert 40 < y.sum() < 160
    assert not np.array_equal(x, make_toy(name, n=200, noise=0.1, seed=6)[0])


def test_toy_geometry_without_noise():
    x, y = make_toy("circle", n=400)
    r = np.hypot(x[:, 0], x[:, 1])
    assert np.all(r[y == 1] < 2.5) and np.all(r[y == 0] >= 3.5)
    x, y = make_toy("xor", n=400)
    assert np.all((x[:, 0] * x[:, 1] >= 0) == (y == 1)) and np.all(np.abs(x) >= 0.3)


def test_toy_spec_string_and_errors():
    d = load_dataset("spiral:noise=0.1,n=300")
    assert len(d.y_train) == 240 and d.default_scaling == "standardize"
    with pytest.raises(DatasetError, match="n=, noise="):
        load_dataset("spiral:radius=2")
    with pytest.raises(DatasetError, match="noise"):
        make_toy("xor", noise=2)


# -- fitting to the graph -----------------------------------------------------------------------------
def test_fit_to_input_reshapes_or_explains():
    x = np.zeros((4, 1, 28, 28))
    assert fit_to_input(x, (None, 784)).shape == (4, 784)
    assert fit_to_input(x, (None, 1, 28, 28)) is x
    with pytest.raises(DatasetError, match=r"\(1, 28, 28\) \(784 values\).*'x' expects \(N, 2\)"):
        fit_to_input(x, (None, 2))


def test_labels_for_one_hot_input():
    out = labels_for_input(np.array([2, 0]), (None, 3), 3)
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0]])


# -- scaling and augmentation -----------------------------------------------------------------------
def test_scaler_unit_and_standardize():
    x = np.array([[0, 255], [51, 102]], np.uint8)
    out = Scaler("unit", x)(x, np.float32)
    assert out.dtype == np.float32 and out.max() == 1.0 and out[1, 0] == pytest.approx(0.2)
    f = np.array([[1.0, 10.0], [3.0, 30.0]])
    s = Scaler("standardize", f)
    np.testing.assert_allclose(s(f, np.float64), [[-1, -1], [1, 1]])
    img = np.random.default_rng(0).normal(5, 2, (20, 3, 4, 4))
    out = Scaler("standardize", img)(img, np.float64)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    assert f[0, 0] == 1.0  # the input is never modified


def test_augment_identity_flip_and_integer_shift():
    rng = np.random.default_rng(0)
    x = rng.random((6, 2, 9, 8)).astype(np.float32)
    assert Augment()(x, rng) is x
    flipped = Augment(flip=1.0)(x, np.random.default_rng(1))
    np.testing.assert_allclose(flipped, x[..., ::-1], atol=1e-6)
    assert flipped.dtype == np.float32
    shifted = Augment(shift=2)(x, np.random.default_rng(2))
    for i in range(6):  # every sample is an exact translation of its original
        assert any(np.allclose(shifted[i, :, max(dy, 0):9 + min(dy, 0), max(dx, 0):8 + min(dx, 0)],
                               x[i, :, max(-dy, 0):9 - max(dy, 0), max(-dx, 0):8 - max(dx, 0)])
                   for dy in range(-2, 3) for dx in range(-2, 3))


def test_augment_rotation_keeps_the_centre_and_is_seeded():
    x = np.zeros((3, 1, 11, 11), np.float32)
    x[:, 0, 5, 5] = 1.0
    x[:, 0, 5, 9] = 1.0
    a = Augment(rotate=90)(x, np.random.default_rng(4))
    b = Augment(rotate=90)(x, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    assert np.allclose(a[:, 0, 5, 5], 1.0) and not np.allclose(a, x)
    zoomed = Augment(scale=0.3)(x, np.random.default_rng(5))
    assert zoomed.shape == x.shape


def test_augment_parse():
    a = Augment.parse("shift=2,rotate=10,flip=0.5,scale=0.1")
    assert (a.shift, a.rotate, a.flip, a.scale) == (2, 10, 0.5, 0.1)
    with pytest.raises(DatasetError, match="unknown option"):
        Augment.parse("blur=1")
    with pytest.raises(DatasetError, match="probability"):
        Augment.parse("flip=2")


def test_a_file_that_is_not_an_npz_archive_is_named_as_such(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a zip archive at all" * 10)
    with pytest.raises(DatasetError, match="is not a NumPy .npz archive") as info:
        load_dataset(str(bad))
    assert "allow_pickle" not in str(info.value)


# -- audit fixes ------------------------------------------------------------------------------
def test_npz_with_a_zip_signature_but_damaged_contents_is_a_dataset_error(tmp_path):
    import io

    from graph.training.datasets.custom import load_npz

    buf = io.BytesIO()
    np.savez(buf, x=np.arange(80.0).reshape(20, 4), y=np.zeros(20, np.int64))
    data = bytearray(buf.getvalue())
    i = data.index(b"x.npy") + 200
    data[i:i + 8] = b"\xff" * 8  # CRC mismatch: zipfile.BadZipFile
    (tmp_path / "crc.npz").write_bytes(bytes(data))
    with pytest.raises(DatasetError, match="cannot read"):
        load_npz(tmp_path / "crc.npz")
    (tmp_path / "pk.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(DatasetError):
        load_npz(tmp_path / "pk.npz")


@pytest.mark.parametrize("data", [b"P5 2 2 0\n\x00\x00\x00\x00", b"P2 2 2 0\n1 2 3 4", b"P2 2 2 70000\n1 2 3 4"])
def test_pnm_with_an_impossible_maxval_is_unreadable_without_warnings(data, tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DatasetError, match="unreadable image"):
            decode_pnm(data)
        (tmp_path / "a.pgm").write_bytes(data)
        with pytest.raises(DatasetError, match="a.pgm.*unreadable image"):
            read_image(tmp_path / "a.pgm")


def test_crop_augmentation_pads_and_crops_back_at_whole_pixel_offsets():
    aug = Augment.parse("crop=2")
    assert aug.active and aug.crop == 2
    x = np.arange(2 * 1 * 6 * 6, dtype=np.float64).reshape(2, 1, 6, 6) + 1
    out = aug(x, np.random.default_rng(0))
    assert out.shape == x.shape
    for b in range(2):
        # every output pixel is 0 (padding) or an input pixel moved by the same whole offset
        found = False
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                ref = np.zeros((6, 6))
                ys, xs = slice(max(dy, 0), 6 + min(dy, 0)), slice(max(dx, 0), 6 + min(dx, 0))
                ys_src, xs_src = slice(max(-dy, 0), 6 + min(-dy, 0)), slice(max(-dx, 0), 6 + min(-dx, 0))
                ref[ys, xs] = x[b, 0][ys_src, xs_src]
                found = found or np.allclose(out[b, 0], ref)
        assert found
    offsets = set()
    for seed in range(40):
        y = aug(x[:1], np.random.default_rng(seed))[0, 0]
        offsets.add(float(y.sum()))
    assert len(offsets) > 5  # many different crops
    with pytest.raises(DatasetError, match="whole pixels"):
        Augment.parse("crop=1.5")
    with pytest.raises(DatasetError, match="unknown option"):
        Augment.parse("crpo=2")
    # runs without crop keep their random draws
    plain = Augment.parse("shift=2")
    np.testing.assert_array_equal(plain(x, np.random.default_rng(3)),
                                  Augment.parse("shift=2,crop=0")(x, np.random.default_rng(3)))


def test_any_augmentation_field_makes_it_active():
    """``active`` names the fields (asdict per batch was slow): each one must count."""
    from dataclasses import fields  # noqa: PLC0415

    from graph.training.datasets.transforms import Augment  # noqa: PLC0415

    assert not Augment().active
    for f in fields(Augment):
        assert Augment(**{f.name: 1.0 if f.name in ("shift", "crop", "rotate") else 0.5}).active, f.name
