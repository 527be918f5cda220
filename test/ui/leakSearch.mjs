// Searches directories for a canary string in the forms a leak could take: raw UTF-8, UTF-16LE, and
// base64 at each of the three byte alignments. Never prints the canary.
import fs from 'node:fs';
import path from 'node:path';

export function needlesFor(canary) {
  const raw = Buffer.from(canary);
  const out = [['raw', raw], ['utf16le', Buffer.from(canary, 'utf16le')]];
  for (let j = 0; j < 3; j++) {
    const whole = Math.floor((raw.length - j) / 3) * 3;
    out.push([`base64@${j}`, Buffer.from(raw.subarray(j, j + whole).toString('base64'))]);
  }
  return out;
}

function* files(dir, since) {
  let entries;
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { yield* files(p, since); continue; }
    if (!e.isFile()) continue;
    if (since !== undefined) { try { if (fs.statSync(p).mtimeMs < since) continue; } catch { continue; } }
    yield p;
  }
}

/**
 * roots: [{ dir, since? }] — with `since`, only files modified after it (for shared dirs like /tmp).
 * Returns { scanned, hits: ["kind: path"] }.
 */
export function searchForCanary(canary, roots, { skip = [] } = {}) {
  const needles = needlesFor(canary);
  const hits = []; let scanned = 0; const seen = new Set();
  for (const { dir, since } of roots) {
    for (const p of files(dir, since)) {
      if (seen.has(p) || skip.some(s => p.startsWith(s))) continue;
      seen.add(p);
      let buf;
      try { if (fs.statSync(p).size > 256 * 1024 * 1024) continue; buf = fs.readFileSync(p); } catch { continue; }
      scanned++;
      for (const [kind, needle] of needles) if (buf.indexOf(needle) >= 0) hits.push(`${kind}: ${p}`);
    }
  }
  return { scanned, hits };
}

/** Every file name that ever appears under `dir` (inotify reports a backup even if the sweeper kills it at once). */
export function watchTree(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const seen = new Set();
  const watcher = fs.watch(dir, { recursive: true, persistent: false }, (_e, name) => { if (name) seen.add(String(name)); });
  return { seen, close: () => watcher.close() };
}
