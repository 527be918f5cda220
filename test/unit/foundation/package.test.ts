// `npm run package`: the .vsix holds only what runs, and stays small.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { projectRoot } from '../projectRoot';

const root = projectRoot;

describe('npm run package (.vsix)', () => {
  let vsix: string;
  let files: { name: string; size: number }[];
  before(() => {
    vsix = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-vsix-')), 'noteseal.vsix');
    execFileSync(process.execPath, ['scripts/package.mjs', '--out', vsix], { cwd: root, stdio: 'ignore' });
    files = listZip(fs.readFileSync(vsix));
  });

  it('contains the bundles, the manifest, the icon and the docs, and nothing else', () => {
    const names = files.map(f => f.name).filter(n => n.startsWith('extension/')).map(n => n.slice('extension/'.length)).sort();
    for (const required of ['package.json', 'dist/client.js', 'dist/worker.js', 'dist/searchThread.js', 'dist/cli.js', 'dist/cli-main.js', 'media/icon.png', 'readme.md', 'changelog.md', 'LICENSE.txt']) {
      assert.ok(names.some(n => n.toLowerCase() === required.toLowerCase()), `${required} is in the vsix (have: ${names.join(', ')})`);
    }
    const allowed = /^(package\.json|package\.nls\.json|l10n\/bundle\.l10n\.json|dist\/(client|worker|searchThread|cli|cli-main)\.js|media\/.+|readme\.md|changelog\.md|LICENSE\.txt)$/i;
    assert.deepEqual(names.filter(n => !allowed.test(n)), [], 'no sources, tests, maps or node_modules');
  });

  it('shows the user page, not the repository README, and carries the English strings of the manifest', () => {
    const readme = unzipEntry(fs.readFileSync(vsix), 'extension/readme.md').toString('utf8');
    assert.match(readme, /## Get started/);
    assert.doesNotMatch(readme, /npm (start|test)|\.demo-workspace|\bapt(-get)?\b/);
    for (const required of ['package.nls.json', 'l10n/bundle.l10n.json', 'media/walkthrough/setup.svg', 'media/readme/note.png']) {
      assert.ok(files.some(f => f.name === `extension/${required}`), required);
    }
  });

  it('stays under 2 MiB', () => {
    const size = fs.statSync(vsix).size;
    assert.ok(size < 2 * 1024 * 1024, `vsix is ${size} bytes`);
  });
});

/** One entry's bytes (stored or deflated). */
function unzipEntry(zip: Buffer, name: string): Buffer {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < zip.readUInt16LE(eocd + 10); i++) {
    const method = zip.readUInt16LE(p + 10), csize = zip.readUInt32LE(p + 20), nameLen = zip.readUInt16LE(p + 28);
    const extra = zip.readUInt16LE(p + 30), comment = zip.readUInt16LE(p + 32), local = zip.readUInt32LE(p + 42);
    if (zip.toString('utf8', p + 46, p + 46 + nameLen) === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + csize);
      return method === 8 ? zlib.inflateRawSync(data) : Buffer.from(data);
    }
    p += 46 + nameLen + extra + comment;
  }
  throw new Error(`${name} is not in the zip`);
}

/** Names and sizes from a zip's central directory (enough for a listing; no extraction). */
function listZip(zip: Buffer): { name: string; size: number }[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0, 'a zip file');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const out: { name: string; size: number }[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(p), 0x02014b50);
    const size = zip.readUInt32LE(p + 24), nameLen = zip.readUInt16LE(p + 28), extra = zip.readUInt16LE(p + 30), comment = zip.readUInt16LE(p + 32);
    out.push({ name: zip.toString('utf8', p + 46, p + 46 + nameLen), size });
    p += 46 + nameLen + extra + comment;
  }
  return out;
}
