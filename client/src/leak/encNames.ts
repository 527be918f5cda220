// Names of `.enc` files that VS Code makes itself. Pure functions (no vscode import): unit-tested in Node.
//
// Explorer copy/paste into a folder that already holds the name asks VS Code for a free name; its default
// ("explorer.incrementalNaming": "simple") inserts " copy" / " copy N" before the LAST extension, which for
// `x.yaml.enc` is `.enc`: `x.yaml copy.enc`, whose inner name `x.yaml copy` opens as Plain Text. See
// incrementFileName in src/vs/workbench/contrib/files/browser/fileActions.ts (microsoft/vscode).
import path from 'node:path';
import { ENC_SUFFIX } from '../../../server/src/shared';
import { l10n } from '../shared/l10n';

const COPY_NAME = /^(?<stem>.+)(?<copy> copy(?: (?<n>\d+))?)\.enc$/;

export interface CopyName { stem: string; innerExt: string; n: number }

/** `x.yaml copy 2.enc` → { stem: 'x', innerExt: '.yaml', n: 2 }; undefined when the inner name kept its extension. */
export function parseCopyName(name: string): CopyName | undefined {
  const m = COPY_NAME.exec(name);
  if (!m?.groups) return undefined;
  const inner = m.groups.stem;
  const innerExt = path.posix.extname(inner);
  // `notes copy.enc` never had an extension; nor has a dot-file (`.env copy.enc`: extname('.env') is '').
  if (!innerExt) return undefined;
  return { stem: inner.slice(0, -innerExt.length), innerExt, n: m.groups.n ? Number(m.groups.n) : 1 };
}

/** The name VS Code's copy would have had if it kept the inner extension: `x copy.yaml.enc`, `x copy 2.yaml.enc`. */
export function copyNameWithInnerExtension(c: CopyName): string {
  return `${c.stem} copy${c.n > 1 ? ` ${c.n}` : ''}${c.innerExt}${ENC_SUFFIX}`;
}

/** The original the copy was made from (`x.yaml.enc`): the rename only happens when it exists beside the copy. */
export function originalOfCopy(c: CopyName): string {
  return `${c.stem}${c.innerExt}${ENC_SUFFIX}`;
}

/**
 * The name to rename VS Code's copy to, or undefined to leave it: the first of `x copy.yaml.enc`,
 * `x copy 2.yaml.enc`, … (from the copy's own number up) that `taken` does not report.
 */
export function fixedCopyName(name: string, taken: (candidate: string) => boolean): string | undefined {
  const c = parseCopyName(name);
  if (!c) return undefined;
  for (let n = c.n; n < c.n + 1000; n++) {
    const candidate = copyNameWithInnerExtension({ ...c, n });
    if (!taken(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Why New Encrypted Note cannot use `value` (a name or a `/`-separated path below the workspace folder), or
 * undefined. No absolute path, no `..`, no `.enc` (NoteSeal adds it), no empty segment.
 */
export function notePathProblem(value: string): string | undefined {
  const v = value.trim();
  if (!v) return l10n.t('Enter a name, such as ideas.md, or a path, such as notes/ideas.md.');
  if (v.includes('\\')) return l10n.t('Separate folders with /.');
  if (v.startsWith('/') || /^[a-zA-Z]:/.test(v) || v.startsWith('~')) return l10n.t('A path inside the workspace folder, not an absolute path.');
  const parts = v.split('/');
  if (parts.some(p => p === '..' || p === '.')) return l10n.t('A path inside the workspace folder: no . or .. in it.');
  if (parts.some(p => !p.trim())) return l10n.t('A folder or file name is empty.');
  if (v.endsWith('/')) return l10n.t('End with a file name, such as notes/ideas.md.');
  return v.toLowerCase().endsWith(ENC_SUFFIX) ? l10n.t('Leave out .enc: NoteSeal adds it.') : undefined;
}
