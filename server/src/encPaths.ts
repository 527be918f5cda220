// How the `noteseal:` view names files: `noteseal:/notes/plan.md` is the decrypted view of the real file
// `/notes/plan.md.enc`. Dropping the suffix lets VS Code pick the language from the inner name
// (plan.md → Markdown) and show a clean tab title. Pure functions: both sides import them.

export const ENC_SUFFIX = '.enc';

export function isEncPath(p: string): boolean {
  return p.endsWith(ENC_SUFFIX) && p.length > ENC_SUFFIX.length && !p.endsWith('/' + ENC_SUFFIX);
}

/** `/notes/plan.md` → `/notes/plan.md.enc` */
export function encPathOf(logicalPath: string): string {
  return logicalPath + ENC_SUFFIX;
}

/** `/notes/plan.md.enc` → `/notes/plan.md` */
export function logicalPathOf(encPath: string): string {
  if (!isEncPath(encPath)) throw new Error(`not an .enc path: ${encPath}`);
  return encPath.slice(0, -ENC_SUFFIX.length);
}

/** age files (issue 26): `config.yaml.age` is shown as `noteseal:/…/config.yaml`, as a `.enc` file is. */
export const AGE_SUFFIX = '.age';

export function isAgePath(p: string): boolean {
  return p.endsWith(AGE_SUFFIX) && p.length > AGE_SUFFIX.length && !p.endsWith('/' + AGE_SUFFIX);
}

/** A file the `noteseal:` view shows decrypted: a `.enc` or an `.age` file. */
export function isSealedPath(p: string): boolean {
  return isEncPath(p) || isAgePath(p);
}

/** `/notes/plan.md.enc` or `/notes/plan.md.age` → `/notes/plan.md` */
export function viewPathOf(sealedPath: string): string {
  if (isEncPath(sealedPath)) return sealedPath.slice(0, -ENC_SUFFIX.length);
  if (isAgePath(sealedPath)) return sealedPath.slice(0, -AGE_SUFFIX.length);
  throw new Error(`not an .enc or .age path: ${sealedPath}`);
}

/**
 * dotenvx files (issue 27): `.env` and `.env.*` (not a sealed `.env.enc`/`.env.age`) whose text holds a
 * `DOTENV_PUBLIC_KEY…` line open in the `noteseal:` view under their own name (`noteseal:/…/.env.production`):
 * the file itself is the sealed file, each value encrypted on its own.
 */
export function hasDotenvName(p: string): boolean {
  const name = p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
  return (name === '.env' || name.startsWith('.env.')) && !isSealedPath(name) && name !== '.env.keys';
}

/** How far into a file the dotenvx public key line is looked for (formats/index.ts HEAD_BYTES). */
export const DOTENVX_HEAD_BYTES = 2048;
const DOTENVX_SNIFF = /(?:^|[\r\n])[ \t]*(?:export[ \t]+)?DOTENV_PUBLIC_KEY[A-Za-z0-9_]*[ \t]*=/;

/** Whether a file's first bytes (as latin1 text) hold a dotenvx `DOTENV_PUBLIC_KEY…` line. */
export function looksLikeDotenvxText(head: string): boolean {
  return DOTENVX_SNIFF.test(head);
}

/** Our own crash-safe temp siblings (`.name.tmp-xxxx`, crypto/atomic.ts tempSiblingPath) are never shown or watched. */
export function isTempSibling(name: string): boolean {
  return /^\..+\.tmp-[0-9a-f]{12}$/.test(name);
}
