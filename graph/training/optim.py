"""Optimizers with the update rules of the book's ``common/optimizer.py`` and the notes.

Every optimizer updates the arrays it is given **in place** (``params[key] -= ...``), on
whatever array module they live on (NumPy or CuPy), and keeps their dtype: a float32
network stays float32 because learning rates are Python floats and all state arrays are
``zeros_like`` the parameter. ``g`` below is the gradient ∂L/∂W; ``lr`` is η.

============  =====================================================================
SGD           W -= lr * g
Momentum      v = momentum * v - lr * g;  W += v
Nesterov      v = momentum * v - lr * g;  W += momentum² * v - (1 + momentum) * lr * g
              (the book's NAG: the gradient is taken "one step ahead" algebraically)
AdaGrad       h += g * g;  W -= lr * g / (sqrt(h) + eps)
RMSprop       h = decay * h + (1 - decay) * g * g;  W -= lr * g / (sqrt(h) + eps)
Adadelta      Eg = rho * Eg + (1 - rho) * g²;  d = sqrt(Ed + eps) / sqrt(Eg + eps) * g;
              Ed = rho * Ed + (1 - rho) * d²;  W -= lr * d   (lr = 1.0: no learning rate)
Adam          t += 1;  lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)   (bias correction)
              m += (1 - beta1) * (g - m);  v += (1 - beta2) * (g² - v);
              W -= lr_t * m / (sqrt(v) + eps)
============  =====================================================================

Two options work with every optimizer, applied to the gradient before the rule:

* ``weight_decay`` λ (L2): ``g + λ * W`` for tensors named ``"W"`` only (Affine and
  Conv2D weights), never for biases ``b`` or BatchNorm ``gamma``/``beta``, as in the
  book's ``MultiLayerNet`` where the penalty is 0.5 λ Σ W².
* ``clip_norm``: when the global L2 norm over all gradients exceeds it, every gradient is
  scaled by ``clip_norm / norm``.

The engine's gradient arrays are never modified (the GUI may be showing them).
"""
from __future__ import annotations

import math

import numpy as np

from layers import kernels
from layers.base import array_module, to_host

DECAY_NAMES = ("W",)
# elements per slice of an elementwise update: 128 KiB of float32 per operand stays in L2
_CHUNK = 32768


DECAY_HYPER = ("beta1", "beta2", "momentum", "decay", "rho")


def hyper_problem(name: str, value: float) -> str | None:
    """Why ``value`` is not allowed for hyperparameter ``name`` (``None`` when it is).

    Decay factors (beta1, beta2, momentum, decay, rho) must be in [0, 1): at 1 the running
    averages never move and Adam's bias correction divides by 1 − beta1^t = 0. eps must be > 0.
    """
    if not math.isfinite(value):
        return f"{name} must be a finite number, got {value}"
    if name in DECAY_HYPER and not 0.0 <= value < 1.0:
        return (f"{name} must be at least 0 and below 1, got {value:g} (at 1 the running averages "
                "never change and the bias correction divides by zero)")
    if name == "eps" and not value > 0:
        return f"eps must be above 0, got {value:g} (it keeps a division away from zero)"
    return None


