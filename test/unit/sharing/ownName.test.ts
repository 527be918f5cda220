// The first member of a new recipients list is named the same from the CLI and from VS Code's Share Folder….
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultOwnName } from '../../../server/src/keys/own-name';

describe('the first member\'s default name', () => {
  it('is $USER, else the login name, else "me"', () => {
    assert.equal(defaultOwnName({ USER: 'alice' }, () => 'root'), 'alice');
    assert.equal(defaultOwnName({}, () => 'root'), 'root');
    assert.equal(defaultOwnName({ USER: ' alice' }, () => 'root'), 'root', 'a name with surrounding spaces is not used');
    assert.equal(defaultOwnName({ USER: 'x'.repeat(65) }, () => 'root'), 'root', 'nor one longer than a member name may be');
    assert.equal(defaultOwnName({}, () => ''), 'me');
    assert.equal(defaultOwnName({}, () => { throw new Error('no passwd entry'); }), 'me');
  });
});
