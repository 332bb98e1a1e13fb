"""The digest's two charts as PNG bytes (matplotlib, Agg, no pyplot global state).

Drawn at twice the size they are shown (``WIDTH_PX`` CSS pixels wide in the mail), so they
stay sharp on phone screens. The words drawn into the pictures are Vietnamese; the same
figures are in the mail's text, for readers with images blocked.
"""
from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .data import Figures

WIDTH_PX = 480  # shown width in the mail (CSS pixels): a phone screen, less margins
SCALE = 2  # drawn at 2× for high-density screens
DPI = 100 * SCALE
WIDTH_IN = WIDTH_PX / 100

BLUE, LIGHT_BLUE = "#1f5fa8", "#9cc3ea"
GREEN, LIGHT_GREEN = "#2e7d32", "#b9dcb9"
GREY = "#52606d"


def _num(v: float, _pos=None) -> str:
    return f"{int(round(v)):,}".replace(",", ".")


def _png(fig: Figure) -> bytes:
    """Draw once on an Agg canvas and write a palette PNG (no tight_layout: fixed margins)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    img = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    # a 64-colour palette looks the same for flat charts and is about 3× smaller (phones on
    # mobile data download the whole message)
    img = img.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=9)
    return buf.getvalue()


def _style(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color("#cbd2d9")
    ax.spines["bottom"].set_color("#cbd2d9")
    ax.tick_params(colors=GREY, labelsize=9)


def _head(fig: Figure, ax, title: str) -> None:
    """Title at the top left, the legend in one row under it, both above the plot."""
    h = fig.get_figheight()
    fig.text(0.015, 1 - 0.06 / h, title, fontsize=11, color="#1f2933", va="top", ha="left")
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=9, frameon=False, loc="upper left",
               bbox_to_anchor=(0.0, 1 - 0.3 / h), ncol=2, borderaxespad=0.2, handlelength=1.2,
               columnspacing=1.2)


def trend_png(f: Figures) -> bytes:
    """People submitted and people forwarded per day, the last 14 days up to D."""
    fig = Figure(figsize=(WIDTH_IN, 3.3), dpi=DPI)
    fig.subplots_adjust(left=0.15, right=0.98, top=0.80, bottom=0.13)
    ax = fig.add_subplot()
    xs = list(range(len(f.trend)))
    w = 0.4
    ax.bar([x - w / 2 for x in xs], [t.submitted for t in f.trend], w, color=LIGHT_BLUE,
           label="Người trong danh sách nhận được")
    ax.bar([x + w / 2 for x in xs], [t.forwarded for t in f.trend], w, color=BLUE,
           label="Đã chuyển nơi tiêm")
    ax.set_xticks(xs, [t.day.strftime("%d/%m") if i % 2 == (len(xs) - 1) % 2 else ""
                       for i, t in enumerate(f.trend)], rotation=0)
    ax.yaxis.set_major_formatter(FuncFormatter(_num))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.set_ylim(bottom=0, top=max([1] + [max(t.submitted, t.forwarded) for t in f.trend]) * 1.08)
    ax.grid(axis="y", color="#e4e7eb", linewidth=0.6)
    ax.set_axisbelow(True)
    _style(ax)
    _head(fig, ax, f"Mỗi ngày, 14 ngày đến {f.day.strftime('%d/%m/%Y')}")
    return _png(fig)


def districts_png(f: Figures) -> bytes:
    """Per group (districts in rank order, then provincial units, enterprises): people
    forwarded since the start, with the part confirmed entered in the national system."""
    groups = [g for g in f.groups if g.key != "khac" or g.total.forwarded]
    height = 0.8 + 0.3 * len(groups)
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    fig.subplots_adjust(left=0.27, right=0.98, top=1 - 0.75 / height, bottom=0.15 / height)
    ax = fig.add_subplot()
    ys = list(range(len(groups)))[::-1]
    sent = [g.total.forwarded for g in groups]
    entered = [min(g.entered, g.total.forwarded) for g in groups]
    ax.barh(ys, sent, 0.68, color=LIGHT_GREEN, label="Đã chuyển nơi tiêm")
    ax.barh(ys, entered, 0.68, color=GREEN, label="Đã nhập (nơi nhận đã xác nhận)")
    top = max([1] + sent)
    for y, g in zip(ys, groups):
        label = _num(g.total.forwarded)
        if g.entered_pct is not None:
            label += f" · {g.entered_pct:.0f}% đã nhập"
        if g.target_pct is not None:
            label += f" · {g.target_pct:.0f}% chỉ tiêu"
        ax.text(g.total.forwarded + top * 0.01, y, label, va="center", fontsize=8.5, color=GREY)
    ax.set_yticks(ys, [(f"{g.rank}. " if g.rank else "") + g.short for g in groups])
    ax.set_xlim(0, top * 1.85)  # room for the longest label beside the longest bar
    _style(ax)
    ax.xaxis.set_visible(False)  # every bar carries its number
    ax.spines["bottom"].set_visible(False)
    _head(fig, ax, f"Lũy kế đến {f.day.strftime('%d/%m/%Y')}")
    return _png(fig)
