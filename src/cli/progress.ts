import type { CliIo } from './io.ts';

export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

const REDRAW_MS = 100;
const BAR_WIDTH = 30;

/** A one-line progress bar on stderr, drawn only when stderr is a terminal. */
export function createProgress(io: CliIo, label: string): Progress {
  const stream = io.stderr;
  if (stream.isTTY !== true) return { update() {}, finish() {} };
  let lastDraw = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (done < total && now - lastDraw < REDRAW_MS) return;
      lastDraw = now;
      drawn = true;
      const ratio = total === 0 ? 1 : done / total;
      const filled = Math.round(ratio * BAR_WIDTH);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}`;
      stream.write(`\r${label} [${bar}] ${done}/${total} ${Math.floor(ratio * 100)}%`);
    },
    finish() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}
