// A small line chart as SVG text (no dependency): infected users over time, one line per run.

export interface Series {
  label: string;
  colour: string;
  /** [seconds, value] */
  points: [number, number][];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  yMax: number;
  /** A dashed horizontal line, e.g. the target. */
  threshold?: { value: number; label: string };
}

const W = 720;
const H = 420;
const M = { left: 64, right: 24, top: 48, bottom: 56 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Round step for about `n` ticks over `span`. */
function niceStep(span: number, n: number): number {
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

export function lineChart(series: readonly Series[], opts: ChartOptions): string {
  const xMax = Math.max(1, ...series.flatMap((s) => s.points.map(([t]) => t)));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (t: number) => M.left + (t / xMax) * pw;
  const sy = (v: number) => M.top + ph - (v / opts.yMax) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(opts.title)}</text>`,
  ];
  const xs = niceStep(xMax, 8);
  for (let t = 0; t <= xMax + 1e-9; t += xs) {
    out.push(
      `<line x1="${sx(t).toFixed(1)}" y1="${M.top}" x2="${sx(t).toFixed(1)}" y2="${M.top + ph}" stroke="#eee"/>`,
      `<text x="${sx(t).toFixed(1)}" y="${M.top + ph + 16}" text-anchor="middle">${Math.round(t * 10) / 10}</text>`,
    );
  }
  const ys = niceStep(opts.yMax, 6);
  for (let v = 0; v <= opts.yMax + 1e-9; v += ys) {
    out.push(
      `<line x1="${M.left}" y1="${sy(v)}" x2="${M.left + pw}" y2="${sy(v)}" stroke="#eee"/>`,
      `<text x="${M.left - 6}" y="${sy(v) + 4}" text-anchor="end">${v}</text>`,
    );
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">${esc(opts.xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`,
  );
  if (opts.threshold) {
    const y = sy(opts.threshold.value);
    out.push(
      `<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#c00" stroke-dasharray="6 4"/>`,
      `<text x="${M.left + pw - 4}" y="${y - 5}" text-anchor="end" fill="#c00">${esc(opts.threshold.label)}</text>`,
    );
  }
  for (const [i, s] of series.entries()) {
    const d = s.points.map(
      ([t, v], j) => `${j === 0 ? 'M' : 'L'}${sx(t).toFixed(1)},${sy(v).toFixed(1)}`,
    );
    const last = s.points[s.points.length - 1];
    // A run that ended early stays where it was: a dotted line to the end of the axis.
    if (last && last[0] < xMax) {
      out.push(
        `<line x1="${sx(last[0]).toFixed(1)}" y1="${sy(last[1]).toFixed(1)}" x2="${sx(xMax).toFixed(1)}" y2="${sy(last[1]).toFixed(1)}" stroke="${s.colour}" stroke-width="2" stroke-dasharray="2 4"/>`,
      );
    }
    out.push(
      `<path d="${d.join(' ')}" fill="none" stroke="${s.colour}" stroke-width="2.5"/>`,
      `<rect x="${M.left + 12}" y="${M.top + 10 + i * 20}" width="14" height="4" fill="${s.colour}"/>`,
      `<text x="${M.left + 32}" y="${M.top + 16 + i * 20}">${esc(s.label)}</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
