import { TokenBucket } from '../util/token-bucket.ts';

/**
 * One stanza bucket per account, shared by all its sessions, so that opening more
 * connections does not multiply an account's allowance (T5).
 */
export class AccountBuckets {
  private readonly buckets = new Map<string, { bucket: TokenBucket; users: number }>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {}

  acquire(account: string): TokenBucket {
    let entry = this.buckets.get(account);
    if (!entry) {
      entry = { bucket: new TokenBucket(this.rate, this.burst), users: 0 };
      this.buckets.set(account, entry);
    }
    entry.users++;
    return entry.bucket;
  }

  release(account: string): void {
    const entry = this.buckets.get(account);
    if (entry && --entry.users <= 0) this.buckets.delete(account);
  }
}