class Optimizer:
    """Base class: hyperparameters, weight decay, clipping, state save/restore.

    Parameters
    ----------
    lr : float
        Learning rate η (a schedule may change ``self.lr`` between steps).
    weight_decay : float
        L2 coefficient λ, added as ``λ W`` to the gradients of tensors named ``"W"``.
    clip_norm : float or None
        Maximum global gradient norm.
    """

    name = "optimizer"
    slots: tuple = ()
    defaults: dict = {}
    default_lr = 0.01

    def __init__(self, lr: float | None = None, weight_decay: float = 0.0,
                 clip_norm: float | None = None, **hyper) -> None:
        unknown = sorted(set(hyper) - set(self.defaults))
        if unknown:
            raise ValueError(f"{self.name} has no option {', '.join(unknown)} "
                             f"(it has: lr, weight_decay, clip_norm{''.join(', ' + k for k in self.defaults)})")
        self.lr = float(self.default_lr if lr is None else lr)
        if not math.isfinite(self.lr) or self.lr < 0:
            raise ValueError(f"learning rate must be a finite number >= 0, got {lr}")
        if weight_decay < 0:
            raise ValueError(f"weight decay must be >= 0, got {weight_decay}")
        if clip_norm is not None and clip_norm <= 0:
            raise ValueError(f"clip norm must be > 0, got {clip_norm}")
        self.weight_decay = float(weight_decay)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.hyper = {k: float(hyper.get(k, v)) for k, v in self.defaults.items()}
        for k, v in self.hyper.items():
            why = hyper_problem(k, v)
            if why:
                raise ValueError(f"{self.name}: {why}")
        self.t = 0
        self.state: dict = {}
        self.last_grad_norm: float | None = None

    # -- the step ----------------------------------------------------------------------
    def step(self, params: dict, grads: dict) -> None:
        """Update every ``params[key]`` in place from ``grads[key]``.

        ``params`` and ``grads`` are dicts with the same keys, e.g. ``(node_id, name)``
        tuples from ``Engine.params_ref()`` / ``grads_ref()``; keys without a gradient are
        skipped.
        """
        keys = [k for k in params if grads.get(k) is not None]
        effective = {k: self._decayed(k, params[k], grads[k]) for k in keys}
        if self.clip_norm is not None:
            norm = global_norm([effective[k] for k in keys])
            self.last_grad_norm = norm
            if norm > self.clip_norm:
                factor = self.clip_norm / (norm + 1e-12)
                effective = {k: g * factor for k, g in effective.items()}
        self.t += 1
        self._begin_step()
        for k in keys:
            p = params[k]
            self._update(p, effective[k], self._slots(k, p))
        if self.t % self._flush_period() == 0:
            self._flush_tiny_state()

    # Decaying state (Adam's m of a weight whose gradient stays 0: ×0.9 per step) reaches
    # the subnormal range within about 800 steps in float32, and arithmetic on subnormal
    # numbers is ~100× slower on x86: a 10-epoch run would slow down by half from epoch 10
    # on. So every few steps, state entries below FLUSH_TINY × the dtype's smallest normal
    # number are set to 0 (what the CPU's flush-to-zero mode would do, which NumPy cannot
    # switch on). The period is short enough that the fastest decay named in the
    # hyperparameters cannot take an entry from above that bound to a subnormal between
    # two flushes.
    FLUSH_TINY = 2.0 ** 20
    _DECAY_HYPER = ("beta1", "beta2", "momentum", "decay", "rho")

    def _flush_period(self) -> int:
        decays = [self.hyper[k] for k in self._DECAY_HYPER if k in self.hyper and 0 < self.hyper[k] < 1]
        if not decays:
            return 128
        span = math.log(1.0 / self.FLUSH_TINY) / math.log(min(decays))  # steps to shrink by FLUSH_TINY
        return max(1, min(128, int(span)))

    def _flush_tiny_state(self) -> None:
        """Set the float32/float64 state entries whose magnitude is nearly subnormal to 0.

        (float16 is left alone: NumPy computes it in float32, where its subnormals are
        ordinary numbers, and its range is too short for the margin.)
        """
        for slots in self.state.values():
            for arr in slots.values():
                if arr.dtype in (np.float32, np.float64):
                    xp = array_module(arr)
                    arr[xp.abs(arr) < float(np.finfo(arr.dtype).tiny) * self.FLUSH_TINY] = 0

    def _decayed(self, key, p, g):
        if self.weight_decay and _tensor_name(key) in DECAY_NAMES:
            return g + self.weight_decay * p
        return g

    def _slots(self, key, p) -> dict:
        slots = self.state.get(key)
        xp = array_module(p)
        if slots is None:
            slots = {name: xp.zeros_like(p) for name in self.slots}
            self.state[key] = slots
        else:
            for name, arr in slots.items():
                if array_module(arr) is not xp or arr.dtype != p.dtype:
                    slots[name] = xp.asarray(arr, dtype=p.dtype)
        return slots

    def _begin_step(self) -> None:
        """Per-step precomputation shared by all tensors (Adam's bias correction)."""

    def _update(self, p, g, s: dict) -> None:
        raise NotImplementedError

    # -- checkpoints -----------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Host (NumPy) copy of everything needed to continue: hyperparameters, t, slots.

        Slots are a list of ``[key, {slot: array}]`` pairs so tuple keys survive JSON.
        """
        return {
            "name": self.name, "lr": self.lr, "weight_decay": self.weight_decay,
            "clip_norm": self.clip_norm, "hyper": dict(self.hyper), "t": self.t,
            "slots": [[list(k) if isinstance(k, tuple) else k,
                       {n: np.array(to_host(a)) for n, a in s.items()}] for k, s in self.state.items()],
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore from :meth:`state_dict`; slots move to the parameters' device on first use."""
        if state.get("name") != self.name:
            raise ValueError(f"optimizer state is for {state.get('name')!r}, not {self.name!r}")
        self.lr = float(state["lr"])
        self.weight_decay = float(state["weight_decay"])
        self.clip_norm = state["clip_norm"]
        self.hyper.update(state["hyper"])
        self.t = int(state["t"])
        self.state = {tuple(k) if isinstance(k, list) else k: {n: np.asarray(a) for n, a in s.items()}
                      for k, s in state["slots"]}

    def describe(self) -> str:
        extra = "".join(f", {k}={v:g}" for k, v in self.hyper.items())
        return f"{self.name}(lr={self.lr:g}{extra})"


