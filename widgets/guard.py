"""Callbacks that cannot fail silently: Voilà hides tracebacks, so an exception becomes text on screen."""

from __future__ import annotations

import functools
import html
from collections.abc import Callable

import ipywidgets as W


def error_text(error: Exception) -> str:
    return f"Error: {type(error).__name__}: {error}"


def guarded(callback: Callable, show_error: Callable[[str], None]) -> Callable:
    """Wrap a widget callback so any exception is passed, as one line of text, to `show_error`."""

    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except Exception as error:  # the learner must see it; the kernel log is invisible in Voilà
            show_error(error_text(error))

    return wrapper


def show_error_in(readout: W.HTML) -> Callable[[str], None]:
    """A `show_error` that writes into a dashboard's readout line, styled like the status line's errors."""

    def show(text: str) -> None:
        readout.value = (f'<div role="alert" class="lab-status lab-status-error" style="color:#6b0000;'
                         f'background:#fde8e8;padding:6px 10px;border-radius:4px">✖ {html.escape(text)}</div>')

    return show
