// Figures the benchmarks share.

/** The middle value (the upper middle of an even count), as every bench here reports it. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** How long `fn` takes, awaited, in ms. */
export async function timed(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
