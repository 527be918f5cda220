// Runs a fuzz target with fast-check: each input must end in a documented typed error or a checked result,
// within a time bound, and the process's memory must stay bounded. Returns the counts for the report.
import fc from 'fast-check';
import type { FuzzContext, FuzzTarget } from './targets';

export interface FuzzOptions {
  numRuns: number;
  seed: number;
  /** Per input, in ms: slower is a hang. */
  timeLimitMs?: number;
  /** Resident memory may grow by at most this much over the run (MiB). */
  memoryLimitMiB?: number;
}

export interface FuzzReport {
  target: string;
  inputs: number;
  accepted: number;
  typedErrors: number;
  failures: number;
  /** fast-check's shrunk counterexample and what it threw, when there was a failure. */
  failure?: string;
  maxMs: number;
  seconds: number;
  rssGrowthMiB: number;
}

const MiB = 2 ** 20;

export async function runFuzzTarget(target: FuzzTarget<never>, ctx: FuzzContext, opts: FuzzOptions): Promise<FuzzReport> {
  const timeLimit = opts.timeLimitMs ?? 2000;
  const memoryLimit = (opts.memoryLimitMiB ?? 256) * MiB;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rss0 = process.memoryUsage.rss();
  let inputs = 0, accepted = 0, typedErrors = 0, maxMs = 0, peak = rss0;
  const started = performance.now();
  const property = fc.asyncProperty(target.inputs(ctx), async input => {
    inputs++;
    const t0 = performance.now();
    let outcome: 'ok' | 'typed';
    try {
      await target.run(input as never, ctx);
      outcome = 'ok';
    } catch (e) {
      if (!target.allowed(e)) throw e;
      outcome = 'typed';
    }
    const ms = performance.now() - t0;
    maxMs = Math.max(maxMs, ms);
    if (ms > timeLimit) throw new Error(`took ${ms.toFixed(0)} ms (limit ${timeLimit} ms): a hang`);
    if ((inputs & 255) === 0) {
      const rss = process.memoryUsage.rss();
      peak = Math.max(peak, rss);
      if (rss - rss0 > memoryLimit) { gc?.(); if (process.memoryUsage.rss() - rss0 > memoryLimit) throw new Error(`memory grew by ${((rss - rss0) / MiB).toFixed(0)} MiB`); }
    }
    if (outcome === 'ok') accepted++; else typedErrors++;
  });
  const result = await fc.check(property, { numRuns: opts.numRuns, seed: opts.seed, endOnFailure: true });
  const failed = result.failed;
  return {
    target: target.name, inputs, accepted, typedErrors,
    failures: failed ? 1 : 0,
    failure: failed ? `${fc.stringify(result.counterexample)} -> ${String(result.errorInstance instanceof Error ? result.errorInstance.stack : result.errorInstance)} (seed ${result.seed}, path ${result.counterexamplePath})` : undefined,
    maxMs, seconds: (performance.now() - started) / 1000, rssGrowthMiB: (peak - rss0) / MiB,
  };
}

export function formatReport(r: FuzzReport): string {
  return `${r.target.padEnd(16)} ${String(r.inputs).padStart(8)} inputs  ${String(r.accepted).padStart(6)} accepted  ${String(r.typedErrors).padStart(8)} typed errors  `
    + `${r.failures} failures  max ${r.maxMs.toFixed(1).padStart(6)} ms/input  rss +${r.rssGrowthMiB.toFixed(0)} MiB  ${r.seconds.toFixed(1)} s`;
}
