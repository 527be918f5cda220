// Shared helpers for the integration suites (run inside the extension host).
import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { NoteSealApi } from '../../../client/src/extension';
import { decryptBuffer, encryptBuffer } from '../../../server/src/crypto/format';
import { Keyring } from '../../../server/src/keys/keyring';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';

export const EXTENSION_ID = 'noteseal.noteseal';
export const PASSPHRASE = 'integration test passphrase 7';

export async function api(): Promise<NoteSealApi> {
  const ext = vscode.extensions.getExtension<NoteSealApi | undefined>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
  const exported = ext.isActive ? ext.exports : await ext.activate();
  assert.ok(exported, 'the test API is returned in ExtensionMode.Test (the integration host runs the extension in it)');
  return exported;
}

/** Set up (once per run) and unlock the vault. */
export async function unlocked(): Promise<NoteSealApi> {
  const noteseal = await api();
  const s = await noteseal.vault.state();
  if (!s.initialized) await noteseal.vault.init(PASSPHRASE);
  else if (s.locked) await noteseal.vault.unlock(PASSPHRASE);
  return noteseal;
}

export const workspaceDir = (): string => {
  const dir = process.env.NOTESEAL_TEST_WORKSPACE;
  assert.ok(dir, 'NOTESEAL_TEST_WORKSPACE is set by the runner');
  return dir;
};

/** Another writer of the same vault (like the CLI or a git pull): its own keyring on the same keyfile. */
export async function externalKeyring(): Promise<Keyring> {
  const k = new Keyring(process.env.NOTESEAL_KEYFILE!, { kdf: TEST_KDF_POLICY });
  await k.unlock(PASSPHRASE);
  return k;
}

export async function writeEncExternally(file: string, text: string): Promise<void> {
  const k = await externalKeyring();
  try {
    const { dataKey, stanzas } = await k.newFileStanzas();
    fs.writeFileSync(file, encryptBuffer(Buffer.from(text), dataKey, stanzas));
  } finally { k.lock(); }
}

export async function readEncExternally(file: string): Promise<string> {
  const k = await externalKeyring();
  try { return (await decryptBuffer(fs.readFileSync(file), k.unwrap)).toString('utf8'); } finally { k.lock(); }
}

export function noteUri(file: string): vscode.Uri {
  return vscode.Uri.from({ scheme: 'noteseal', path: vscode.Uri.file(file.replace(/\.enc$/, '')).path });
}

export function freshDir(name: string): string {
  const dir = path.join(workspaceDir(), name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}

export function waitFor<T>(event: vscode.Event<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`timed out after ${ms} ms waiting for ${what}`)); }, ms);
    const sub = event(v => { clearTimeout(timer); sub.dispose(); resolve(v); });
  });
}

export const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

export function allTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap(g => g.tabs);
}

export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}
