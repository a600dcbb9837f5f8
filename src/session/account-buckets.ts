import { TokenBucket } from '../util/token-bucket.ts';

export interface AccountLimits {
  stanzasPerSecond: number;
  stanzaBurst: number;
  bytesPerSecond: number;
  byteBurst: number;
}

/** An account's buckets, shared by all its sessions. */
export interface AccountBucketPair {
  stanzas: TokenBucket;
  bytes: TokenBucket;
}

/**
 * Stanza and byte buckets per account, shared by all its sessions, so that opening more
 * connections does not multiply an account's allowance (T5).
 */
export class AccountBuckets {
  private readonly buckets = new Map<string, { pair: AccountBucketPair; users: number }>();

  constructor(private readonly limits: AccountLimits) {}

  acquire(account: string): AccountBucketPair {
    let entry = this.buckets.get(account);
    if (!entry) {
      const l = this.limits;
      entry = {
        pair: {
          stanzas: new TokenBucket(l.stanzasPerSecond, l.stanzaBurst),
          bytes: new TokenBucket(l.bytesPerSecond, l.byteBurst),
        },
        users: 0,
      };
      this.buckets.set(account, entry);
    }
    entry.users++;
    return entry.pair;
  }

  release(account: string): void {
    const entry = this.buckets.get(account);
    if (entry && --entry.users <= 0) this.buckets.delete(account);
  }
}
