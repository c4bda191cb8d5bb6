"""Layers in the style of "Deep Learning from Scratch" (common/layers.py), NumPy only.

Exported by Backprop Studio next to ``net.py``. One small class per layer: ``forward``
keeps what ``backward`` needs on the instance (as the book does), ``backward(dout)``
returns the gradient for the input(s) and stores parameter gradients as ``dW``, ``db``...
Unlike the book, no incoming array is changed in place, and arrays keep their dtype.

Shapes: N = batch size; C, H, W = channels, height, width; FN, FH, FW = number, height
and width of the filters; D = features per sample; M = output units.
"""
import numpy as np


# -- helpers ------------------------------------------------------------------------------
def im2col(x, fh, fw, stride=1, pad=0, fill=0.0):
    """x : (N, C, H, W) -> col : (N·OH·OW, C·FH·FW), one row per window."""
    n, c, h, w = x.shape
    oh = (h + 2 * pad - fh) // stride + 1
    ow = (w + 2 * pad - fw) // stride + 1
    img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], constant_values=fill)
    col = np.empty((n, c, fh, fw, oh, ow), dtype=x.dtype)
    for y in range(fh):
        for xx in range(fw):
            col[:, :, y, xx, :, :] = img[:, :, y:y + stride * oh:stride, xx:xx + stride * ow:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)


def col2im(col, x_shape, fh, fw, stride=1, pad=0):
    """col : (N·OH·OW, C·FH·FW) -> (N, C, H, W); overlapping windows add up."""
    n, c, h, w = x_shape
    oh = (h + 2 * pad - fh) // stride + 1
    ow = (w + 2 * pad - fw) // stride + 1
    col = col.reshape(n, oh, ow, c, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1), dtype=col.dtype)
    for y in range(fh):
        for xx in range(fw):
            img[:, :, y:y + stride * oh:stride, xx:xx + stride * ow:stride] += col[:, :, y, xx, :, :]
    return img[:, :, pad:h + pad, pad:w + pad]


def unbroadcast(grad, shape):
    """Sum ``grad`` back down to ``shape`` (undo NumPy broadcasting)."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for i, s in enumerate(shape):
        if s == 1 and grad.shape[i] != 1:
            grad = grad.sum(axis=i, keepdims=True)
    return grad.reshape(shape)


def softmax(x):
    """x : (..., K) -> probabilities along the last axis."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# -- arithmetic ---------------------------------------------------------------------------------
class AddLayer:
    """out = a + b; backward passes dout to both inputs."""

    def forward(self, a, b):
        self.sa, self.sb = np.shape(a), np.shape(b)
        return a + b

    def backward(self, dout):
        return unbroadcast(dout, self.sa), unbroadcast(dout, self.sb)


class SubLayer:
    """out = a - b."""

    def forward(self, a, b):
        self.sa, self.sb = np.shape(a), np.shape(b)
        return a - b

    def backward(self, dout):
        return unbroadcast(dout, self.sa), unbroadcast(-dout, self.sb)


class MulLayer:
    """out = a * b; backward swaps the inputs: da = dout * b, db = dout * a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, dout):
        return unbroadcast(dout * self.b, np.shape(self.a)), unbroadcast(dout * self.a, np.shape(self.b))


class DivLayer:
    """out = a / b."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, dout):
        return (unbroadcast(dout / self.b, np.shape(self.a)),
                unbroadcast(-dout * self.a / (self.b * self.b), np.shape(self.b)))


