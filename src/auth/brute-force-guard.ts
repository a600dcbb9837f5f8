/**
 * Password-guessing brake (threat T4): failures are counted per account and per remote
 * address; past `maxFailures` each further failure doubles a penalty during which every
 * attempt is refused, the right password included, so guessing cannot outrun it.
 * In memory and bounded: the least recently failed keys are dropped first.
 */

export interface GuardOptions {
  maxFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A counter is forgotten this long after its last failure (and once its penalty ends). */
  windowMs: number;
  now?: () => number;
  /** Per scope; default 100,000. */
  maxKeys?: number;
}

export type GuardCheck =
  | { allowed: true }
  | { allowed: false; retryAfterMs: number; scope: 'account' | 'address' };

interface Counter {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

/** One scope's counters; Map order is least recently failed first. */
class CounterTable {
  private readonly counters = new Map<string, Counter>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
  ) {}

  get size(): number {
    return this.counters.size;
  }

  private expired(c: Counter, now: number): boolean {
    return now >= c.lastFailureAt + this.windowMs && now >= c.blockedUntil;
  }

  /** The live counter for key, dropping it if it has expired. */
  get(key: string, now: number): Counter | undefined {
    const c = this.counters.get(key);
    if (c && this.expired(c, now)) {
      this.counters.delete(key);
      return undefined;
    }
    return c;
  }

  fail(key: string, now: number, penaltyFor: (failures: number) => number): Counter {
    const failures = (this.get(key, now)?.failures ?? 0) + 1;
    const c: Counter = { failures, lastFailureAt: now, blockedUntil: now + penaltyFor(failures) };
    this.counters.delete(key); // re-inserted at the end: most recent
    this.counters.set(key, c);
    this.prune(now);
    return c;
  }

  delete(key: string): void {
    this.counters.delete(key);
  }

  /** Drops expired counters from the old end, then the oldest ones beyond the bound. */
  private prune(now: number): void {
    for (const [key, c] of this.counters) {
      if (this.counters.size <= this.maxKeys && !this.expired(c, now)) break;
      this.counters.delete(key);
    }
  }
}

export class BruteForceGuard {
  private readonly opts: GuardOptions;
  private readonly now: () => number;
  private readonly accounts: CounterTable;
  private readonly addresses: CounterTable;

  constructor(opts: GuardOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    const maxKeys = opts.maxKeys ?? 100_000;
    this.accounts = new CounterTable(opts.windowMs, maxKeys);
    this.addresses = new CounterTable(opts.windowMs, maxKeys);
  }

  /** Call before verifying a password; refused attempts should not be verified at all. */
  check(account: string, address: string): GuardCheck {
    const now = this.now();
    const accountWait = Math.max(0, (this.accounts.get(account, now)?.blockedUntil ?? 0) - now);
    const addressWait = Math.max(0, (this.addresses.get(address, now)?.blockedUntil ?? 0) - now);
    if (accountWait === 0 && addressWait === 0) return { allowed: true };
    return accountWait >= addressWait
      ? { allowed: false, retryAfterMs: accountWait, scope: 'account' }
      : { allowed: false, retryAfterMs: addressWait, scope: 'address' };
  }

  recordFailure(
    account: string,
    address: string,
  ): { accountFailures: number; addressFailures: number; penaltyMs: number } {
    const now = this.now();
    const penalty = (failures: number) => this.penaltyFor(failures);
    const a = this.accounts.fail(account, now, penalty);
    const b = this.addresses.fail(address, now, penalty);
    return {
      accountFailures: a.failures,
      addressFailures: b.failures,
      penaltyMs: Math.max(a.blockedUntil, b.blockedUntil) - now,
    };
  }

  /** A good login clears the account's counter; the address keeps its history. */
  recordSuccess(account: string, _address: string): void {
    this.accounts.delete(account);
  }

  /** Tracked keys per scope, for metrics and tests. */
  get size(): { accounts: number; addresses: number } {
    return { accounts: this.accounts.size, addresses: this.addresses.size };
  }

  /** Zero below maxFailures; base delay at the maxFailures-th, doubling after, capped. */
  private penaltyFor(failures: number): number {
    const { maxFailures, baseDelayMs, maxDelayMs } = this.opts;
    if (failures < maxFailures) return 0;
    // Bounded exponent: the product stays a finite number however long the attack runs.
    const doublings = Math.min(failures - maxFailures, 52);
    return Math.min(maxDelayMs, baseDelayMs * 2 ** doublings);
  }
}
