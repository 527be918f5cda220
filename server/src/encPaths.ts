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

/** Our own crash-safe temp siblings (`.name.tmp-xxxx`, crypto/atomic.ts tempSiblingPath) are never shown or watched. */
export function isTempSibling(name: string): boolean {
  return /^\..+\.tmp-[0-9a-f]{12}$/.test(name);
}
