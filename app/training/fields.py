"""Number fields that state their valid range and say why they refuse a value.

A plain spin box snaps a typed 0 (or text) back to the old value without a word. These
report ``refused(reason)`` instead, e.g. "batch size not changed: 0 is below the smallest
batch size 1; it stays 100", and carry their range in the tooltip.
"""
from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets

LR_MIN, LR_MAX = 1e-8, 1e6


def _fmt(v: float, decimals: int) -> str:
    return f"{int(v)}" if decimals == 0 else f"{v:.{decimals}g}" if abs(v) < 1e-3 and v else f"{v:g}"


def problem(text: str, low: float, high: float, what: str, decimals: int, high_note: str = "") -> str | None:
    """Why ``text`` is not a valid value in ``[low, high]`` (``None`` when it is)."""
    t = text.strip()
    try:
        v = float(t) if decimals else int(t)
    except ValueError:
        kind = "a whole number" if decimals == 0 else "a number"
        return f"{t!r} is not {kind}"
    if v != v or v in (float("inf"), float("-inf")):
        return f"the {what} must be a finite number"
    if v < low:
        return f"{_fmt(v, decimals)} is below the smallest {what} {_fmt(low, decimals)}"
    if v > high:
        return f"{_fmt(v, decimals)} is above the largest {what} {_fmt(high, decimals)}{high_note}"
    return None


class _Checked:
    """What both checked boxes share (mixed into a QSpinBox or QDoubleSpinBox)."""

    what = "value"
    high_note = ""

    def describe(self, what: str, high_note: str = "") -> None:
        """Name the field (for messages) and put its valid range in its tooltip."""
        self.what, self.high_note = what, high_note
        dec = self.decimals() if hasattr(self, "decimals") else 0
        extra = self.toolTip()
        extra = f"\n{extra}" if extra and not extra.startswith(what) else ""
        self.setToolTip(f"{what}: {_fmt(self.minimum(), dec)} to {_fmt(self.maximum(), dec)}"
                        f"{high_note}{extra}")

    def _problem(self, text: str) -> str | None:
        dec = self.decimals() if hasattr(self, "decimals") else 0
        body = text.strip()
        for affix in (self.prefix(), self.suffix()):
            body = body.replace(affix.strip(), "") if affix.strip() else body
        if self.specialValueText() and body == self.specialValueText():
            return None
        return problem(body, self.minimum(), self.maximum(), self.what, dec, self.high_note)

    def _validate(self, base, text: str, pos: int):
        state, text, pos = base(text, pos)
        if state == QtGui.QValidator.State.Invalid:
            # keep what was typed; Enter or leaving the field explains why it is not taken
            return QtGui.QValidator.State.Intermediate, text, pos
        return state, text, pos

    def _fixup(self, text: str) -> str:
        why = self._problem(text)
        if why and text.strip():
            self.refused.emit(f"{self.what} not changed: {why}; it stays {self.textFromValue(self.value())}")
        return text   # still not acceptable: Qt puts the last valid value back


class CheckedSpinBox(_Checked, QtWidgets.QSpinBox):
    """An integer field that explains refusals through :attr:`refused`."""

    refused = QtCore.Signal(str)

    def validate(self, text: str, pos: int):
        return self._validate(super().validate, text, pos)

    def fixup(self, text: str) -> str:
        return self._fixup(text)


class CheckedDoubleSpinBox(_Checked, QtWidgets.QDoubleSpinBox):
    """A decimal field that explains refusals through :attr:`refused`."""

    refused = QtCore.Signal(str)

    def validate(self, text: str, pos: int):
        return self._validate(super().validate, text, pos)

    def fixup(self, text: str) -> str:
        return self._fixup(text)


class LrSpinBox(QtWidgets.QDoubleSpinBox):
    """A learning-rate field from 1e-8 to 1e6: takes ``0.001``, ``1e-3`` or ``1e6``; the
    arrows and wheel step through 1, 2, 5, 10, 20... (a log scale); a value that is
    refused is explained through :attr:`refused` instead of being dropped silently."""

    refused = QtCore.Signal(str)

    def __init__(self, value: float, low: float = LR_MIN, high: float = LR_MAX, what: str = "learning rate") -> None:
        super().__init__()
        self.what = what
        self.setDecimals(12)  # the box rounds to this; textFromValue shows significant digits
        self.setRange(low, high)
        self.setValue(value)
        self.setKeyboardTracking(False)
        self.setToolTip(f"{what}: {low:g} to {high:g}; type e.g. 0.001 or 1e-3")

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def _problem(self, text: str) -> str | None:
        t = text.strip()
        try:
            v = float(t)
        except ValueError:
            return f"{t!r} is not a number (type e.g. 0.001 or 1e-3)"
        if v != v or v in (float("inf"), float("-inf")):
            return f"the {self.what} must be a finite number"
        if v < self.minimum():
            return f"{v:g} is below the smallest {self.what} {self.minimum():g}"
        if v > self.maximum():
            return f"{v:g} is above the largest {self.what} {self.maximum():g}"
        return None

    def validate(self, text: str, pos: int):
        if self._problem(text) is None:
            return QtGui.QValidator.State.Acceptable, text, pos
        # anything else may still become a number ("1e", "-"): keep it while typing and
        # explain on Enter / focus-out (fixup) why it was not taken
        return QtGui.QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:
        problem = self._problem(text)
        if problem and text.strip():
            self.refused.emit(f"{self.what} not changed: {problem}; it stays {self.value():g}")
        return text

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        v = self.value()
        k = _grid_index(v)
        if steps < 0 and abs(_grid_value(k) - v) > 1e-9 * v:
            k += 1  # between two grid values: one step down lands on the lower one
        k += steps
        self.setValue(min(max(_grid_value(k), self.minimum()), self.maximum()))
        self.selectAll()


def _grid_value(k: int) -> float:
    return (1.0, 2.0, 5.0)[k % 3] * 10.0 ** (k // 3)


def _grid_index(v: float) -> int:
    """The largest k with ``_grid_value(k) <= v`` (the 1-2-5 sequence)."""
    k = 3 * math.floor(math.log10(max(v, 1e-300)) + 1e-12)
    while _grid_value(k + 1) <= v * (1 + 1e-9):
        k += 1
    while _grid_value(k) > v * (1 + 1e-9):
        k -= 1
    return k


def spin_field(value, low, high, decimals=0, step=None):
    """A checked spin box: whole numbers with ``decimals=0``, else a double spin box."""
    if decimals == 0:
        w = CheckedSpinBox()
        w.setRange(int(low), int(high))
        w.setValue(int(value))
    else:
        w = CheckedDoubleSpinBox()
        w.setDecimals(decimals)
        w.setRange(low, high)
        w.setValue(value)
        w.setSingleStep(step or 10 ** -min(decimals, 3))
    w.setKeyboardTracking(False)
    return w
