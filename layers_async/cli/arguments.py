"""What the `layers-async` commands share: argument types, exit statuses, the rich check."""

from __future__ import annotations

import argparse
import importlib.util
import math
import re
import sys
from datetime import timedelta

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "RICH_MISSING",
    "parse_duration",
    "positive_float",
    "positive_int",
    "rich_available",
]

EXIT_OK = 0
#: A row was bad or a customer failed (the others were still onboarded).
EXIT_PROBLEMS = 1
#: Nothing was run: bad arguments, unreadable input or state, no API key, rich missing.
EXIT_USAGE = 2
#: Interrupted by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130

#: What a command that needs rich prints when it is not installed.
RICH_MISSING = (
    "error: this needs rich, which comes with the cli extra: pip install 'layers-async[cli]'"
)

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_UNITS = {"d": 86_400.0, "h": 3_600.0, "m": 60.0, "s": 1.0}


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text!r})")
    return n


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        x = float(text)
    except ValueError:
        x = 0.0
    if not (x > 0 and math.isfinite(x)):
        raise argparse.ArgumentTypeError(f"must be a positive number (got {text!r})")
    return x


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``2h``, ``1d`` or a sum such as ``1h30m`` → a positive timedelta."""
    s = text.strip().lower()
    pos, total = 0, 0.0
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not s or pos != len(s) or total <= 0:
        raise argparse.ArgumentTypeError(
            f"not a duration: {text!r} (use e.g. 90s, 30m, 2h, 1d or 1h30m)"
        )
    return timedelta(seconds=total)


def rich_available() -> bool:
    """Whether rich (the `cli` extra) can be imported, without importing it."""
    if "rich" in sys.modules:
        return sys.modules["rich"] is not None  # None: import blocked on purpose
    try:
        return importlib.util.find_spec("rich") is not None
    except (ImportError, ValueError):
        return False
