/**
 * A token bucket: `rate` tokens per second up to `burst`. `take` never blocks; it says how
 * long the caller should wait before the bucket has paid for what it took.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rate: number,
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

  /** Takes `n` tokens only when they are there (never goes into debt). */
  tryTake(n = 1): boolean {
    if (!this.has(n)) return false;
    this.tokens -= n;
    return true;
  }

  has(n = 1): boolean {
    this.refill();
    return this.tokens >= n;
  }

  /** Milliseconds until `n` tokens are there (0 when they already are). */
  msUntil(n = 1): number {
    this.refill();
    return this.tokens >= n ? 0 : Math.ceil(((n - this.tokens) / this.rate) * 1000);
  }

  /** The bucket has refilled completely: nothing recent is owed. */
  isFull(): boolean {
    this.refill();
    return this.tokens >= this.burst;
  }

  /** Changes the refill rate from now on (what was earned so far is kept). */
  setRate(rate: number): void {
    this.refill();
    this.rate = rate;
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