class MatMulLayer:
    """out = a @ b for a : (N, k), b : (k, m)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a @ b

    def backward(self, dout):
        a2 = self.a.reshape(-1, self.a.shape[-1])
        return dout @ self.b.T, a2.T @ dout.reshape(-1, dout.shape[-1])


class SumLayer:
    """out = x.sum(axis) (axis None: every entry)."""

    def __init__(self, axis=None):
        self.axis = axis

    def forward(self, x):
        self.shape = x.shape
        return x.sum(axis=self.axis)

    def backward(self, dout):
        if self.axis is not None:
            dout = np.expand_dims(dout, self.axis)
        return np.broadcast_to(dout, self.shape).copy()


class MeanLayer(SumLayer):
    """out = x.mean(axis)."""

    def forward(self, x):
        out = super().forward(x)
        self.n = x.size // max(np.size(out), 1)
        return out / self.n

    def backward(self, dout):
        return super().backward(dout / self.n)


# -- activations ----------------------------------------------------------------------------------
class Relu:
    """out = max(x, 0); backward passes dout where x > 0."""

    def forward(self, x, train_flg=False):
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class LeakyRelu:
    """out = x if x > 0 else alpha * x."""

    def __init__(self, alpha=0.01):
        self.alpha = alpha

    def forward(self, x, train_flg=False):
        self.slope = np.where(x > 0, 1.0, self.alpha).astype(x.dtype)
        return x * self.slope

    def backward(self, dout):
        return dout * self.slope


class Sigmoid:
    """out = 1 / (1 + exp(-x)); dx = dout * out * (1 - out)."""

    def forward(self, x, train_flg=False):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * self.out * (1.0 - self.out)


class Tanh:
    """out = tanh(x); dx = dout * (1 - out²)."""

    def forward(self, x, train_flg=False):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out ** 2)


class Step:
    """out = 1 if x > 0 else 0 (the perceptron); its gradient is 0 everywhere."""

    def forward(self, x, train_flg=False):
        return (x > 0).astype(x.dtype)

    def backward(self, dout):
        return np.zeros_like(dout)


class Softmax:
    """Probabilities along the last axis; dx = out * (dout - Σ dout * out)."""

    def forward(self, x, train_flg=False):
        self.out = softmax(x)
        return self.out

    def backward(self, dout):
        return self.out * (dout - (dout * self.out).sum(axis=-1, keepdims=True))


class Identity:
    """out = x."""

    def forward(self, x, train_flg=False):
        return x

    def backward(self, dout):
        return dout


# -- layers ------------------------------------------------------------------------------------------
class Affine:
    """out = x · W + b.  x : (N, D) or (N, d1, d2, ...) flattened to D;  W : (D, M);  b : (M,)."""

    def __init__(self, W, b=None):
        self.W, self.b = W, b

    def forward(self, x, train_flg=False):
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(1, -1)
        out = self.x @ self.W
        if self.b is not None:
            out = out + self.b
        return out if x.ndim > 1 else out.reshape(-1)

    def backward(self, dout):
        d2 = dout.reshape(self.x.shape[0], -1)
        self.dW = self.x.T @ d2
        self.db = d2.sum(axis=0) if self.b is not None else None
        return (d2 @ self.W.T).reshape(self.x_shape)


class Flatten:
    """(N, d1, d2, ...) -> (N, d1·d2·...)."""

    def forward(self, x, train_flg=False):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.shape)


class Convolution:
    """x : (N, C, H, W);  W : (FN, C, FH, FW);  b : (FN,);  out : (N, FN, OH, OW),
    OH = (H + 2·pad - FH) // stride + 1."""

    def __init__(self, W, b=None, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad

    def forward(self, x, train_flg=False):
        fn, c, fh, fw = self.W.shape
        n, _, h, w = x.shape
        oh = (h + 2 * self.pad - fh) // self.stride + 1
        ow = (w + 2 * self.pad - fw) // self.stride + 1
        self.x_shape = x.shape
        self.col = im2col(x, fh, fw, self.stride, self.pad)
        self.col_W = self.W.reshape(fn, -1).T
        out = self.col @ self.col_W
        if self.b is not None:
            out = out + self.b
        return out.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)

    def backward(self, dout):
        fn, c, fh, fw = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
        self.db = dout.sum(axis=0) if self.b is not None else None
        self.dW = (self.col.T @ dout).transpose(1, 0).reshape(fn, c, fh, fw)
        dcol = dout @ self.col_W.T
        return col2im(dcol, self.x_shape, fh, fw, self.stride, self.pad)


class Pooling:
    """Max pooling: x : (N, C, H, W) -> (N, C, OH, OW); padding never wins (-inf)."""

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

    def forward(self, x, train_flg=False):
        n, c, h, w = x.shape
        oh = (h + 2 * self.pad - self.pool_h) // self.stride + 1
        ow = (w + 2 * self.pad - self.pool_w) // self.stride + 1
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad, fill=-np.inf)
        col = col.reshape(-1, c, self.pool_h * self.pool_w)
        self.x_shape, self.arg_max = x.shape, col.argmax(axis=2)  # the first maximum of each window
        return col.max(axis=2).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)

    def backward(self, dout):
        n, c, h, w = self.x_shape
        size = self.pool_h * self.pool_w
        d = dout.transpose(0, 2, 3, 1).reshape(-1, c)
        dmax = np.zeros((d.shape[0], c, size), dtype=dout.dtype)
        np.put_along_axis(dmax, self.arg_max[..., None], d[..., None], axis=2)
        return col2im(dmax.reshape(d.shape[0], -1), self.x_shape, self.pool_h, self.pool_w, self.stride, self.pad)


