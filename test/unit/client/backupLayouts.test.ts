import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backupCandidates, schemeFolders, userDataFromGlobalStorage, userDataFromLog } from '../../../client/src/leak/backupLayouts';

const file = (fsPath: string) => ({ scheme: 'file', fsPath });

describe('hot-exit backup layouts', () => {
  it('desktop: <userData>/Backups first (environmentMainService.backupHome), from globalStorage and logUri', () => {
    const c = backupCandidates({
      web: false,
      globalStorage: file('/home/u/.config/Code/User/globalStorage/noteseal.noteseal'),
      log: file('/home/u/.config/Code/logs/20260101T000000/window1/exthost/noteseal.noteseal'),
    });
    assert.equal(c.layout, 'desktop');
    assert.deepEqual(c.homes, ['/home/u/.config/Code/Backups', '/home/u/.config/Code/User/Backups']);
    assert.equal(c.unreachable, undefined);
  });

  it('desktop with a --user-data-dir whose logs live elsewhere, and portable mode: every user-data folder is covered', () => {
    const c = backupCandidates({
      web: false, portable: '/opt/VSCode/data',
      globalStorage: file('/tmp/ud/User/globalStorage/noteseal.noteseal'),
      log: file('/tmp/other/logs/s/window2/exthost/noteseal.noteseal'),
    });
    assert.deepEqual(c.homes, ['/tmp/ud/Backups', '/tmp/ud/User/Backups', '/tmp/other/Backups', '/tmp/other/User/Backups',
      '/opt/VSCode/data/user-data/Backups', '/opt/VSCode/data/user-data/User/Backups']);
  });

  it('desktop on Windows: %APPDATA%\\Code\\Backups (userDataPath.cjs), from Windows paths, portable too', () => {
    const c = backupCandidates({
      web: false, platform: 'win32', portable: 'D:\\VSCode\\data',
      globalStorage: file('C:\\Users\\ana\\AppData\\Roaming\\Code\\User\\globalStorage\\noteseal.noteseal'),
      log: file('C:\\Users\\ana\\AppData\\Roaming\\Code\\logs\\20260101T000000\\window1\\exthost\\noteseal.noteseal'),
    });
    assert.equal(c.layout, 'desktop');
    assert.deepEqual(c.homes, ['C:\\Users\\ana\\AppData\\Roaming\\Code\\Backups', 'C:\\Users\\ana\\AppData\\Roaming\\Code\\User\\Backups',
      'D:\\VSCode\\data\\user-data\\Backups', 'D:\\VSCode\\data\\user-data\\User\\Backups']);
    assert.equal(userDataFromGlobalStorage('C:\\Users\\ana\\AppData\\Roaming\\Code - Insiders\\User\\globalStorage\\x', 'win32'),
      'C:\\Users\\ana\\AppData\\Roaming\\Code - Insiders');
    assert.equal(userDataFromGlobalStorage('C:\\Users\\ana\\AppData\\Roaming\\Code\\User\\globalStorage\\x', 'linux'), undefined, 'not a posix path');
  });

  it('web workbench on a VS Code server (code-server): <userData>/User/Backups on the server first', () => {
    const c = backupCandidates({ web: true, remoteName: 'localhost:8080', globalStorage: file('/srv/data/User/globalStorage/noteseal.noteseal') });
    assert.equal(c.layout, 'web-server');
    assert.deepEqual(c.homes, ['/srv/data/User/Backups', '/srv/data/Backups']);
  });

  it('remote windows (SSH, WSL, containers): backups stay on the local machine, out of reach; the user is told', () => {
    for (const remoteName of ['ssh-remote', 'wsl', 'dev-container', 'tunnel']) {
      const c = backupCandidates({ web: false, remoteName, globalStorage: file('/home/u/.vscode-server/data/User/globalStorage/noteseal.noteseal') });
      assert.equal(c.layout, 'remote');
      assert.deepEqual(c.homes, []);
      assert.match(c.unreachable!, /local machine/);
    }
  });

  it('a browser-only workbench (storage not on disk): nothing to sweep; the user is told', () => {
    const c = backupCandidates({ web: true, globalStorage: { scheme: 'vscode-userdata', fsPath: '/User/globalStorage/noteseal.noteseal' } });
    assert.equal(c.layout, 'browser');
    assert.deepEqual(c.homes, []);
    assert.match(c.unreachable!, /IndexedDB/);
  });

  it('refuses paths of another shape instead of guessing', () => {
    assert.equal(userDataFromGlobalStorage('/a/b/c'), undefined);
    assert.equal(userDataFromLog('/no/log/folder/here'), undefined);
    assert.equal(userDataFromGlobalStorage('/x/User/globalStorage/id'), '/x');
    assert.equal(userDataFromLog('/x/logs/s/window1/exthost/id'), '/x');
    assert.deepEqual(backupCandidates({ web: false, globalStorage: file('/a/b/c') }).homes, []);
  });

  it('lists <home>/<workspace>/<scheme> for each workspace, skipping workspaces.json', () => {
    assert.deepEqual(schemeFolders('/b', ['123', 'workspaces.json', 'abc'], 'noteseal'), ['/b/123/noteseal', '/b/abc/noteseal']);
  });
});