def _tensor_name(key) -> str:
    return key[-1] if isinstance(key, tuple) else str(key)


def global_norm(grads) -> float:
    """sqrt of the sum of squares over all arrays, accumulated in float64."""
    total = 0.0
    for g in grads:
        flat = g.reshape(-1).astype(np.float64, copy=False)
        total += float(flat @ flat)
    return math.sqrt(total)


class SGD(Optimizer):
    """W -= lr * g."""

    name = "sgd"

    def _update(self, p, g, s):
        kern = kernels.compiled() if kernels.usable(p, g) else None
        if kern is not None:  # one compiled pass instead of a product and a subtraction
            kern.sgd_update(p.reshape(-1), g.reshape(-1), p.dtype.type(self.lr))
            return
        p -= self.lr * g


class Momentum(Optimizer):
    """v = momentum * v - lr * g; W += v."""

    name = "momentum"
    slots = ("v",)
    defaults = {"momentum": 0.9}

    def _update(self, p, g, s):
        v = s["v"]
        v *= self.hyper["momentum"]
        v -= self.lr * g
        p += v


class Nesterov(Optimizer):
    """The book's NAG: v = m v - lr g; W += m² v - (1 + m) lr g."""

    name = "nesterov"
    slots = ("v",)
    defaults = {"momentum": 0.9}

    def _update(self, p, g, s):
        m = self.hyper["momentum"]
        v = s["v"]
        v *= m
        v -= self.lr * g
        p += (m * m) * v
        p -= ((1 + m) * self.lr) * g


class AdaGrad(Optimizer):
    """h += g²; W -= lr g / (sqrt(h) + eps)."""

    name = "adagrad"
    slots = ("h",)
    defaults = {"eps": 1e-7}

    def _update(self, p, g, s):
        xp = array_module(p)
        h = s["h"]
        h += g * g
        denom = xp.sqrt(h)
        denom += self.hyper["eps"]
        p -= self.lr * g / denom


class RMSprop(Optimizer):
    """h = decay h + (1 - decay) g²; W -= lr g / (sqrt(h) + eps)."""

    name = "rmsprop"
    slots = ("h",)
    defaults = {"decay": 0.99, "eps": 1e-7}

    def _update(self, p, g, s):
        xp = array_module(p)
        decay = self.hyper["decay"]
        h = s["h"]
        h *= decay
        h += (1 - decay) * (g * g)
        denom = xp.sqrt(h)
        denom += self.hyper["eps"]
        p -= self.lr * g / denom


class Adadelta(Optimizer):
    """Zeiler's Adadelta: the step size comes from the running RMS of past steps."""

    name = "adadelta"
    slots = ("eg", "ed")
    defaults = {"rho": 0.95, "eps": 1e-6}
    default_lr = 1.0

    def _update(self, p, g, s):
        xp = array_module(p)
        rho, eps = self.hyper["rho"], self.hyper["eps"]
        eg, ed = s["eg"], s["ed"]
        eg *= rho
        eg += (1 - rho) * (g * g)
        delta = xp.sqrt(ed + eps) / xp.sqrt(eg + eps) * g
        ed *= rho
        ed += (1 - rho) * (delta * delta)
        delta *= self.lr
        p -= delta


