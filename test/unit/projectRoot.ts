// The repository root, found from the bundled test's location (tests run from out/test/unit/...).
import fs from 'node:fs';
import path from 'node:path';

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'noteseal') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no NoteSeal package.json above ${start}`);
  }
}

export const projectRoot = findRoot(__dirname);
