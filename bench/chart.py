"""The goals of a bench run as a chart: plain SVG text, no plotting library.

One horizontal bar per goal row (bench.py's goals()): the measured ratio on
a log scale (so 0.1x and 5x both read), the goal as a marker line across
the bar, the bar's colour the verdict.  Values off the scale are drawn to
its edge and marked; rows with nothing measured (n/a, failed) say so in
place of a bar.
"""

import math
from xml.sax.saxutils import escape

LO, HI = 0.05, 20.0            # the axis: ratios, log scale
TICKS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 10, 20)
COLOURS = {"met": "#2e7d32", "NOT met": "#c62828",
           "NOT met (failed)": "#7f0000", "n/a": "#9e9e9e"}
ROW_H, BAR_H = 22, 13
BASE = 4.5                      # baseline below a row's middle, 12 px text
LABEL_W, PLOT_W, NOTE_W = 440, 470, 270
TOP = 118


def x_of(v):
    v = min(max(v, LO), HI)
    span = math.log10(HI) - math.log10(LO)
    return LABEL_W + PLOT_W * (math.log10(v) - math.log10(LO)) / span


def tick_label(t):
    return ("%g" % t) + "×"


def svg(rows, title, subtitles):
    """rows: the goals, each with goal, verdict, value (ratio or None),
    limit, higher_better, versus.  Returns the SVG document as text."""
    width = LABEL_W + PLOT_W + NOTE_W
    bottom = TOP + ROW_H * len(rows)
    height = bottom + 64
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d" font-family="DejaVu Sans, Arial, sans-serif"'
           ' font-size="12">' % (width, height, width, height),
           '<title>%s</title>' % escape(title),
           '<rect width="100%" height="100%" fill="#ffffff"/>',
           '<text x="10" y="22" font-size="16" font-weight="bold">%s</text>'
           % escape(title)]
    for i, line in enumerate(subtitles):
        out.append('<text x="10" y="%d" fill="#444444">%s</text>'
                   % (42 + 15 * i, escape(line)))
    # Grid and scale, above and below the rows.
    for t in TICKS:
        x = x_of(t)
        strong = t == 1
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" '
                   'stroke-width="%s"/>' % (x, TOP - 6, x, bottom + 2,
                                           "#555555" if strong else
                                           "#dddddd", 1.5 if strong else 1))
        for y in (TOP - 10, bottom + 16):
            out.append('<text x="%.1f" y="%d" text-anchor="middle" '
                       'fill="#555555">%s</text>' % (x, y, tick_label(t)))
    for i, r in enumerate(rows):
        y = TOP + ROW_H * i
        mid = y + ROW_H / 2
        verdict = r.get("verdict", "n/a")
        colour = COLOURS.get(verdict, COLOURS["n/a"])
        label = r["goal"]
        if r.get("versus") and r["versus"] != "OpenSSH":
            label += " (vs %s)" % r["versus"]
        out.append('<g class="goal" data-verdict="%s">' % escape(verdict))
        if i % 2:
            out.append('<rect x="0" y="%d" width="%d" height="%d" '
                       'fill="#f5f5f5"/>' % (y, width, ROW_H))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>'
                   % (LABEL_W - 8, mid + BASE, escape(label)))
        v, limit = r.get("value"), r.get("limit")
        if v is not None and v > 0:
            x0, x1 = x_of(LO), x_of(v)
            out.append('<rect class="bar" x="%.1f" y="%.1f" width="%.1f" '
                       'height="%d" fill="%s"/>'
                       % (x0, mid - BAR_H / 2, max(x1 - x0, 1), BAR_H,
                          colour))
            if v > HI or v < LO:
                # Off the scale: an arrowhead at the edge says so.
                tip = x_of(HI) if v > HI else x_of(LO)
                d = 1 if v > HI else -1
                out.append('<path d="M%.1f %.1f l%d %.1f l%d %.1f z" '
                           'fill="%s"/>' % (tip, mid - BAR_H / 2, 7 * d,
                                            BAR_H / 2, -7 * d, BAR_H / 2,
                                            colour))
            note = "%.2f×" % v
        else:
            out.append('<text x="%.1f" y="%.1f" '
                       'fill="%s" font-style="italic">%s</text>'
                       % (x_of(LO) + 4, mid + BASE, colour,
                          "failed" if "failed" in verdict else
                          "not measured"))
            note = "–"
        if limit:
            xl = x_of(limit)
            out.append('<line class="goal-marker" x1="%.1f" y1="%.1f" '
                       'x2="%.1f" y2="%.1f" stroke="#000000" '
                       'stroke-width="2.5"/>' % (xl, y + 2, xl,
                                                 y + ROW_H - 2))
        target = ("≥ " if r.get("higher_better") else "≤ ") + \
            ("%g×" % limit if limit else "?")
        out.append('<text x="%d" y="%.1f">'
                   '%s <tspan fill="#666666">goal %s</tspan> '
                   '<tspan fill="%s" font-weight="bold">%s</tspan></text>'
                   % (LABEL_W + PLOT_W + 12, mid + BASE, escape(note),
                      escape(target), colour, escape(verdict)))
        out.append('</g>')
    # Legend.
    ly = bottom + 40
    out.append('<text x="10" y="%d" fill="#444444">bar: sshand\'s ratio '
               '(log scale; to OpenSSH unless said), black mark: the goal; '
               'higher is better for rates, lower for costs</text>' % ly)
    x = 10
    for name in ("met", "NOT met", "NOT met (failed)"):
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>'
                   '<text x="%d" y="%d">%s</text>'
                   % (x, ly + 8, COLOURS[name], x + 16, ly + 18,
                      escape(name)))
        x += 30 + 8 * len(name)
    out.append('</svg>')
    return "\n".join(out) + "\n"
