"""Datasets for training: embedded MNIST, IDX files, the user's own data and toy 2-D sets.

``load_dataset(spec)`` takes what ``--dataset`` takes:

* ``"mnist-10k"``: the embedded MNIST test set, split 8000 / 1000 / 1000;
* ``"mnist"``, ``"fashion-mnist"``: IDX files from ``data_dir``, ``$BACKPROP_STUDIO_DATA``
  or the user cache (:mod:`graph.training.datasets.mnist`); 55000 / 5000 / 10000;
* a toy set with options, ``"spiral"`` or ``"spiral:noise=0.1,n=1000"``
  (:mod:`graph.training.datasets.toy`);
* a path to an ``.npz`` file or an image folder (:mod:`graph.training.datasets.custom`).

Splits follow :mod:`graph.training.datasets.split`; nothing is ever downloaded here.
"""
from __future__ import annotations

from pathlib import Path

from graph.training.datasets.base import DatasetError, DataSplits, check_labels_fit, check_xy, fit_to_input, labels_for_input
from graph.training.datasets.custom import load_image_folder, load_npz
from graph.training.datasets.mnist import CLASS_NAMES, DownloadError, download, load_idx_set, load_mnist_10k
from graph.training.datasets.split import holdout, split_arrays, split_indices
from graph.training.datasets.toy import DEFAULT_SAMPLES, TOY_NAMES, make_toy
from graph.training.datasets.transforms import SCALINGS, Augment, Scaler, make_scaler

BUILTIN = ("mnist-10k", "mnist", "fashion-mnist") + TOY_NAMES

__all__ = [
    "Augment", "BUILTIN", "DataSplits", "DatasetError", "DownloadError", "SCALINGS", "Scaler",
    "TOY_NAMES", "check_labels_fit", "check_xy", "download", "fit_to_input", "labels_for_input",
    "load_dataset", "make_scaler", "make_toy", "split_indices",
]


def _split(name, x, y, class_names, default_scaling, source) -> DataSplits:
    x_tr, y_tr, x_va, y_va, x_te, y_te, te = split_arrays(x, y)
    if len(y_tr) == 0:
        raise DatasetError(f"{name}: {len(y)} samples leave an empty training split "
                           "(80 / 10 / 10 split); give more samples")
    return DataSplits(name, x_tr, y_tr, x_va, y_va, x_te, y_te, list(class_names), te,
                      default_scaling, source)


def _parse_toy(spec: str) -> tuple[str, dict]:
    name, _, rest = spec.partition(":")
    options = {}
    for part in rest.replace(";", ",").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in ("n", "noise", "seed"):
            raise DatasetError(f"{name}: options are n=, noise= and seed= (e.g. {name}:noise=0.1,n=1000), "
                               f"got {part!r}")
        try:
            options[key] = float(value) if key == "noise" else int(value)
        except ValueError:
            raise DatasetError(f"{name}: {key} must be a number, got {value!r}") from None
    return name.strip(), options


def load_dataset(spec, data_dir=None, n: int | None = None, noise: float | None = None,
                 seed: int | None = None) -> DataSplits:
    """Load and split a dataset by name or path (see the module docs).

    Parameters
    ----------
    spec : str or path
        Built-in name, toy spec (``"xor:noise=0.2"``), ``.npz`` file or image folder.
    data_dir : path, optional
        Folder holding ``mnist`` / ``fashion-mnist`` IDX files.
    n, noise, seed : optional
        Toy sets only: sample count, noise and generator seed, overriding the spec.

    Raises
    ------
    DatasetError
        Unknown name, missing files, unreadable or inconsistent data.
    """
    text = str(spec)
    base = text.partition(":")[0].strip()
    if base in TOY_NAMES:
        name, options = _parse_toy(text)
        if n is not None:
            options["n"] = n
        if noise is not None:
            options["noise"] = noise
        if seed is not None:
            options["seed"] = seed
        x, y = make_toy(name, **options)
        return _split(text, x, y, ["0", "1"], "standardize",
                      f"toy {name} (n={options.get('n', DEFAULT_SAMPLES)}, noise={options.get('noise', 0.0)})")
    if text == "mnist-10k":
        x, y = load_mnist_10k()
        return _split(text, x, y, CLASS_NAMES["mnist"], "unit", "embedded MNIST test set (CC BY-SA 3.0)")
    if text in ("mnist", "fashion-mnist"):
        x_all, y_all, x_te, y_te = load_idx_set(text, data_dir)
        tr, va = holdout(len(y_all), 5000)
        if len(tr) == 0:
            raise DatasetError(f"{text}: {len(y_all)} training samples leave nothing after holding out "
                               "5000 for validation (the full set has 60000)")
        return DataSplits(text, x_all[tr], y_all[tr], x_all[va], y_all[va], x_te, y_te,
                          CLASS_NAMES[text], None, "unit", f"{text} IDX files")
    path = Path(text).expanduser()
    if path.is_dir():
        x, y, names = load_image_folder(path)
    elif path.is_file() and path.suffix.lower() == ".npz":
        x, y, names = load_npz(path)
    elif path.exists():
        raise DatasetError(f"{path}: a dataset file must be an .npz with x and y arrays "
                           "(or give a folder with one subfolder of images per class)")
    else:
        raise DatasetError(f"unknown dataset {text!r}: not a built-in ({', '.join(BUILTIN)}) "
                           "and no such file or folder")
    scaling = "unit" if x.dtype in ("uint8", "uint16") else "none"
    return _split(text, x, y, names, scaling, str(path))
