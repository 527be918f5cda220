// The keyfile path: only absolute (or ~/…) paths are accepted, so a relative one can never resolve
// against the current directory (a cloned repository).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { absoluteKeyfilePath, defaultKeyfilePath } from '../../../server/src/keys/location';

describe('keyfile location', () => {
  it('expands ~ and keeps absolute paths', () => {
    // Native paths: on Windows (the Wine lane) '/home/u' is drive-relative and path.join writes backslashes.
    const home = path.resolve('/home/u');
    assert.equal(absoluteKeyfilePath('~/k/keyfile.json', 'x', home), path.join(home, 'k', 'keyfile.json'));
    assert.equal(absoluteKeyfilePath(path.resolve('/etc/../srv/keyfile.json'), 'x'), path.resolve('/srv/keyfile.json'));
    assert.equal(defaultKeyfilePath({ NOTESEAL_KEYFILE: '~/kf.json' }), path.join(os.homedir(), 'kf.json'));
    assert.equal(defaultKeyfilePath({ XDG_CONFIG_HOME: path.resolve('/cfg') }, 'linux'), path.join(path.resolve('/cfg'), 'noteseal', 'keyfile.json'));
  });

  it('refuses relative paths with an error naming where the path came from', () => {
    for (const bad of ['keyfile.json', './keyfile.json', '../x/keyfile.json', '~user/keyfile.json', '.vscode/kf.json']) {
      assert.throws(() => absoluteKeyfilePath(bad, 'The noteseal.keyfile setting'),
        (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && /The noteseal\.keyfile setting must be an absolute path/.test(e.message), bad);
      assert.throws(() => defaultKeyfilePath({ NOTESEAL_KEYFILE: bad }), /NOTESEAL_KEYFILE must be an absolute path/, bad);
    }
  });

  it('ignores a relative XDG_CONFIG_HOME (the XDG spec says so)', () => {
    assert.equal(defaultKeyfilePath({ XDG_CONFIG_HOME: 'cfg' }, 'linux'), path.join(os.homedir(), '.config', 'noteseal', 'keyfile.json'));
  });

  it('on Windows: %APPDATA%\\noteseal\\keyfile.json, else the roaming folder of the profile; never XDG', () => {
    const profile = 'C:\\Users\\ana';
    assert.equal(defaultKeyfilePath({ APPDATA: 'C:\\Users\\ana\\AppData\\Roaming', XDG_CONFIG_HOME: '/cfg' }, 'win32', profile),
      'C:\\Users\\ana\\AppData\\Roaming\\noteseal\\keyfile.json');
    assert.equal(defaultKeyfilePath({}, 'win32', profile), 'C:\\Users\\ana\\AppData\\Roaming\\noteseal\\keyfile.json');
    assert.equal(defaultKeyfilePath({ APPDATA: 'relative\\dir' }, 'win32', profile), 'C:\\Users\\ana\\AppData\\Roaming\\noteseal\\keyfile.json');
  });

  it('on Windows in the lane, the default follows the real %APPDATA%', { skip: process.platform !== 'win32' && 'a Windows default' }, () => {
    assert.equal(defaultKeyfilePath({ APPDATA: process.env.APPDATA }), path.join(process.env.APPDATA!, 'noteseal', 'keyfile.json'));
  });
});
