// The seed run of the fuzz targets (test/fuzz/targets.ts): a few hundred inputs per parser, fixed seeds,
// so `npm test` catches a regression in seconds. The soak run (test/bench/fuzz.ts) does 100,000 each.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runFuzzTarget, formatReport } from '../../fuzz/runner';
import { FUZZ_TARGETS, makeFuzzContext, type FuzzContext } from '../../fuzz/targets';

const SEED_RUNS = Number(process.env.NOTESEAL_FUZZ_RUNS ?? 300);
let ctx: FuzzContext;
before(async () => { ctx = await makeFuzzContext(); });
after(() => ctx.cleanup());

for (const [i, target] of FUZZ_TARGETS.entries()) {
  test(`fuzz ${target.name}: ${target.parses} end in a documented typed error or a checked result`, async () => {
    const r = await runFuzzTarget(target, ctx, { numRuns: SEED_RUNS, seed: 1500 + i, timeLimitMs: 5000 });
    console.log(formatReport(r));
    assert.equal(r.failures, 0, r.failure);
    assert.equal(r.inputs, SEED_RUNS);
  });
}
