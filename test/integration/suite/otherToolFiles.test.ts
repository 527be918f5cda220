// The Explorer's commands for files other tools write (issue 27), in a real extension host: Open with NoteSeal on
// any file (a sops file whose name no rule matches opens decrypted and saves back a sops file the independent
// sops-age reads; age and .enc files open; a plain file is refused with nothing opened or written), Set Value…
// on a sops file (a key path as the CLI takes it) and on a dotenvx file (the real dotenvx reads the value),
// Encrypt with sops by an accepted `.sops.yaml`, and Who Can Read This File? on sops and dotenvx files.
import * as assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as vscode from 'vscode';
import { ageRecipientFor, parseAgeRecipients } from '../../../server/src/formats/age-recipients';
import { encryptSopsText, newSopsState } from '../../../server/src/formats/sops';
import { parseDotenvKeysFile } from '../../../server/src/formats/dotenvx';
import { acceptSopsConfig, readSopsConfig } from '../../../server/src/formats/sops-config';
import { externalKeyring, freshDir, unlocked, waitUntil, workspaceDir, writeEncExternally } from './helpers';

const require_ = createRequire(__filename);
const sopsAge = require_('sops-age') as { decryptSops(input: string, o: { secretKey: string; fileType: 'yaml' | 'json' | 'env' }): Promise<unknown> };
const ROOT = path.resolve(__dirname, '../../../..');
const DOTENVX = path.join(ROOT, 'node_modules', '@dotenvx', 'dotenvx', 'src', 'cli', 'dotenvx.js');
/** The real dotenvx in `cwd` (asynchronously: a synchronous child would stall the extension host). */
const dotenvxIn = async (cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> =>
  (await promisify(execFile)(process.execPath, [DOTENVX, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } })).stdout;
const PLAIN = '# deploy values\ndb:\n    user: app\n    password: hunter2\nservers:\n    - alpha\n    - beta\n';

