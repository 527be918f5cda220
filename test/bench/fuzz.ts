// The soak run of the fuzzers: NOTESEAL_FUZZ_INPUTS (default 100,000) inputs per parser, a fresh seed per
// run (printed, so a failure can be replayed with NOTESEAL_FUZZ_SEED). Prints one line per parser and a
// total; exits 1 on any failure. `npm run soak` runs it with node --expose-gc (memory checks after a GC).
import { formatReport, runFuzzTarget } from '../fuzz/runner';
import { FUZZ_TARGETS, makeFuzzContext } from '../fuzz/targets';

async function main(): Promise<number> {
  const inputs = Number(process.env.NOTESEAL_FUZZ_INPUTS ?? 100_000);
  const seed = Number(process.env.NOTESEAL_FUZZ_SEED ?? Date.now() % 2 ** 31);
  const only = process.env.NOTESEAL_FUZZ_ONLY?.split(',');
  console.log(`fuzz: ${inputs} inputs per parser, seed ${seed}`);
  const ctx = await makeFuzzContext();
  let total = 0, failures = 0;
  try {
    for (const [i, target] of FUZZ_TARGETS.entries()) {
      if (only && !only.includes(target.name)) continue;
      const r = await runFuzzTarget(target, ctx, { numRuns: inputs, seed: seed + i, timeLimitMs: 5000, memoryLimitMiB: 256 });
      console.log(formatReport(r));
      if (r.failure) console.log(`  FAILURE ${r.failure}`);
      total += r.inputs;
      failures += r.failures;
    }
  } finally {
    await ctx.cleanup();
  }
  console.log(`fuzz total: ${total} inputs over ${only?.length ?? FUZZ_TARGETS.length} parsers, ${failures} failures`);
  return failures ? 1 : 0;
}

main().then(code => { process.exitCode = code; }, e => { console.error(e); process.exitCode = 1; });
