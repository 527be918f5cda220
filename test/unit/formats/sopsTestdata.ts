// sops 3.13's own files in ../shared/testdata/sops (read there, never copied) and their data keys, opened by
// Debian's gpg with sops's published PGP test key in a throw-away GNUPGHOME (the tests' hook: NoteSeal
// itself never runs gpg). Shared by the sops proofs (sopsFiles.test.ts) and the merge tests (sopsGit.test.ts).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sopsDocument, sopsStoreOf } from '../../../server/src/formats/sops';

/** ../shared/testdata/sops beside the repository (CI lays shared/ beside its clone; a worktree may sit deeper). */
export function sharedSops(): string {
  for (let dir = process.cwd(), i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, '..', 'shared', 'testdata', 'sops');
    if (fs.existsSync(path.join(candidate, 'sops_functional_tests_key.asc'))) return candidate;
  }
  throw new Error('../shared/testdata/sops is missing: the sops compatibility proof needs sops\'s own files');
}

export interface SopsGpg {
  /** The file's data key, from the first pgp entry gpg opens. */
  dataKeyOf(file: string, text: string): Uint8Array;
  dispose(): void;
}

/** A GNUPGHOME holding sops's test key. */
export function sopsGpg(dir = sharedSops()): SopsGpg {
  const gnupg = fs.mkdtempSync(path.join(os.tmpdir(), 'noteseal-sops-gpg-'));
  fs.chmodSync(gnupg, 0o700);
  const gpg = (args: string[], input?: string) => execFileSync('gpg', ['--batch', '--quiet', '--homedir', gnupg, ...args], { input, stdio: ['pipe', 'pipe', 'pipe'] });
  gpg(['--import', path.join(dir, 'sops_functional_tests_key.asc')]);
  return {
    dataKeyOf(file, text) {
      const doc = sopsDocument(sopsStoreOf(file, text), text);
      const pgp = (doc.metadata?.['pgp'] ?? []) as { enc: string }[];
      for (const entry of pgp) {
        try { return gpg(['--decrypt'], entry.enc); } catch { /* the next entry */ }
      }
      throw new Error(`gpg opens no pgp entry of ${file}`);
    },
    dispose() {
      try { gpg(['--batch', '--yes', '--delete-secret-and-public-keys', 'FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4']); } catch { /* the folder goes anyway */ }
      fs.rmSync(gnupg, { recursive: true, force: true });
    },
  };
}
