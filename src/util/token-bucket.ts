/**
 * A token bucket: `rate` tokens per second up to `burst`. `take` never blocks; it says how
 * long the caller should wait before the bucket has paid for what it took.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes `n` tokens (going into debt if needed); returns the wait in ms until out of debt. */
  take(n = 1): number {
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }

  private refill(): void {
    const t = this.now();
    const elapsed = t - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.rate);
      this.last = t;
    }
  }
}
