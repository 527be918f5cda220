import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encPathOf, isEncPath, isTempSibling, logicalPathOf } from '../../../server/src/encPaths';

describe('noteseal: view names', () => {
  it('maps a logical path to its .enc file and back', () => {
    assert.equal(encPathOf('/notes/plan.md'), '/notes/plan.md.enc');
    assert.equal(logicalPathOf('/notes/plan.md.enc'), '/notes/plan.md');
    assert.equal(logicalPathOf('/cfg/.env.enc'), '/cfg/.env');
  });

  it('knows what is an .enc file', () => {
    assert.equal(isEncPath('a.enc'), true);
    assert.equal(isEncPath('/x/.env.enc'), true);
    assert.equal(isEncPath('/x/.enc'), false);
    assert.equal(isEncPath('/x/plan.md'), false);
    assert.throws(() => logicalPathOf('/x/plan.md'));
  });

  it('recognises only our own temp siblings', () => {
    assert.equal(isTempSibling('.plan.md.enc.tmp-0123456789ab'), true);
    assert.equal(isTempSibling('plan.md.enc.tmp-0123456789ab'), false);
    assert.equal(isTempSibling('.plan.md.enc.tmp-xyz'), false);
  });
});
