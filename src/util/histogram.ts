/**
 * Durations in a fixed set of log-spaced buckets (about 4 % wide, from 1 µs to about 100 s):
 * recording is one Math.log and an array increment, so it can sit on the message path.
 */
const MIN_MS = 0.001;
const STEP = 1.04;
const BUCKETS = Math.ceil(Math.log(100_000 / MIN_MS) / Math.log(STEP)) + 1;
const LOG_STEP = Math.log(STEP);

export interface HistogramSummary {
  count: number;
  /** Milliseconds (upper edge of the bucket the quantile falls in). */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export class DurationHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private n = 0;
  private sum = 0;
  private largest = 0;

  record(ms: number): void {
    const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_STEP));
    this.counts[i]!++;
    this.n++;
    this.sum += ms;
    if (ms > this.largest) this.largest = ms;
  }

  get count(): number {
    return this.n;
  }

  quantile(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.ceil(q * this.n);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.largest, MIN_MS * STEP ** i);
    }
    return this.largest;
  }

  summary(): HistogramSummary {
    const r = (v: number) => Math.round(v * 1000) / 1000;
    return {
      count: this.n,
      p50: r(this.quantile(0.5)),
      p90: r(this.quantile(0.9)),
      p99: r(this.quantile(0.99)),
      max: r(this.largest),
      mean: r(this.n === 0 ? 0 : this.sum / this.n),
    };
  }
}