describe('files from other tools: Open with NoteSeal, Set Value…, Encrypt with sops, Who Can Read', function () {
  this.timeout(90_000);
  let secretKey = '';
  let publicKey = '';
  let dir = '';
  const readSops = async (file: string) => sopsAge.decryptSops(fs.readFileSync(file, 'utf8'), { secretKey, fileType: 'yaml' });
  const writeSops = (file: string, plain: string) => {
    const recipients = parseAgeRecipients(publicKey, 'test').map(r => ({ text: r.text, recipient: ageRecipientFor(r.recipient) }));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, encryptSopsText(plain, newSopsState('yaml', recipients, {})).text);
  };
  const closeAll = () => vscode.commands.executeCommand('workbench.action.closeAllEditors');

  before(async () => {
    await unlocked();
    const keyFile = path.join(freshDir('other-tools-key'), 'keys.txt');
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
    secretKey = /^AGE-SECRET-KEY-[0-9A-Z]+$/m.exec(fs.readFileSync(keyFile, 'utf8'))![0];
    publicKey = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
    await vscode.commands.executeCommand('noteseal.importAgeIdentity', vscode.Uri.file(keyFile), { deleteFile: true });
    dir = path.join(workspaceDir(), 'other-tools');
    fs.mkdirSync(dir, { recursive: true });
  });
  afterEach(closeAll);

  it('Open with NoteSeal opens a sops file of any name decrypted and saves it back as a sops file; refuses a plain file', async () => {
    const file = path.join(dir, 'deploy', 'prod-values.yaml'); // no sops name, no .sops.yaml rule
    writeSops(file, PLAIN);
    const editor = await vscode.commands.executeCommand<vscode.TextEditor | undefined>('noteseal.openWithNoteSeal', vscode.Uri.file(file));
    assert.ok(editor, 'an editor is returned');
    assert.equal(editor.document.uri.scheme, 'noteseal');
    assert.equal(editor.document.getText(), PLAIN, 'shown as sops edit shows it');
    const edit = new vscode.WorkspaceEdit();
    const at = editor.document.getText().indexOf('hunter2');
    edit.replace(editor.document.uri, new vscode.Range(editor.document.positionAt(at), editor.document.positionAt(at + 'hunter2'.length)), 'changed-in-vscode');
    assert.ok(await vscode.workspace.applyEdit(edit));
    // Saved by NoteSeal's save-soon, as for the user (an explicit save here would race it).
    await waitUntil('the edit to be saved', () => !editor.document.isDirty, 30_000);
    assert.deepEqual(await readSops(file), { db: { user: 'app', password: 'changed-in-vscode' }, servers: ['alpha', 'beta'] }, 'sops-age reads the saved file');
    assert.ok(!fs.readFileSync(file, 'utf8').includes('changed-in-vscode'), 'the value is encrypted on disk');

    // age and .enc files open through the same command.
    const ageFile = path.join(dir, 'letter.txt.age');
    execFileSync('age', ['-r', publicKey, '-o', ageFile], { input: 'an age letter\n' });
    const ageEditor = await vscode.commands.executeCommand<vscode.TextEditor | undefined>('noteseal.openWithNoteSeal', vscode.Uri.file(ageFile));
    assert.equal(ageEditor?.document.uri.scheme, 'noteseal');
    assert.equal(ageEditor?.document.getText(), 'an age letter\n');
    const encFile = path.join(dir, 'plan.md.enc');
    await writeEncExternally(encFile, 'the plan\n');
    const encEditor = await vscode.commands.executeCommand<vscode.TextEditor | undefined>('noteseal.openWithNoteSeal', vscode.Uri.file(encFile));
    assert.equal(encEditor?.document.getText(), 'the plan\n');

    // A plain file: nothing opened through NoteSeal, nothing written.
    for (const [name, text] of [['notes.txt', 'plain notes\n'], ['values.yaml', 'a: 1\n']] as const) {
      const plain = path.join(dir, name);
      fs.writeFileSync(plain, text);
      const before = fs.readdirSync(dir).sort();
      assert.equal(await vscode.commands.executeCommand('noteseal.openWithNoteSeal', vscode.Uri.file(plain)), undefined);
      assert.ok(!vscode.workspace.textDocuments.some(d => d.uri.scheme === 'noteseal' && d.uri.path.endsWith(`/${name}`)), `${name} is not opened through NoteSeal`);
      assert.equal(fs.readFileSync(plain, 'utf8'), text);
      assert.deepEqual(fs.readdirSync(dir).sort(), before, 'no file written');
    }
  });

  it('Set Value… sets a sops value by key path and a dotenvx value; sops-age and the real dotenvx read them', async () => {
    const file = path.join(dir, 'deploy', 'set-values.yaml');
    writeSops(file, PLAIN);
    const r1 = await vscode.commands.executeCommand<{ format: string; added: boolean }>('noteseal.setValue', vscode.Uri.file(file), { keyPath: 'servers[1]', value: 'gamma s3cret' });
    assert.deepEqual(r1, { format: 'sops', added: false });
    const r2 = await vscode.commands.executeCommand<{ format: string; added: boolean }>('noteseal.setValue', vscode.Uri.file(file), { keyPath: '"api.v2".token', value: 'tok-42' });
    assert.deepEqual(r2, { format: 'sops', added: true });
    assert.deepEqual(await readSops(file), { db: { user: 'app', password: 'hunter2' }, servers: ['alpha', 'gamma s3cret'], 'api.v2': { token: 'tok-42' } });
    assert.ok(!fs.readFileSync(file, 'utf8').includes('s3cret'));

    const app = freshDir('other-tools-dotenvx');
    fs.writeFileSync(path.join(app, '.env.production'), 'DB_URL="postgres://db/app"\n');
    const dotenvx = (args: string[], env: Record<string, string> = {}) => dotenvxIn(app, args, env);
    await dotenvx(['encrypt', '-f', '.env.production']);
    const privateKey = /^DOTENV_PRIVATE_KEY_PRODUCTION="?([0-9a-f]{64})"?$/m.exec(fs.readFileSync(path.join(app, '.env.keys'), 'utf8'))![1]!;
    const env = path.join(app, '.env.production');
    const r3 = await vscode.commands.executeCommand<{ format: string; added: boolean }>('noteseal.setValue', vscode.Uri.file(env), { keyPath: 'API_TOKEN', value: 'dotenvx s3cret' });
    assert.deepEqual(r3, { format: 'dotenvx', added: true });
    assert.equal((await dotenvx(['get', 'API_TOKEN', '-f', '.env.production'], { DOTENV_PRIVATE_KEY_PRODUCTION: privateKey })).trim(), 'dotenvx s3cret');
    assert.equal((await dotenvx(['get', 'DB_URL', '-f', '.env.production'], { DOTENV_PRIVATE_KEY_PRODUCTION: privateKey })).trim(), 'postgres://db/app');
    assert.ok(!fs.readFileSync(env, 'utf8').includes('s3cret'));
    // A plain file is refused, unchanged.
    const plain = path.join(dir, 'plain.yaml');
    fs.writeFileSync(plain, 'a: 1\n');
    assert.equal(await vscode.commands.executeCommand('noteseal.setValue', vscode.Uri.file(plain), { keyPath: 'a', value: '2' }), undefined);
    assert.equal(fs.readFileSync(plain, 'utf8'), 'a: 1\n');
  });

  it('Encrypt with sops makes a plaintext YAML a sops file in place by the accepted .sops.yaml rule', async () => {
    const repo = path.join(dir, 'repo');
    fs.mkdirSync(path.join(repo, '.git'), { recursive: true });
    fs.mkdirSync(path.join(repo, 'config'), { recursive: true });
    fs.writeFileSync(path.join(repo, '.sops.yaml'), `creation_rules:\n  - path_regex: config/.*\\.yaml$\n    encrypted_regex: ^(password|token)$\n    age: ${publicKey}\n`);
    await acceptSopsConfig(process.env.NOTESEAL_KEYFILE!, await readSopsConfig(path.join(repo, '.sops.yaml')));
    const file = path.join(repo, 'config', 'app.yaml');
    fs.writeFileSync(file, 'user: app\npassword: hunter2\n', { mode: 0o640 });
    const result = await vscode.commands.executeCommand<{ store: string; configFile: string; rule: number } | undefined>('noteseal.encryptWithSops', vscode.Uri.file(file));
    assert.equal(result?.store, 'yaml');
    assert.equal(result?.rule, 1);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(!text.includes('hunter2') && /^user: app$/m.test(text), 'only the values encrypted_regex names are encrypted');
    assert.equal(fs.statSync(file).mode & 0o777, 0o640, 'in place: the file keeps its mode');
    assert.deepEqual(await readSops(file), { user: 'app', password: 'hunter2' });
    assert.deepEqual(fs.readdirSync(path.join(repo, 'config')), ['app.yaml'], 'no temp file left');
    // A .sops.yaml this machine has not accepted: the acceptance modal asks (test hosts refuse it): nothing written.
    const other = path.join(dir, 'repo2');
    fs.mkdirSync(path.join(other, '.git'), { recursive: true });
    fs.writeFileSync(path.join(other, '.sops.yaml'), `creation_rules:\n  - age: ${publicKey}\n`);
    fs.writeFileSync(path.join(other, 'app.yaml'), 'password: hunter2\n');
    assert.equal(await vscode.commands.executeCommand('noteseal.encryptWithSops', vscode.Uri.file(path.join(other, 'app.yaml'))), undefined);
    assert.equal(fs.readFileSync(path.join(other, 'app.yaml'), 'utf8'), 'password: hunter2\n', 'not encrypted by an unaccepted .sops.yaml');
    // Already a sops file: nothing written again.
    assert.equal(await vscode.commands.executeCommand('noteseal.encryptWithSops', vscode.Uri.file(file)), undefined);
    assert.equal(fs.readFileSync(file, 'utf8'), text);
  });

  it('Who Can Read This File? names a sops file\'s recipients and a dotenvx file\'s public key and private key', async () => {
    const file = path.join(dir, 'deploy', 'who.yaml');
    writeSops(file, PLAIN);
    // The command returns what its modal shows (test hosts refuse modals; the command does not wait for this one).
    const sops = await vscode.commands.executeCommand<{ kind: string; masterKeys: string[] }>('noteseal.whoCanRead', vscode.Uri.file(file));
    assert.equal(sops?.kind, 'sops');
    assert.deepEqual(sops.masterKeys, [`age ${publicKey}`]);
    const app = freshDir('other-tools-who');
    fs.writeFileSync(path.join(app, '.env.staging'), 'A=1\n');
    await dotenvxIn(app, ['encrypt', '-f', '.env.staging']);
    const envFile = path.join(app, '.env.staging');
    const publicHex = /^DOTENV_PUBLIC_KEY_STAGING="?([0-9a-f]{66})"?$/m.exec(fs.readFileSync(envFile, 'utf8'))![1];
    const before = await vscode.commands.executeCommand<{ kind: string; publicKeyName: string; publicKey: string; privateKey: string }>('noteseal.whoCanRead', vscode.Uri.file(envFile));
    assert.deepEqual(before, { kind: 'dotenvx', file: envFile, publicKeyName: 'DOTENV_PUBLIC_KEY_STAGING', publicKey: publicHex, privateKey: 'none' });
    const keyring = await externalKeyring();
    try { await keyring.importDotenvxKeys(parseDotenvKeysFile(fs.readFileSync(path.join(app, '.env.keys'), 'utf8'))); } finally { keyring.lock(); }
    const after = await vscode.commands.executeCommand<{ privateKey: string }>('noteseal.whoCanRead', vscode.Uri.file(envFile));
    assert.equal(after?.privateKey, 'key store');
  });
});
