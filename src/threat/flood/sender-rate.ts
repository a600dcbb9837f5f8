import { TokenBucket } from '../../util/token-bucket.ts';

/** Counting window of the usual-rate estimate. */
const WINDOW_MS = 10_000;
/** The usual rate forgets half of what it knew every ten minutes. */
const HALF_LIFE_MS = 10 * 60_000;
const KEEP_PER_WINDOW = 2 ** (-WINDOW_MS / HALF_LIFE_MS);

export interface SenderRateLimits {
  /** Messages per second allowed whatever the usual rate (the floor). */
  floorPerS: number;
  burst: number;
  /** Allowed rate is this many times the usual rate, when that is above the floor. */
  factor: number;
}

/**
 * One account's sending rate: its usual rate (an exponentially weighted average over ten-second
 * windows) and a budget of max(floor, factor × usual) messages per second. While the account is
 * over budget (`frozen`), the usual rate does not learn, so a flood cannot raise its own ceiling.
 */
export class SenderRate {
  /** Usual messages per second. */
  usual = 0;
  private windowStart: number;
  private windowCount = 0;
  readonly bucket: TokenBucket;
  lastSeen: number;

  constructor(
    private readonly limits: SenderRateLimits,
    now: number,
  ) {
    this.windowStart = now;
    this.lastSeen = now;
    this.bucket = new TokenBucket(limits.floorPerS, limits.burst);
  }

  get allowedPerS(): number {
    return Math.max(this.limits.floorPerS, this.limits.factor * this.usual);
  }

  /** Counts one message sent at `now`. */
  observe(now: number, frozen: boolean): void {
    this.lastSeen = now;
    const elapsed = now - this.windowStart;
    if (elapsed >= WINDOW_MS) {
      const windows = Math.floor(elapsed / WINDOW_MS);
      if (!frozen) {
        // The finished window, then any empty ones after it.
        const rate = this.windowCount / (WINDOW_MS / 1000);
        this.usual = this.usual * KEEP_PER_WINDOW + rate * (1 - KEEP_PER_WINDOW);
        this.usual *= KEEP_PER_WINDOW ** (windows - 1);
        this.bucket.setRate(this.allowedPerS);
      }
      this.windowStart += windows * WINDOW_MS;
      this.windowCount = 0;
    }
    this.windowCount++;
  }
}
