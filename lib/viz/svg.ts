/**
 * A small static renderer: the plotly figures we build, drawn as SVG for views that run no JavaScript
 * (nbconvert HTML, GitHub). Lines, markers, bars, heatmaps; linear, log and category axes; a legend.
 * Each trace is one `<g class="trace" data-name="…">`, so tests can count traces and points.
 *
 * @module
 */
import { escapeXml } from "../util/escape.ts";
import type { Axis, Figure, HeatmapTrace, Trace } from "./figure_types.ts";
import { COLORWAY as COLORS } from "./_colors.ts";

const W = 720, H = 400;

function _fmt(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(1).replace("e+", "e");
  if (a >= 1000) return (v / 1000).toPrecision(3).replace(/\.?0+$/, "") + "k";
  return String(Number(v.toPrecision(4)));
}

/** "Nice" ticks (1, 2, 5 × 10^k) covering [lo, hi]. */
function _ticks(lo: number, hi: number, n = 5): number[] {
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / n, p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    out.push(Number(t.toPrecision(12)));
  }
  return out;
}

interface _Scale {
  map(v: number | string): number;
  ticks: { at: number; label: string }[];
}

function _scale(values: (number | string)[], axis: Axis | undefined, from: number, to: number): _Scale {
  const cats = axis?.type === "category" || values.some((v) => typeof v === "string");
  if (cats) {
    const names = [...new Set(values.map(String))];
    const band = (to - from) / Math.max(1, names.length);
    return {
      map: (v) => from + band * (names.indexOf(String(v)) + 0.5),
      ticks: names.map((n, i) => ({ at: from + band * (i + 0.5), label: n })),
    };
  }
  const log = axis?.type === "log";
  const nums = (values as number[]).filter((v) => Number.isFinite(v) && (!log || v > 0));
  let lo = nums.length ? Math.min(...nums) : 0, hi = nums.length ? Math.max(...nums) : 1;
  if (log) {
    lo = Math.floor(Math.log10(lo || 1)), hi = Math.ceil(Math.log10(hi || 10));
    if (hi === lo) hi = lo + 1;
    const f = (v: number) => from + (to - from) * (Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo);
    const every = Math.max(1, Math.ceil((hi - lo) / 6));
    const ticks = [];
    for (let e = lo; e <= hi; e += every) ticks.push({ at: f(10 ** e), label: _fmt(10 ** e) });
    return { map: (v) => f(Number(v)), ticks };
  }
  if (hi === lo) (lo -= 1), (hi += 1);
  const pad = (hi - lo) * 0.04;
  const t = _ticks(lo - pad, hi + pad);
  lo = Math.min(lo - pad, t[0]), hi = Math.max(hi + pad, t.at(-1)!);
  const f = (v: number) => from + (to - from) * (v - lo) / (hi - lo);
  return { map: (v) => f(Number(v)), ticks: t.map((v) => ({ at: f(v), label: _fmt(v) })) };
}

function _viridis(u: number): string {
  // Five stops of plotly's Viridis, linearly interpolated.
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.min(1, Math.max(0, u)) * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(x));
  const c = stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * (x - i)));
  return `rgb(${c.join(",")})`;
}

function _heatmap(t: HeatmapTrace, x0: number, y0: number, w: number, h: number): string {
  const rows = t.z.length, cols = t.z[0]?.length ?? 0;
  const flat = t.z.flat().filter(Number.isFinite);
  const lo = Math.min(...flat), hi = Math.max(...flat);
  const cw = w / Math.max(1, cols), ch = h / Math.max(1, rows);
  const cells: string[] = [];
  t.z.forEach((row, r) =>
    row.forEach((v, c) => {
      const fill = _viridis(hi > lo ? (v - lo) / (hi - lo) : 0.5);
      cells.push(
        `<rect x="${(x0 + c * cw).toFixed(1)}" y="${(y0 + r * ch).toFixed(1)}" width="${cw.toFixed(1)}" ` +
          `height="${ch.toFixed(1)}" fill="${fill}"><title>${
            escapeXml(`${t.y?.[r] ?? r}, ${t.x?.[c] ?? c}: ${_fmt(v)}`)
          }</title></rect>`,
      );
    })
  );
  const labels = [
    ...(t.x ?? []).map((l, c) =>
      `<text x="${(x0 + (c + 0.5) * cw).toFixed(1)}" y="${y0 + h + 16}" text-anchor="middle">${
        escapeXml(l)
      }</text>`
    ),
    ...(t.y ?? []).map((l, r) =>
      `<text x="${x0 - 6}" y="${(y0 + (r + 0.5) * ch + 4).toFixed(1)}" text-anchor="end">${
        escapeXml(l)
      }</text>`
    ),
  ];
  return `<g class="trace heatmap" data-name="${escapeXml(t.name)}" data-points="${rows * cols}">${
    cells.join("")
  }` +
    `</g><g class="labels">${labels.join("")}</g>`;
}

