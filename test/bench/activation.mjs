// `node scripts/bench.mjs activation` (part of `npm run soak`): NoteSeal's activation in the real workbench
// with a workspace of 10,000 `.enc` notes against an empty one (issue 15, item 4). Measured from the
// extension's own log (activating → ready: activation and the worker's start) and from the page (load →
// the status-bar lock shown), with the worker's resident memory after start. Rounds interleaved.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { noteseal, noteSealLogs, openWorkbench, workerPidOf } from '../ui/workbench.mjs';

const NOTES = Number(process.env.NOTESEAL_BENCH_NOTES || 10_000);
const ROUNDS = Number(process.env.NOTESEAL_BENCH_ROUNDS || 3);
const PASSPHRASE = 'activation bench passphrase';

const stamp = line => Date.parse(line.slice(0, 23).replace(' ', 'T') + 'Z');

/** Resident memory of the worker serving `keyfile`, in MiB. */
function workerRssMiB(keyfile) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${workerPidOf(keyfile)}/status`, 'utf8'))?.[1]) / 1024;
  } catch { return NaN; }
}

async function once(keyfile, notes) {
  const t0 = Date.now();
  const wb = await openWorkbench({
    keyfile,
    prepare: folder => {
      if (!notes) return;
      const one = path.join(os.tmpdir(), `noteseal-activation-${process.pid}.enc`);
      for (let d = 0; d < notes / 100; d++) {
        const dir = path.join(folder, 'notes', `d${String(d).padStart(3, '0')}`);
        fs.mkdirSync(dir, { recursive: true });
        for (let i = 0; i < 100; i++) fs.copyFileSync(one, path.join(dir, `n${i}.md.enc`));
      }
    },
  });
  try {
    const opened = Date.now();
    await wb.page.locator('.statusbar-item', { hasText: 'NoteSeal: Locked' }).waitFor({ timeout: 120_000 });
    const shown = Date.now() - opened;
    let log = '';
    for (let i = 0; i < 50 && !/NoteSeal is ready/.test(log); i++) { log = noteSealLogs(wb.stateDir); await new Promise(r => setTimeout(r, 200)); }
    const activating = log.split('\n').find(l => l.includes('activating NoteSeal'));
    const ready = log.split('\n').find(l => l.includes('NoteSeal is ready'));
    return { ready: activating && ready ? stamp(ready) - stamp(activating) : NaN, shown, rss: workerRssMiB(keyfile), setup: opened - t0 };
  } finally {
    await wb.close();
  }
}

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-bench-activation-'));
  try {
    const keyfile = path.join(dir, 'keyfile.json');
    noteseal(keyfile, PASSPHRASE, 'init');
    const plain = path.join(dir, 'plain.md');
    fs.writeFileSync(plain, '# A note\n\nsome text\n');
    noteseal(keyfile, PASSPHRASE, 'encrypt', plain, '-o', path.join(os.tmpdir(), `noteseal-activation-${process.pid}.enc`));
    const r = { empty: [], many: [] };
    for (let i = 0; i < ROUNDS; i++) {
      r.empty.push(await once(keyfile, 0));
      r.many.push(await once(keyfile, NOTES));
    }
    const row = (name, xs) => console.log(`| ${name} | ${median(xs.map(x => x.ready))} | ${median(xs.map(x => x.shown))} | ${median(xs.map(x => x.rss)).toFixed(0)} |`);
    console.log(`\nActivation in the real workbench, median of ${ROUNDS} (load average ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} CPUs):\n`);
    console.log('| workspace | activating → ready, ms (log) | page loaded → lock shown, ms | worker RSS, MiB |');
    console.log('|---|---|---|---|');
    row('empty', r.empty);
    row(`${NOTES.toLocaleString('en')} .enc notes`, r.many);
    const extra = median(r.many.map(x => x.ready)) - median(r.empty.map(x => x.ready));
    console.log(`\nVerdict: ${NOTES.toLocaleString('en')} notes add ${extra} ms to NoteSeal's activation (${extra < 1000 ? 'MET' : 'MISSED'}: under 1 s).`);
  } finally {
    fs.rmSync(path.join(os.tmpdir(), `noteseal-activation-${process.pid}.enc`), { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(e => { console.error(e); process.exit(1); });
