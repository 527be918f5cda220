// What a workspace's .vscode/settings.json may change (nothing that matters), and how the worker starts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { isBoolean, isInside, isMinutes, recordingFolder, userValue } from '../../../client/src/shared/settingRules';
import { workerExecArgv } from '../../../client/src/shared/workerLaunch';

describe('auto-lock settings count only the user\'s own values', () => {
  it('ignores workspace and folder values that would switch locking off', () => {
    const idle = { defaultValue: 15, workspaceValue: 0, workspaceFolderValue: 100000 };
    assert.equal(userValue(idle, 15, isMinutes), 15);
    assert.equal(userValue({ ...idle, globalValue: 5 }, 15, isMinutes), 5);
    assert.equal(userValue({ defaultValue: true, workspaceValue: false }, true, isBoolean), true);
    assert.equal(userValue({ defaultValue: true, globalValue: false, workspaceValue: true }, true, isBoolean), false);
  });

  it('falls back to the default for values of the wrong type', () => {
    for (const bad of [-1, Number.NaN, Infinity, '0', null]) assert.equal(userValue({ defaultValue: 15, globalValue: bad }, 15, isMinutes), 15, String(bad));
    assert.equal(userValue({ globalValue: 'false' }, true, isBoolean), true);
    assert.equal(userValue(undefined, 15, isMinutes), 15);
  });
});

describe('the recording folder', () => {
  const root = '/home/me/repo';
  it('the user may name any absolute folder, or one relative to the workspace', () => {
    assert.deepEqual(recordingFolder({ defaultValue: 'meetings' }, root), { folder: '/home/me/repo/meetings' });
    assert.deepEqual(recordingFolder({ defaultValue: 'meetings', globalValue: '/srv/rec' }, root), { folder: '/srv/rec' });
    assert.deepEqual(recordingFolder({ defaultValue: 'meetings', globalValue: '/srv/rec' }, undefined), { folder: '/srv/rec' });
    assert.ok('problem' in recordingFolder({ defaultValue: 'meetings' }, undefined), 'relative without a workspace');
  });

  it('a workspace value stays inside the workspace', () => {
    assert.deepEqual(recordingFolder({ defaultValue: 'meetings', workspaceValue: 'notes/rec' }, root), { folder: '/home/me/repo/notes/rec' });
    for (const bad of ['/home/me/.ssh', '../elsewhere', 'a/../../x', '/tmp']) {
      const c = recordingFolder({ defaultValue: 'meetings', globalValue: '/srv/rec', workspaceValue: bad }, root);
      assert.ok('problem' in c && /outside the workspace/.test(c.problem), bad);
    }
    assert.ok('problem' in recordingFolder({ defaultValue: 'meetings', workspaceFolderValue: '..' }, root));
  });

  it('knows what is inside a folder, on POSIX and Windows', () => {
    assert.equal(isInside('/a/b', '/a/b'), true);
    assert.equal(isInside('/a/b', '/a/b/..c'), true);
    assert.equal(isInside('/a/b', '/a/bc'), false);
    assert.equal(isInside('/a/b', '/a'), false);
    assert.equal(isInside('C:\\repo', 'C:\\repo\\m', path.win32), true);
    assert.equal(isInside('C:\\repo', 'D:\\repo\\m', path.win32), false);
    assert.ok('problem' in recordingFolder({ workspaceValue: 'D:\\x' }, 'C:\\repo', 'meetings', path.win32));
  });
});

describe('the worker\'s Node options', () => {
  it('never opens an inspector unless NOTESEAL_WORKER_INSPECT asks, and then on 127.0.0.1 only', () => {
    assert.deepEqual(workerExecArgv({}), []);
    assert.deepEqual(workerExecArgv({ NOTESEAL_WORKER_INSPECT: '' }), []);
    assert.deepEqual(workerExecArgv({ NOTESEAL_WORKER_INSPECT: '9229' }), ['--nolazy', '--inspect=127.0.0.1:9229']);
    for (const bad of ['0.0.0.0:9229', '70000', 'yes', '-1', '9229 --require=x']) assert.throws(() => workerExecArgv({ NOTESEAL_WORKER_INSPECT: bad }), /must be a port number/, bad);
  });
});
