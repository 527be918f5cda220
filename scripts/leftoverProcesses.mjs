// Processes the tests started that are still alive when the run ends (issue 23): an orphaned capture tool, a
// worker, a code-server. An orphan is re-parented to init and loses its tree, so a process started after the
// runner counts as the tests' when either holds:
//   - a poll of /proc (every 100 ms) saw it below this runner;
//   - its environment carries NOTESEAL_TEST_RUN=<this run's id> (every process that kept the environment; the
//     worker harness, test/faults/workerProcess.ts, passes it on to the worker and so to its capture tools).
// Nothing else is touched: a developer's own shells and watchers in the same folder are not the tests'.
// Linux only (/proc); elsewhere the check says it did not run.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';

const HZ_TIMES = /^(\d+) \((.*)\) (\S) (\d+) (\d+)/s;

/** pid → { ppid, pgid, start } for every process now, from /proc/<pid>/stat. */
function table() {
  const out = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const m = HZ_TIMES.exec(stat);
      if (!m) continue;
      // Fields after the command: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(name), { ppid: Number(rest[1]), pgid: Number(rest[2]), start: rest[19], state: rest[0] });
    } catch { /* gone meanwhile */ }
  }
  return out;
}

function commandOf(pid) {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 200); } catch { return '?'; }
}

function hasMarker(pid, marker) {
  try { return fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker); } catch { return false; }
}

export class ProcessWatch {
  constructor() {
    this.supported = process.platform === 'linux' && fs.existsSync('/proc/self/stat');
    this.id = randomBytes(8).toString('hex');
    /** The environment entry every test process inherits. */
    this.env = { NOTESEAL_TEST_RUN: this.id };
    this.marker = `NOTESEAL_TEST_RUN=${this.id}`;
    /** pid → start time of every descendant seen. */
    this.seen = new Map();
    if (!this.supported) return;
    this.since = Number(table().get(process.pid).start);
    this.timer = setInterval(() => this.poll(), 100);
    this.timer.unref();
  }

  poll() {
    const t = table();
    for (const [pid, p] of t) {
      if (pid === process.pid || this.seen.has(pid)) continue;
      for (let up = p.ppid, hops = 0; up > 1 && hops < 64; up = t.get(up)?.ppid ?? 0, hops++) {
        if (up === process.pid) { this.seen.set(pid, p.start); break; }
      }
    }
    return t;
  }

  /** Processes of this run still alive (zombies excluded), as `pid command`. */
  alive() {
    const t = this.poll();
    const left = [];
    for (const [pid, p] of t) {
      if (pid === process.pid || p.state === 'Z' || Number(p.start) < this.since) continue;
      if (this.seen.get(pid) === p.start || hasMarker(pid, this.marker)) left.push({ pid, command: commandOf(pid) });
    }
    return left;
  }

  /**
   * The final check: waits up to `graceMs` for stragglers that are already exiting, then reports what is left
   * and ends it (SIGKILL by pid), so that one failing run does not leave its processes to the next.
   */
  async finish(graceMs = 3000) {
    if (!this.supported) return { checked: false, left: [] };
    clearInterval(this.timer);
    const end = Date.now() + graceMs;
    let left = this.alive();
    while (left.length && Date.now() < end) { await new Promise(r => setTimeout(r, 200)); left = this.alive(); }
    for (const { pid } of left) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    return { checked: true, left };
  }
}
