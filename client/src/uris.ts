// `noteseal:` URIs ↔ the real `.enc` files. `noteseal:/notes/plan.md` is the decrypted view of
// `/notes/plan.md.enc` (see server/src/encPaths.ts for why the suffix is dropped).
import * as vscode from 'vscode';
import { ENC_SUFFIX, isEncPath } from '../../server/src/encPaths';

export const NOTESEAL_SCHEME = 'noteseal';

/** The OS path the worker works on for a `noteseal:` URI (a logical path, without `.enc`). */
export function logicalFsPath(uri: vscode.Uri): string {
  return uri.with({ scheme: 'file', authority: '' }).fsPath;
}

/** `file:///notes/plan.md.enc` → `noteseal:/notes/plan.md` */
export function decryptedViewOf(encFile: vscode.Uri): vscode.Uri {
  if (!isEncPath(encFile.path)) throw new Error(`not an .enc file: ${encFile.path}`);
  return vscode.Uri.from({ scheme: NOTESEAL_SCHEME, path: encFile.path.slice(0, -ENC_SUFFIX.length) });
}
