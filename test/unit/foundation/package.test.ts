// `npm run package`: the .vsix holds only what runs, and stays small.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
    for (const required of ['package.json', 'dist/client.js', 'dist/worker.js', 'dist/searchThread.js', 'dist/cli.js', 'media/icon.png', 'readme.md', 'changelog.md', 'LICENSE.txt']) {
      assert.ok(names.some(n => n.toLowerCase() === required.toLowerCase()), `${required} is in the vsix (have: ${names.join(', ')})`);
    }
    const allowed = /^(package\.json|dist\/(client|worker|searchThread|cli)\.js|media\/.+|readme\.md|changelog\.md|LICENSE\.txt)$/i;
    assert.deepEqual(names.filter(n => !allowed.test(n)), [], 'no sources, tests, maps or node_modules');
  });

  it('stays under 2 MiB', () => {
    const size = fs.statSync(vsix).size;
    assert.ok(size < 2 * 1024 * 1024, `vsix is ${size} bytes`);
  });
});

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
