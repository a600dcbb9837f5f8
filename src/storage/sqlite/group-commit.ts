import type { SqliteDatabase } from './connection.ts';

interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: writes queued before the pending microtasks have run (the messages of one
 * read, their acks and removals) go together in one transaction, so a burst costs one commit
 * rather than one each. Not a whole event-loop turn: the threat gate decides a session's
 * messages one after another, each waiting for the previous one's write, so a turn per write
 * would cap a busy session at one message per turn. Each write is its own savepoint, so one
 * that fails is undone alone and rejects alone. A write's promise resolves only after the
 * commit, i.e. once the write is durable.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly each;
  private readonly all;

  constructor(private readonly db: SqliteDatabase) {
    this.each = db.transaction((run: () => unknown) => run());
    this.all = db.transaction((batch: Pending[]) =>
      batch.map((p) => {
        try {
          return { ok: true, value: this.each(p.run) };
        } catch (err) {
          return { ok: false, value: err };
        }
      }),
    );
  }

  write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    });
  }

  /** Commits what is queued now (before reads that must see it, and before closing). */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    let results: { ok: boolean; value: unknown }[];
    try {
      if (!this.db.open) throw new Error('the database is closed');
      results = this.all(batch);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (const [i, r] of results.entries()) {
      if (r.ok) batch[i]!.resolve(r.value);
      else batch[i]!.reject(r.value);
    }
  }
}
