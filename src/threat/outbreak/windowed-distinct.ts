// Distinct members per (owner, key) within a sliding time window, kept in memory: recipients
// of an artefact per sender (fan-out), or senders of an artefact (outbreak). Old entries are
// dropped as they are touched and by a sweep, so memory follows the last window's traffic.

export class WindowedDistinct {
  /** owner → key → member → last time (ms) */
  private readonly byOwner = new Map<string, Map<string, Map<string, number>>>();
  private lastSweep = 0;

  /** Changed on policy reload. */
  constructor(public windowMs: number) {}

  /** Records a member and returns the distinct members of (owner, key) in the window. */
  add(owner: string, key: string, member: string, now: number): number {
    this.sweepIfDue(now);
    let keys = this.byOwner.get(owner);
    if (keys === undefined) {
      keys = new Map();
      this.byOwner.set(owner, keys);
    }
    let members = keys.get(key);
    if (members === undefined) {
      members = new Map();
      keys.set(key, members);
    }
    members.set(member, now);
    return this.countFresh(members, now);
  }

  /** The distinct members of (owner, key) in the window, without recording anything. */
  count(owner: string, key: string, now: number): number {
    const members = this.byOwner.get(owner)?.get(key);
    return members === undefined ? 0 : this.countFresh(members, now);
  }

  /** Forgets an owner (an admin released the account: it starts afresh). */
  forget(owner: string): void {
    this.byOwner.delete(owner);
  }

  private countFresh(members: Map<string, number>, now: number): number {
    for (const [m, t] of members) if (now - t > this.windowMs) members.delete(m);
    return members.size;
  }

  private sweepIfDue(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [owner, keys] of this.byOwner) {
      for (const [key, members] of keys) {
        if (this.countFresh(members, now) === 0) keys.delete(key);
      }
      if (keys.size === 0) this.byOwner.delete(owner);
    }
  }
}
