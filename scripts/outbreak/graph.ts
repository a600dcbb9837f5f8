// The contact graph of the outbreak simulation: Watts-Strogatz small-world, seeded.

/** mulberry32: a small seeded generator, so a run can be repeated exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Watts-Strogatz: a ring where each node knows its `k` nearest neighbours (k/2 on each side),
 * then each edge is rewired to a random node with probability `beta`. Returns adjacency sets.
 */
export function wattsStrogatz(
  n: number,
  k: number,
  beta: number,
  random: () => number,
): Set<number>[] {
  const adj = Array.from({ length: n }, () => new Set<number>());
  const link = (a: number, b: number) => {
    adj[a]!.add(b);
    adj[b]!.add(a);
  };
  for (let i = 0; i < n; i++) for (let j = 1; j <= k / 2; j++) link(i, (i + j) % n);
  for (let i = 0; i < n; i++) {
    for (let j = 1; j <= k / 2; j++) {
      const old = (i + j) % n;
      if (random() >= beta || !adj[i]!.has(old)) continue;
      let target = Math.floor(random() * n);
      for (let tries = 0; (target === i || adj[i]!.has(target)) && tries < 20; tries++) {
        target = Math.floor(random() * n);
      }
      if (target === i || adj[i]!.has(target)) continue;
      adj[i]!.delete(old);
      adj[old]!.delete(i);
      link(i, target);
    }
  }
  return adj;
}

export function degreeRange(adj: readonly Set<number>[]): {
  min: number;
  max: number;
  mean: number;
} {
  const degrees = adj.map((s) => s.size);
  return {
    min: Math.min(...degrees),
    max: Math.max(...degrees),
    mean: degrees.reduce((a, b) => a + b, 0) / degrees.length,
  };
}