class Adam(Optimizer):
    """The book's Adam with bias correction folded into ``lr_t``."""

    name = "adam"
    slots = ("m", "v")
    defaults = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-7}
    default_lr = 0.001

    _scratch = None  # one reusable slice-sized buffer (not optimizer state)

    def _begin_step(self):
        b1, b2 = self.hyper["beta1"], self.hyper["beta2"]
        self._lr_t = self.lr * math.sqrt(1.0 - b2 ** self.t) / (1.0 - b1 ** self.t)

    def _update(self, p, g, s):
        xp = array_module(p)
        m, v = s["m"], s["v"]
        kern = kernels.compiled() if kernels.usable(p, g, m, v) else None
        if kern is not None:  # one compiled pass over each tensor, the same arithmetic
            f = p.dtype.type
            kern.adam_update(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                             f(1 - self.hyper["beta1"]), f(1 - self.hyper["beta2"]),
                             f(self.hyper["eps"]), f(self._lr_t))
            return
        # reshape(-1) must give views, or the in-place updates would land in copies; a
        # gradient of another dtype keeps the whole-tensor path and its rounding
        if (xp is not np or p.size <= _CHUNK or g.dtype != p.dtype
                or not all(a.flags.c_contiguous for a in (p, g, m, v))):
            self._update_slice(p, g, m, v, None)
            return
        # Twelve passes over a big tensor (Affine 4320x100: 1.7 MB) stream through
        # memory twelve times; slice by slice they stay in cache: same ops on every
        # element, so the same result.
        pf, gf, mf, vf = p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1)
        scratch = self._scratch
        if scratch is None or scratch.dtype != p.dtype:
            scratch = self._scratch = np.empty(_CHUNK, dtype=p.dtype)
        for a in range(0, pf.size, _CHUNK):
            b = min(a + _CHUNK, pf.size)
            self._update_slice(pf[a:b], gf[a:b], mf[a:b], vf[a:b], scratch[:b - a])

    def _update_slice(self, p, g, m, v, tmp):
        xp = array_module(p)
        # one scratch array instead of a temporary per operator (an array even for a 0-d
        # tensor, where NumPy would return a scalar that ``out=`` cannot take)
        if tmp is None:
            tmp = xp.empty(p.shape, dtype=xp.result_type(g, m))
        xp.subtract(g, m, out=tmp)
        tmp *= 1 - self.hyper["beta1"]
        m += tmp
        xp.multiply(g, g, out=tmp)
        tmp -= v
        tmp *= 1 - self.hyper["beta2"]
        v += tmp
        xp.sqrt(v, out=tmp)
        tmp += self.hyper["eps"]
        xp.divide(m, tmp, out=tmp)
        tmp *= self._lr_t
        p -= tmp


OPTIMIZERS = {cls.name: cls for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adadelta, Adam)}
ALIASES = {"nag": "nesterov"}


def make_optimizer(name: str, lr: float | None = None, **options) -> Optimizer:
    """An optimizer by name (``sgd``, ``momentum``, ``nesterov``/``nag``, ``adagrad``,
    ``rmsprop``, ``adadelta``, ``adam``); ``lr=None`` takes the optimizer's default."""
    key = str(name).lower()
    key = ALIASES.get(key, key)
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r} (choose from {', '.join(OPTIMIZERS)}, nag)")
    return OPTIMIZERS[key](lr=lr, **options)


def race_function(x, y):
    """The book's test function f(x, y) = x² / 20 + y² and its gradient (x / 10, 2 y)."""
    return x * x / 20.0 + y * y, (x / 10.0, 2.0 * y)


def optimize_2d(name: str, lr: float | None = None, start=(-7.0, 2.0), steps: int = 30,
                **options) -> np.ndarray:
    """Trace an optimizer on f(x, y) = x²/20 + y² (the book's ``optimizer_compare_naive``).

    Parameters
    ----------
    name : str
        Optimizer name; ``lr`` and ``options`` go to :func:`make_optimizer`. The book's
        race uses SGD 0.95, Momentum 0.1, AdaGrad 1.5, Adam 0.3.
    start : (float, float)
        Starting point, (-7, 2) in the book.
    steps : int
        Number of updates.

    Returns
    -------
    ndarray (steps + 1, 2)
        The path: the start, then the point after each update.
    """
    opt = make_optimizer(name, lr, **options)
    params = {"x": np.array([float(start[0])]), "y": np.array([float(start[1])])}
    path = [(params["x"][0], params["y"][0])]
    for _ in range(int(steps)):
        _, (gx, gy) = race_function(params["x"], params["y"])
        opt.step(params, {"x": gx, "y": gy})
        path.append((params["x"][0], params["y"][0]))
    return np.array(path)
