// Figures the benchmarks share.

/** The middle value (the upper middle of an even count), as every bench here reports it. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
