"""Divergence from the loss trend, not only from NaN.

With a far too large learning rate the loss can climb to 1e17 and stay finite, so a
NaN check never fires and the run "succeeds" with chance accuracy. :class:`LossTrend`
keeps an exponential moving average of the per-iteration loss (so single noisy batches
do not count) and reports divergence when, after a warm-up, the average has risen
``factor`` times above the lowest average seen so far, which is the run's own scale
whatever the loss function (cross-entropy starts near ``ln K``, a regression loss may
start anywhere).
"""
from __future__ import annotations

import math


class LossTrend:
    """Feed per-iteration losses with :meth:`update`; it returns a reason once diverged.

    Parameters
    ----------
    factor : float
        How far above the lowest smoothed loss the smoothed loss must climb (default 1000).
    warmup : int
        Iterations before any verdict (the moving average needs history).
    alpha : float
        Weight of the newest loss in the moving average (0.05: about 20 iterations).
    """

    def __init__(self, factor: float = 1e3, warmup: int = 20, alpha: float = 0.05) -> None:
        self.factor, self.warmup, self.alpha = factor, warmup, alpha
        self.count = 0
        self.ema: float | None = None
        self.lowest = math.inf

    def update(self, loss: float) -> str | None:
        """Add one loss; ``None`` while the trend is fine, else one sentence saying why not."""
        if not math.isfinite(loss):
            return None   # NaN/Inf is reported by the finiteness check with its node
        self.count += 1
        self.ema = loss if self.ema is None else (1 - self.alpha) * self.ema + self.alpha * loss
        self.lowest = min(self.lowest, self.ema)   # from the start: a blow-up can come at once
        if self.count < self.warmup:
            return None
        floor = max(self.lowest, 1e-12)
        if self.ema > self.factor * floor and self.ema > 1.0:
            return (f"the loss is diverging: its moving average rose to {self.ema:.3g}, "
                    f"{self.ema / floor:,.0f} times its lowest ({self.lowest:.3g})")
        return None