class AvgPooling(Pooling):
    """Average pooling (padding counts as zeros, divisor pool_h·pool_w)."""

    def forward(self, x, train_flg=False):
        n, c, h, w = x.shape
        oh = (h + 2 * self.pad - self.pool_h) // self.stride + 1
        ow = (w + 2 * self.pad - self.pool_w) // self.stride + 1
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad).reshape(-1, c, self.pool_h * self.pool_w)
        self.x_shape = x.shape
        return col.mean(axis=2).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)

    def backward(self, dout):
        n, c, h, w = self.x_shape
        size = self.pool_h * self.pool_w
        d = dout.transpose(0, 2, 3, 1).reshape(-1, c, 1) / size
        dcol = np.broadcast_to(d, (d.shape[0], c, size)).reshape(d.shape[0], -1)
        return col2im(dcol, self.x_shape, self.pool_h, self.pool_w, self.stride, self.pad)


class GlobalAvgPooling:
    """(N, C, H, W) -> (N, C): the mean of each channel's map."""

    def forward(self, x, train_flg=False):
        self.shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dout):
        n, c, h, w = self.shape
        return np.broadcast_to(dout[:, :, None, None] / (h * w), self.shape).copy()


class BatchNormalization:
    """Normalise each feature (N, D) or channel (N, C, H, W) over the batch, then gamma·x̂ + beta.

    momentum: share of the old running statistics per update (the book's 0.9).
    """

    def __init__(self, gamma, beta, running_mean, running_var, momentum=0.9, eps=1e-5):
        self.gamma, self.beta, self.momentum, self.eps = gamma, beta, momentum, eps
        self.running_mean, self.running_var = running_mean, running_var

    def _axes(self, x):
        return (0,) + tuple(range(2, x.ndim))

    def _c(self, v, x):
        return v.reshape((1, -1) + (1,) * (x.ndim - 2))

    def forward(self, x, train_flg=False):
        axes = self._axes(x)
        if train_flg:
            mu = x.mean(axis=axes, keepdims=True)
            var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
            m = self.momentum
            self.running_mean = m * self.running_mean + (1 - m) * mu.reshape(-1)
            self.running_var = m * self.running_var + (1 - m) * var.reshape(-1)
        else:
            mu, var = self._c(self.running_mean, x), self._c(self.running_var, x)
        self.train_flg = train_flg
        self.std = np.sqrt(var + self.eps)
        self.xn = (x - mu) / self.std
        return self._c(self.gamma, x) * self.xn + self._c(self.beta, x)

    def backward(self, dout):
        axes = self._axes(dout)
        self.dgamma = (dout * self.xn).sum(axis=axes)
        self.dbeta = dout.sum(axis=axes)
        dxn = dout * self._c(self.gamma, dout)
        if not self.train_flg:
            return dxn / self.std
        return (dxn - dxn.mean(axis=axes, keepdims=True)
                - self.xn * (dxn * self.xn).mean(axis=axes, keepdims=True)) / self.std


class Dropout:
    """Inverted dropout: training keeps each entry with probability 1 - ratio (scaled up)."""

    def __init__(self, ratio=0.5, seed=0):
        self.ratio, self.rng = ratio, np.random.default_rng(seed)

    def forward(self, x, train_flg=False):
        if not train_flg or self.ratio == 0:
            self.scale = None
            return x
        self.scale = (self.rng.random(x.shape) > self.ratio) / (1 - self.ratio)
        return x * self.scale

    def backward(self, dout):
        return dout if self.scale is None else dout * self.scale


# -- losses -----------------------------------------------------------------------------------------
class SoftmaxWithLoss:
    """Mean cross-entropy of softmax(x) (N, K) against labels t (N,) or one-hot (N, K)."""

    def forward(self, x, t):
        self.y = softmax(x)
        n = x.shape[0]
        self.t = t if t.shape == x.shape else np.eye(x.shape[-1], dtype=x.dtype)[t.astype(int)]
        return -(self.t * np.log(self.y + 1e-300)).sum() / n

    def backward(self, dout=1.0):
        n = self.y.shape[0]
        return dout * (self.y * self.t.sum(axis=1, keepdims=True) - self.t) / n


class MeanSquaredError:
    """mean((x - t)²) over every entry."""

    def forward(self, x, t):
        self.diff = x - t
        return (self.diff ** 2).mean()

    def backward(self, dout=1.0):
        return dout * 2 * self.diff / self.diff.size


class SumSquaredError:
    """The book's sum_squared_error: ½ Σ (x - t)²."""

    def forward(self, x, t):
        self.diff = x - t
        return 0.5 * (self.diff ** 2).sum()

    def backward(self, dout=1.0):
        return dout * self.diff


class SigmoidWithBCE:
    """Binary cross-entropy of sigmoid(x) against t in [0, 1], averaged over every entry."""

    def forward(self, x, t):
        self.x, self.t = x, t
        return (np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))).mean()

    def backward(self, dout=1.0):
        return dout * (1 / (1 + np.exp(-self.x)) - self.t) / self.x.size