/**
 * Draws a figure as a standalone SVG string.
 *
 * @param fig The figure (plotly JSON shape).
 * @returns `<svg …>…</svg>`, typically 5–30 KB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderSvg } from "./svg.ts";
 * const svg = renderSvg({ data: [{ type: "scatter", name: "loss", x: [1, 2, 3], y: [3, 2, 1] }], layout: {} });
 * assert.ok(svg.startsWith("<svg "));
 * assert.ok(svg.includes('<g class="trace scatter" data-name="loss" data-points="3">'));
 * ```
 */
export function renderSvg(fig: Figure): string {
  const width = fig.layout.width ?? W, height = fig.layout.height ?? H;
  const legend = fig.data.filter((t): t is Exclude<Trace, HeatmapTrace> =>
    t.type !== "heatmap" && t.showlegend !== false
  );
  const showLegend = fig.layout.showlegend ?? legend.length > 1;
  const heat = fig.data.find((t): t is HeatmapTrace => t.type === "heatmap");
  const left = heat ? 110 : 70, right = showLegend ? 150 : 20, top = fig.layout.title ? 44 : 16, bottom = 52;
  const x0 = left, x1 = width - right, y0 = top, y1 = height - bottom;
  const parts: string[] = [];
  const title = fig.layout.title?.text;
  if (title) {
    parts.push(
      `<text class="title" x="${width / 2}" y="26" text-anchor="middle" font-size="16">${
        escapeXml(title)
      }</text>`,
    );
  }
  if (heat) {
    parts.push(_heatmap(heat, x0, y0, x1 - x0, y1 - y0 - 10));
  } else {
    const xs = fig.data.flatMap((t) => (t as Exclude<Trace, HeatmapTrace>).x);
    const ys = fig.data.flatMap((t) => (t as Exclude<Trace, HeatmapTrace>).y);
    if (fig.data.some((t) => t.type === "bar") && fig.layout.yaxis?.type !== "log") ys.push(0);
    // Stacked bars: each bar starts where the previous trace's bar at that x ended.
    const stacked = fig.layout.barmode === "stack";
    const stackBase = new Map<string, number>(), baseOf: number[][] = [];
    if (stacked) {
      fig.data.forEach((t, i) => {
        if (t.type !== "bar") return;
        baseOf[i] = t.x.map((x, j) => {
          const b = stackBase.get(String(x)) ?? 0;
          stackBase.set(String(x), b + t.y[j]);
          return b;
        });
      });
      ys.push(...stackBase.values());
    }
    const sx = _scale(xs, fig.layout.xaxis, x0, x1), sy = _scale(ys, fig.layout.yaxis, y1, y0);
    parts.push(`<g class="grid" stroke="#e5ecf6">`);
    for (const t of sy.ticks) {
      parts.push(`<line x1="${x0}" x2="${x1}" y1="${t.at.toFixed(1)}" y2="${t.at.toFixed(1)}"/>`);
    }
    parts.push(`</g><g class="ticks" font-size="11" fill="#444">`);
    for (const t of sy.ticks) {
      parts.push(
        `<text x="${x0 - 6}" y="${(t.at + 4).toFixed(1)}" text-anchor="end">${escapeXml(t.label)}</text>`,
      );
    }
    const every = Math.max(1, Math.ceil(sx.ticks.length / 10));
    sx.ticks.forEach((t, i) => {
      if (i % every === 0) {
        parts.push(
          `<text x="${t.at.toFixed(1)}" y="${y1 + 16}" text-anchor="middle">${escapeXml(t.label)}</text>`,
        );
      }
    });
    parts.push(`</g>`);
    const bars = fig.data.filter((t) => t.type === "bar");
    fig.data.forEach((t, i) => {
      if (t.type === "heatmap") return;
      const color = (t.type === "bar" ? t.marker?.color : t.line?.color ?? t.marker?.color) ??
        COLORS[i % COLORS.length];
      const attrs = `class="trace ${t.type}" data-name="${escapeXml(t.name)}" data-points="${t.y.length}"`;
      if (t.type === "bar") {
        const k = stacked ? 0 : bars.indexOf(t), n = stacked ? 1 : bars.length;
        const band = (x1 - x0) / Math.max(1, new Set(xs.map(String)).size) * 0.8, bw = band / n;
        const rects = t.x.map((x, j) => {
          const base = stacked ? baseOf[i][j] : 0;
          const zero = sy.map(fig.layout.yaxis?.type === "log" ? Math.min(...t.y) : base);
          const cx = sx.map(x) - band / 2 + k * bw, y = sy.map(base + t.y[j]);
          return `<rect x="${cx.toFixed(1)}" y="${Math.min(y, zero).toFixed(1)}" width="${
            (bw * 0.95).toFixed(1)
          }" ` +
            `height="${Math.abs(zero - y).toFixed(1)}" fill="${color}"><title>${
              escapeXml(`${t.name} ${x}: ${_fmt(t.y[j])}`)
            }</title></rect>`;
        });
        parts.push(`<g ${attrs}>${rects.join("")}</g>`);
        return;
      }
      const mode = t.mode ?? "lines";
      const pts = t.x.map((x, j) => [sx.map(x), sy.map(t.y[j])] as const).filter(([a, b]) =>
        Number.isFinite(a) && Number.isFinite(b)
      );
      const g: string[] = [];
      if (mode.includes("lines") && pts.length) {
        const dash = t.line?.dash === "dot"
          ? ` stroke-dasharray="2,3"`
          : t.line?.dash === "dash"
          ? ` stroke-dasharray="6,4"`
          : "";
        const d = pts.map(([a, b], j) => `${j ? "L" : "M"}${a.toFixed(1)},${b.toFixed(1)}`).join("");
        g.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${t.line?.width ?? 2}"${dash}/>`);
      }
      if (mode.includes("markers")) {
        const r = (t.marker?.size ?? 6) / 2;
        for (const [a, b] of pts) {
          g.push(`<circle cx="${a.toFixed(1)}" cy="${b.toFixed(1)}" r="${r}" fill="${color}"/>`);
        }
      }
      parts.push(`<g ${attrs}>${g.join("")}</g>`);
    });
    parts.push(
      `<rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" fill="none" stroke="#ccc"/>`,
    );
    if (showLegend) {
      legend.forEach((t, i) => {
        const color = (t.type === "bar" ? t.marker?.color : t.line?.color ?? t.marker?.color) ??
          COLORS[fig.data.indexOf(t) % COLORS.length];
        const y = y0 + 10 + i * 18;
        parts.push(
          `<g class="legend-item"><rect x="${x1 + 12}" y="${
            y - 8
          }" width="14" height="10" fill="${color}"/>` +
            `<text x="${x1 + 32}" y="${y + 1}" font-size="12">${escapeXml(t.name)}</text></g>`,
        );
      });
    }
  }
  const xt = fig.layout.xaxis?.title?.text, yt = fig.layout.yaxis?.title?.text;
  if (xt) {
    parts.push(
      `<text x="${(x0 + x1) / 2}" y="${height - 12}" text-anchor="middle" font-size="13">${
        escapeXml(xt)
      }</text>`,
    );
  }
  if (yt) {
    parts.push(
      `<text transform="translate(16,${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle" font-size="13">${
        escapeXml(yt)
      }</text>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" class="ince-figure" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>` +
    parts.join("") + `</svg>`;
}
