// `noteseal:` URIs ↔ the real `.enc` files. `noteseal:/notes/plan.md` is the decrypted view of
// `/notes/plan.md.enc` (see server/src/encPaths.ts for why the suffix is dropped). Only plain local paths
// are mapped (uriRules.ts). A `.enc` file of another scheme (a `git:` or Timeline revision) is shown
// through `noteseal-rev:` instead, which decrypts that revision's bytes, never the working copy.
import { existsSync, lstatSync } from 'node:fs';
import * as vscode from 'vscode';
import { AGE_SUFFIX, ENC_SUFFIX, hasDotenvName, isEncPath, isSealedPath, viewPathOf } from '../../../server/src/shared';
import { localPathProblem } from './uriRules';

export const NOTESEAL_SCHEME = 'noteseal';
/** Read-only decrypted views of `.enc` bytes from another scheme (revisionContent.ts). */
export const REVISION_SCHEME = 'noteseal-rev';

/** The schemes whose documents hold decrypted text (closed on lock). */
export function isDecryptedScheme(scheme: string): boolean {
  return scheme === NOTESEAL_SCHEME || scheme === REVISION_SCHEME;
}

/** The OS path the worker works on for a `noteseal:` URI (a logical path, without `.enc`). */
export function logicalFsPath(uri: vscode.Uri): string {
  const problem = localPathProblem(uri, NOTESEAL_SCHEME);
  if (problem) throw vscode.FileSystemError.NoPermissions(`NoteSeal refuses ${uri.toString(true)}: ${problem}.`);
  return uri.with({ scheme: 'file' }).fsPath;
}

/** `file:///notes/plan.md.enc` (or an age file `plan.md.age`) → `noteseal:/notes/plan.md` (local `file:` paths only). */
export function decryptedViewOf(encFile: vscode.Uri): vscode.Uri {
  const problem = localPathProblem(encFile, 'file');
  if (problem) throw new Error(`NoteSeal opens only local files: ${encFile.toString(true)} (${problem}).`);
  // A dotenvx `.env…` file (issue 27) is shown under its own name: the file itself holds the sealed values.
  if (hasDotenvName(encFile.path)) return vscode.Uri.from({ scheme: NOTESEAL_SCHEME, path: encFile.path });
  if (!isSealedPath(encFile.path)) throw new Error(`not an .enc or .age file: ${encFile.path}`);
  return vscode.Uri.from({ scheme: NOTESEAL_SCHEME, path: viewPathOf(encFile.path) });
}

/**
 * The real file behind a `noteseal:` view: `plan.md.enc`, or `plan.md.age` when only an age file has that
 * name, or a dotenvx `.env…` file itself (the worker resolves it the same way, server/src/vault/encFileSystem.ts);
 * a new note is a `.enc`.
 */
export function sealedFileOf(view: vscode.Uri): string {
  const logical = logicalFsPath(view);
  if (existsSync(logical + ENC_SUFFIX)) return logical + ENC_SUFFIX;
  if (existsSync(logical + AGE_SUFFIX)) return logical + AGE_SUFFIX;
  // A dotenvx file is its own view (the worker checks its content; a plain `.env` is never opened there), and so
  // is a sops file (issue 27): a regular file with no `.enc`/`.age` of its name is the file itself.
  return (hasDotenvName(logical) && existsSync(logical)) || isRegularFile(logical) ? logical : logical + ENC_SUFFIX;
}

/** The local file a command is about: an Explorer `file:` one, the file behind a `noteseal:` view, or the active editor's. */
export function commandFileOf(uri: vscode.Uri | undefined): string | undefined {
  uri ??= vscode.window.activeTextEditor?.document.uri;
  if (uri?.scheme === NOTESEAL_SCHEME) return sealedFileOf(uri);
  // Any local file may be one NoteSeal reads (a sops or dotenvx file by its bytes: issue 27): the worker tells.
  return uri?.scheme === 'file' ? uri.fsPath : undefined;
}

function isRegularFile(file: string): boolean {
  try { return lstatSync(file).isFile(); } catch { return false; }
}

/** `file:///w/secrets.sops.yaml` → `noteseal:/w/secrets.sops.yaml`: a file that is its own view (sops, issue 27). */
export function ownViewOf(file: vscode.Uri): vscode.Uri {
  const problem = localPathProblem(file, 'file');
  if (problem) throw new Error(`NoteSeal opens only local files: ${file.toString(true)} (${problem}).`);
  return vscode.Uri.from({ scheme: NOTESEAL_SCHEME, path: file.path });
}

/** `git:/notes/plan.md.enc?…` (or `….age`) → `noteseal-rev:/notes/plan.md?<the git URI>`: the name gives the language. */
export function revisionViewOf(encUri: vscode.Uri): vscode.Uri {
  if (!isSealedPath(encUri.path)) throw new Error(`not an .enc or .age file: ${encUri.path}`);
  const suffix = isEncPath(encUri.path) ? ENC_SUFFIX : AGE_SUFFIX;
  return vscode.Uri.from({ scheme: REVISION_SCHEME, path: encUri.path.slice(0, -suffix.length), query: encUri.toString() });
}

/** The URI whose bytes a `noteseal-rev:` view decrypts. */
export function revisionSourceOf(view: vscode.Uri): vscode.Uri {
  const source = vscode.Uri.parse(view.query, true);
  if (isDecryptedScheme(source.scheme)) throw new Error('a revision view of a decrypted view');
  return source;
}
