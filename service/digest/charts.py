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

WIDTH_PX = 600  # shown width in the mail (CSS pixels)
SCALE = 2  # drawn at 2× for high-density screens
DPI = 100 * SCALE
WIDTH_IN = WIDTH_PX / 100

BLUE, LIGHT_BLUE = "#1f5fa8", "#9cc3ea"
GREEN, LIGHT_GREEN = "#2e7d32", "#b9dcb9"
GREY = "#52606d"


def _num(v: float, _pos=None) -> str:
    return f"{int(round(v)):,}".replace(",", ".")


def _png(fig: Figure) -> bytes:
    """Draw once on an Agg canvas and write an RGB PNG (no tight_layout: fixed margins)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    img = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def _style(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color("#cbd2d9")
    ax.spines["bottom"].set_color("#cbd2d9")
    ax.tick_params(colors=GREY, labelsize=8)


def _head(fig: Figure, ax, title: str) -> None:
    """Title at the top left, legend in one row under it, both above the plot."""
    fig.text(0.015, 0.985, title, fontsize=10, color="#1f2933", va="top", ha="left")
    ax.legend(fontsize=7.5, frameon=False, loc="lower left", bbox_to_anchor=(-0.01, 1.0), ncol=2,
              borderaxespad=0.2, handlelength=1.2, columnspacing=1.2)


def trend_png(f: Figures) -> bytes:
    """People submitted and people forwarded per day, the last 14 days up to D."""
    fig = Figure(figsize=(WIDTH_IN, 3.2), dpi=DPI)
    fig.subplots_adjust(left=0.09, right=0.98, top=0.78, bottom=0.16)
    ax = fig.add_subplot()
    xs = list(range(len(f.trend)))
    w = 0.4
    ax.bar([x - w / 2 for x in xs], [t.submitted for t in f.trend], w, color=LIGHT_BLUE,
           label="Người trong danh sách gửi đến")
    ax.bar([x + w / 2 for x in xs], [t.forwarded for t in f.trend], w, color=BLUE,
           label="Người đã chuyển nơi tiêm")
    ax.set_xticks(xs, [t.day.strftime("%d/%m") for t in f.trend], rotation=45, ha="right")
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
    height = 0.9 + 0.3 * len(groups)
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    fig.subplots_adjust(left=0.21, right=0.98, top=1 - 0.7 / height, bottom=0.35 / height)
    ax = fig.add_subplot()
    ys = list(range(len(groups)))[::-1]
    sent = [g.total.forwarded for g in groups]
    entered = [min(g.entered, g.total.forwarded) for g in groups]
    ax.barh(ys, sent, 0.68, color=LIGHT_GREEN, label="Đã chuyển nơi tiêm")
    ax.barh(ys, entered, 0.68, color=GREEN, label="Nơi nhận xác nhận đã nhập")
    top = max([1] + sent)
    for y, g in zip(ys, groups):
        label = _num(g.total.forwarded)
        if g.entered_pct is not None:
            label += f" · nhập {g.entered_pct:.0f}%"
        if g.target_pct is not None:
            label += f" · {g.target_pct:.0f}% chỉ tiêu"
        ax.text(g.total.forwarded + top * 0.01, y, label, va="center", fontsize=7, color=GREY)
    ax.set_yticks(ys, [(f"{g.rank}. " if g.rank else "") + g.short for g in groups])
    ax.set_xlim(0, top * 1.45)
    ax.xaxis.set_major_formatter(FuncFormatter(_num))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.grid(axis="x", color="#e4e7eb", linewidth=0.6)
    ax.set_axisbelow(True)
    _style(ax)
    _head(fig, ax, f"Lũy kế đến {f.day.strftime('%d/%m/%Y')}")
    return _png(fig)
