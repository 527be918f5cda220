// `encrypt -` reads stdin in 1 MiB blocks from descriptor 0 when it is a file or a pipe (server/src/cli/stdin.ts):
// every byte, in order, each block its own buffer (the sealer keeps views of them), and the stream otherwise.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { stdinBlocks } from '../../../server/src/cli/stdin';

const MiB = 1024 * 1024;

async function collect(blocks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const b of blocks) out.push(b);
  return out;
}

describe('stdin for encrypt -', () => {
  it('a file on stdin: read from the descriptor in whole blocks, every byte once, no block buffer reused', async t => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'noteseal-stdin-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const size of [0, 1, MiB, 2 * MiB + 12345]) {
      const data = randomBytes(size);
      const file = path.join(dir, `in${size}`);
      writeFileSync(file, data);
      const fd = openSync(file, 'r');
      try {
        const stream = Readable.from([Buffer.from('not from the stream')]);
        const blocks = await collect(stdinBlocks(stream, fd));
        assert.deepEqual(Buffer.concat(blocks), data, `${size} bytes`);
        assert.ok(blocks.slice(0, -1).every(b => b.length === MiB), 'whole blocks but the last');
        assert.equal(new Set(blocks.map(b => b.buffer)).size, blocks.length, 'each block its own memory');
      } finally { closeSync(fd); }
    }
  });

  it('a descriptor that is neither a file nor a pipe: the stream as it is', async () => {
    const stream = Readable.from([Buffer.from('from '), Buffer.from('the stream')]);
    assert.equal(Buffer.concat(await collect(stdinBlocks(stream, 1_000_000))).toString(), 'from the stream');
  });
});
