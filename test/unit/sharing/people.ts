// People for the sharing tests: each has a HOME of their own (keyfile, key store, agent socket) and runs
// the built CLI there with the fast test KDF.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runCli, type Run } from '../agent/cliRunner';
import { TEST_KDF_POLICY } from '../../../server/src/keys/kdf';
import { Keyring } from '../../../server/src/keys/keyring';

export const PASSPHRASE = 'shared folders, separate keys';

export interface Person {
  name: string;
  home: string;
  keyfile: string;
  env: Record<string, string>;
  /** The CLI as this person, with the passphrase from a file unless `noPass`. */
  cli(args: string[], opts?: { cwd?: string; noPass?: boolean; env?: Record<string, string> }): Promise<Run>;
  identity: string;
  keyring(): Promise<Keyring>;
}

export async function makePerson(root: string, name: string): Promise<Person> {
  const home = path.join(root, name);
  await fs.mkdir(path.join(home, 'run'), { recursive: true, mode: 0o700 });
  const keyfile = path.join(home, '.config', 'noteseal', 'keyfile.json');
  await fs.writeFile(path.join(home, 'pass'), PASSPHRASE + '\n', { mode: 0o600 });
  const env = { USER: name, HOME: home, NOTESEAL_KEYFILE: keyfile, XDG_RUNTIME_DIR: path.join(home, 'run'), XDG_CONFIG_HOME: path.join(home, '.config') };
  const person: Person = {
    name, home, keyfile, env, identity: '',
    cli: (args, opts = {}) => runCli(args, { ...env, ...(opts.noPass ? {} : { NOTESEAL_PASSPHRASE_FILE: path.join(home, 'pass') }), ...opts.env }, { cwd: opts.cwd ?? home }),
    async keyring() {
      const k = new Keyring(keyfile, { kdf: TEST_KDF_POLICY });
      await k.unlock(PASSPHRASE);
      return k;
    },
  };
  const init = await person.cli(['init']);
  assert.equal(init.code, 0, init.stderr);
  const id = await person.cli(['identity'], { noPass: true });
  assert.equal(id.code, 0, id.stderr);
  person.identity = id.stdout.trim().split('\n').pop()!;
  return person;
}

/** stderr without the fast-KDF warning. */
export const errors = (r: Run) => r.stderr.split('\n').filter(l => l && !l.includes('NOTESEAL_TEST_FAST_KDF')).join('\n');
