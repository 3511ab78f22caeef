// The throughput chart: grouped bars (one group per system, one bar per
// series), each bar the median with a min–max whisker, drawn into an RGB
// bitmap with the 5×7 font and encoded by png.ts. Several panels can share
// one image (the report adds a second one without the raw veth, whose bars
// would otherwise flatten the VPNs' to a few pixels).

import { ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphPixel, textWidth } from './font.js';
import { encodePng } from './png.js';

export type Rgb = readonly [number, number, number];

export class Bitmap {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    this.data = new Uint8Array(width * height * 3);
    this.fillRect(0, 0, width, height, background);
  }

  fillRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let py = y0; py < y1; py++) {
      for (let px = x0; px < x1; px++) {
        const i = (py * this.width + px) * 3;
        this.data[i] = color[0];
        this.data[i + 1] = color[1];
        this.data[i + 2] = color[2];
      }
    }
  }

  /** Text with its top-left corner at (x, y). */
  text(x: number, y: number, text: string, color: Rgb, scale = 1): void {
    let cx = Math.round(x);
    for (const ch of text) {
      for (let row = 0; row < GLYPH_HEIGHT; row++) {
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          if (glyphPixel(ch, col, row)) this.fillRect(cx + col * scale, y + row * scale, scale, scale, color);
        }
      }
      cx += ADVANCE * scale;
    }
  }

  centredText(cx: number, y: number, text: string, color: Rgb, scale = 1): void {
    this.text(cx - textWidth(text, scale) / 2, y, text, color, scale);
  }

  png(): Buffer {
    return encodePng(this.width, this.height, this.data);
  }
}

export interface Range {
  median: number;
  min: number;
  max: number;
}

export interface BarChart {
  title: string;
  unit: string;
  series: ReadonlyArray<{ label: string; color: Rgb }>;
  /** One group per system; values[i] belongs to series[i], undefined when not measured. */
  groups: ReadonlyArray<{ label: string; values: ReadonlyArray<Range | undefined> }>;
}

export interface Area {
  x: number;
  y: number;
  w: number;
  h: number;
}

export const PALETTE: readonly Rgb[] = [
  [31, 119, 180],
  [174, 199, 232],
  [255, 127, 14],
  [255, 187, 120],
  [44, 160, 44],
  [152, 223, 138],
];

const INK: Rgb = [33, 33, 33];
const GRID: Rgb = [225, 225, 225];
const MUTED: Rgb = [110, 110, 110];

/** A round axis step (1, 2 or 5 × 10^k) giving about `ticks` intervals up to `max`. */
export function niceStep(max: number, ticks = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const m = raw / magnitude;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * magnitude;
}

function label(value: number): string {
  return value >= 100 ? String(Math.round(value)) : String(Number(value.toPrecision(2)));
}

/** Panels stacked top to bottom, each `panelHeight` high, in one PNG. */
export function renderBarCharts(charts: readonly BarChart[], width = 960, panelHeight = 540): Buffer {
  const bmp = new Bitmap(width, panelHeight * Math.max(1, charts.length));
  charts.forEach((chart, i) => {
    if (i > 0) bmp.fillRect(0, i * panelHeight, width, 1, GRID);
    drawBarChart(bmp, { x: 0, y: i * panelHeight, w: width, h: panelHeight }, chart);
  });
  return bmp.png();
}

export function drawBarChart(bmp: Bitmap, area: Area, chart: BarChart): void {
  const left = area.x + 80;
  const top = area.y + 84;
  const plotW = area.w - 80 - 20;
  const plotH = area.h - 84 - 44;

  bmp.centredText(area.x + area.w / 2, area.y + 12, chart.title, INK, 2);
  // Legend: one swatch and label per series, in a row under the title.
  let lx = left;
  for (const s of chart.series) {
    bmp.fillRect(lx, area.y + 44, 12, 12, s.color);
    bmp.text(lx + 18, area.y + 47, s.label, INK);
    lx += 18 + textWidth(s.label, 1) + 28;
  }

  const peak = Math.max(0, ...chart.groups.flatMap((g) => g.values.map((v) => (v ? v.max : 0))));
  const step = niceStep(peak > 0 ? peak * 1.08 : 1);
  const yMax = Math.max(step, Math.ceil((peak * 1.08) / step) * step);
  const yOf = (v: number): number => top + plotH - (v / yMax) * plotH;

  bmp.text(area.x + 8, top - 18, chart.unit, MUTED);
  for (let v = 0; v <= yMax + step / 2; v += step) {
    const y = Math.round(yOf(v));
    bmp.fillRect(left, y, plotW, 1, GRID);
    const text = label(v);
    bmp.text(left - 8 - textWidth(text, 1), y - 3, text, MUTED);
  }
  bmp.fillRect(left, top, 1, plotH + 1, INK);
  bmp.fillRect(left, top + plotH, plotW, 1, INK);

  const groupW = plotW / Math.max(1, chart.groups.length);
  const barW = Math.max(4, Math.floor((groupW * 0.8) / Math.max(1, chart.series.length)));
  chart.groups.forEach((group, gi) => {
    const gx = left + gi * groupW + (groupW - barW * chart.series.length) / 2;
    bmp.centredText(left + gi * groupW + groupW / 2, top + plotH + 14, group.label, INK, 2);
    group.values.forEach((value, si) => {
      const x = gx + si * barW;
      const cx = Math.round(x + barW / 2);
      if (!value) {
        bmp.centredText(cx, top + plotH - 12, 'N/A', MUTED);
        return;
      }
      const y = yOf(value.median);
      bmp.fillRect(x + 1, y, barW - 2, top + plotH - y, chart.series[si]?.color ?? INK);
      // Whisker: min to max, with caps.
      const yHi = Math.round(yOf(value.max));
      const yLo = Math.round(yOf(value.min));
      const cap = Math.max(3, Math.floor(barW / 4));
      bmp.fillRect(cx - 1, yHi, 2, yLo - yHi + 1, INK);
      bmp.fillRect(cx - cap, yHi, cap * 2, 2, INK);
      bmp.fillRect(cx - cap, yLo - 1, cap * 2, 2, INK);
      bmp.centredText(cx, yHi - 11, label(value.median), INK);
    });
  });
}
