// The keyfile path: only absolute (or ~/…) paths are accepted, so a relative one can never resolve
// against the current directory (a cloned repository).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { absoluteKeyfilePath, defaultKeyfilePath } from '../../../server/src/keys/location';

describe('keyfile location', () => {
  it('expands ~ and keeps absolute paths', () => {
    assert.equal(absoluteKeyfilePath('~/k/keyfile.json', 'x', '/home/u'), '/home/u/k/keyfile.json');
    assert.equal(absoluteKeyfilePath('/etc/../srv/keyfile.json', 'x'), '/srv/keyfile.json');
    assert.equal(defaultKeyfilePath({ NOTESEAL_KEYFILE: '~/kf.json' }), path.join(os.homedir(), 'kf.json'));
    assert.equal(defaultKeyfilePath({ XDG_CONFIG_HOME: '/cfg' }), '/cfg/noteseal/keyfile.json');
  });

  it('refuses relative paths with an error naming where the path came from', () => {
    for (const bad of ['keyfile.json', './keyfile.json', '../x/keyfile.json', '~user/keyfile.json', '.vscode/kf.json']) {
      assert.throws(() => absoluteKeyfilePath(bad, 'The noteseal.keyfile setting'),
        (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && /The noteseal\.keyfile setting must be an absolute path/.test(e.message), bad);
      assert.throws(() => defaultKeyfilePath({ NOTESEAL_KEYFILE: bad }), /NOTESEAL_KEYFILE must be an absolute path/, bad);
    }
  });

  it('ignores a relative XDG_CONFIG_HOME (the XDG spec says so)', () => {
    assert.equal(defaultKeyfilePath({ XDG_CONFIG_HOME: 'cfg' }), path.join(os.homedir(), '.config', 'noteseal', 'keyfile.json'));
  });
});
