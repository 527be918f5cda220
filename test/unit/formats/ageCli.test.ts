// age files and identities through the built CLI, with Debian's age and typage on the other side:
// identity --age / import / list / forget / export --age; decrypt, inspect, exec and encrypt --age.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Decrypter, Encrypter } from 'age-encryption';
import { errors, makePerson, type Person } from '../sharing/people';

let root: string;
let ann: Person;
before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-age-cli-'));
  ann = await makePerson(root, 'ann');
});
after(() => fs.rm(root, { recursive: true, force: true }));

/** Every file under `dir` whose bytes contain `needle`. */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    if ((await fs.readFile(p)).includes(needle)) hits.push(p);
  }
  return hits;
}

describe('CLI: age identities and age files', () => {
  it('identity --age prints the age1pq1 recipient typage encrypts to; decrypt opens it', async () => {
    const r = await ann.cli(['identity', '--age'], { noPass: true });
    assert.equal(r.code, 0, r.stderr);
    const recipient = r.stdout.trim().split('\n').pop()!;
    assert.match(recipient, /^age1pq1[0-9a-z]+$/);
    const e = new Encrypter();
    e.addRecipient(recipient);
    await fs.writeFile(path.join(root, 'from-typage.yaml.age'), await e.encrypt('token: s3cret\n'));
    const d = await ann.cli(['decrypt', path.join(root, 'from-typage.yaml.age')]);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout, 'token: s3cret\n');
    const i = await ann.cli(['inspect', path.join(root, 'from-typage.yaml.age')], { noPass: true });
    assert.equal(i.code, 0, i.stderr);
    assert.match(i.stdout, /format +age/);
    assert.match(i.stdout, /mlkem768x25519/);
    assert.match(i.stdout, /written by +none: age files carry no signature/);
  });

  it('identity export --age: age-style identity that typage decrypts with', async () => {
    const rec = (await ann.cli(['identity', '--age'], { noPass: true })).stdout.trim().split('\n').pop()!;
    const ex = await ann.cli(['identity', 'export', '--age']);
    assert.equal(ex.code, 0, ex.stderr);
    const line = ex.stdout.split('\n').find(l => l.startsWith('AGE-SECRET-KEY-PQ-1'))!;
    assert.ok(ex.stdout.includes(`# public key: ${rec}`));
    const e = new Encrypter();
    e.addRecipient(rec);
    const d = new Decrypter();
    d.addIdentity(line);
    assert.equal(await d.decrypt(await e.encrypt('round trip'), 'text'), 'round trip');
  });

  it('identity import seals an age-keygen file, deletes it with --yes, and opens what age wrote; forget removes it', async () => {
    const keys = path.join(ann.home, 'keys.txt');
    execFileSync('age-keygen', ['-o', keys], { stdio: 'ignore' });
    const pub = execFileSync('age-keygen', ['-y', keys], { encoding: 'utf8' }).trim();
    const plain = path.join(root, 'plain.env');
    await fs.writeFile(plain, 'API_KEY=from-age\n');
    execFileSync('age', ['-r', pub, '-o', path.join(root, 'app.env.age'), plain]);
    const imp = await ann.cli(['identity', 'import', keys, '--yes']);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stderr, /does not scrub the disk/);
    await assert.rejects(fs.access(keys));
    assert.deepEqual(await filesContaining(ann.home, 'AGE-SECRET-KEY'), [], 'no plaintext age key left under HOME');
    const list = await ann.cli(['identity', 'list'], { noPass: true });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${pub}\timported$`, 'm'));
    assert.match(list.stdout, /^age1pq1\S+\tyour NoteSeal identity$/m);
    const d = await ann.cli(['decrypt', path.join(root, 'app.env.age')]);
    assert.equal(d.stdout, 'API_KEY=from-age\n', d.stderr);
    assert.match(d.stderr, /age files have no writer: they carry no signature/);
    // age files are never from an authentic writer: exec refuses them (exit 12) unless told otherwise.
    const refusedExec = await ann.cli(['exec', path.join(root, 'app.env.age'), '--', 'sh', '-c', 'printf %s "$API_KEY"']);
    assert.equal(refusedExec.code, 12, refusedExec.stderr);
    assert.equal(refusedExec.stdout, '');
    assert.match(errors(refusedExec), /age files carry no signature.*Nothing was run.*--allow-unverified-writer/);
    const exec = await ann.cli(['exec', '--allow-unverified-writer', path.join(root, 'app.env.age'), '--', 'sh', '-c', 'printf %s "$API_KEY"']);
    assert.equal(exec.stdout, 'from-age', exec.stderr);
    // Read through safe-open: a symbolic link to an age file is refused by decrypt, inspect and exec.
    const link = path.join(root, 'link.env.age');
    await fs.symlink(path.join(root, 'app.env.age'), link);
    for (const argv of [['decrypt', link], ['inspect', link], ['exec', '--allow-unverified-writer', link, '--', 'true']]) {
      const viaLink = await ann.cli(argv);
      assert.notEqual(viaLink.code, 0, `${argv[0]} followed a link`);
      assert.equal(viaLink.stdout, '');
      assert.match(errors(viaLink), /symbolic link/);
    }
    const grep = await ann.cli(['grep', '-i', 'api_key', path.join(root, 'app.env.age')]);
    assert.equal(grep.code, 0, grep.stderr);
    assert.equal(grep.stdout, `${path.join(root, 'app.env.age')}:1:API_KEY=from-age\n`);
    const f = await ann.cli(['identity', 'forget', pub, '--yes'], { noPass: true });
    assert.equal(f.code, 0, f.stderr);
    const again = await ann.cli(['decrypt', path.join(root, 'app.env.age')]);
    assert.equal(again.code, 2);
    assert.equal(again.stdout, '');
    assert.match(errors(again), /it is for X25519; the identities tried are mlkem768x25519/);
  });

  it('grep over a folder searches .age files beside .enc notes (a match warns: no writer); a passphrase file is listed as not searched', async () => {
    const dir = path.join(root, 'grep-store');
    await fs.mkdir(dir);
    const recipient = (await ann.cli(['identity', '--age'], { noPass: true })).stdout.trim().split('\n').pop()!;
    const plain = path.join(root, 'grep-plain');
    await fs.writeFile(plain, 'token: in the enc note\n');
    assert.equal((await ann.cli(['encrypt', plain, '-o', path.join(dir, 'a.md.enc')])).code, 0);
    const e = new Encrypter();
    e.addRecipient(recipient);
    await fs.writeFile(path.join(dir, 'b.env.age'), await e.encrypt('TOKEN=in the age file\n'));
    await fs.writeFile(path.join(dir, 'both.md.age'), await e.encrypt('token: the age twin\n'));
    assert.equal((await ann.cli(['encrypt', plain, '-o', path.join(dir, 'both.md.enc')])).code, 0);
    const p = new Encrypter();
    p.setPassphrase('file passphrase');
    p.setScryptWorkFactor(10);
    await fs.writeFile(path.join(dir, 'pw.txt.age'), await p.encrypt('token: behind a passphrase\n'));
    const r = await ann.cli(['grep', '-i', 'token', dir]);
    assert.equal(r.code, 2, r.stderr);                       // a file could not be searched (as rg: still 2)
    assert.equal(r.stdout, [
      `${path.join(dir, 'a.md.enc')}:1:token: in the enc note`,
      `${path.join(dir, 'b.env.age')}:1:TOKEN=in the age file`,
      `${path.join(dir, 'both.md.enc')}:1:token: in the enc note`,  // x.enc wins over x.age, as the view's x
    ].join('\n') + '\n');
    assert.match(r.stderr, /warning: .*b\.env\.age: age files have no writer/);
    assert.match(r.stderr, /pw\.txt\.age: a passphrase-protected age file: name it alone/);
    assert.doesNotMatch(r.stdout + r.stderr, /behind a passphrase|the age twin/);
  });

  it('encrypt --age -r … --armor writes what age -d reads; a flipped bit is refused with no output', async () => {
    const keys = path.join(root, 'bob.txt');
    execFileSync('age-keygen', ['-o', keys], { stdio: 'ignore' });
    const pub = execFileSync('age-keygen', ['-y', keys], { encoding: 'utf8' }).trim();
    const plain = path.join(root, 'note.md');
    await fs.writeFile(plain, '# for bob\n');
    const out = path.join(root, 'note.md.age');
    const r = await ann.cli(['encrypt', '--age', '-r', pub, '-r', (await ann.cli(['identity', '--age'], { noPass: true })).stdout.trim().split('\n').pop()!, '--armor', plain], { noPass: true });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /post-quantum \(age1pq1\) and X25519 \(age1\) recipients together/);
    assert.match(await fs.readFile(out, 'utf8'), /^-----BEGIN AGE ENCRYPTED FILE-----\n/);
    assert.equal(execFileSync('age', ['-d', '-i', keys, out], { encoding: 'utf8' }), '# for bob\n');
    assert.equal((await ann.cli(['decrypt', out])).stdout, '# for bob\n');
    const bin = path.join(root, 'bin.age');
    assert.equal((await ann.cli(['encrypt', '--age', '-r', pub, plain, '-o', bin], { noPass: true })).code, 0);
    const bytes = await fs.readFile(bin);
    bytes[bytes.length - 3]! ^= 1;
    await fs.writeFile(bin, bytes);
    assert.throws(() => execFileSync('age', ['-d', '-i', keys, bin], { stdio: 'pipe' }));
  });

  it('encrypt --age without -r: the nearest .age-recipients, never used silently (new or changed: exit 11 until recipients list --trust)', async () => {
    const store = path.join(root, 'store', 'web');
    await fs.mkdir(store, { recursive: true });
    // A passage store is a git repository: the search for a list stops at its top (list-search.ts).
    await fs.mkdir(path.join(root, 'store', '.git'));
    const keys = path.join(root, 'carol.txt');
    execFileSync('age-keygen', ['-o', keys], { stdio: 'ignore' });
    const pub = execFileSync('age-keygen', ['-y', keys], { encoding: 'utf8' }).trim();
    const mine = (await ann.cli(['identity', '--age'], { noPass: true })).stdout.trim().split('\n').pop()!;
    const list = path.join(root, 'store', '.age-recipients');
    await fs.writeFile(list, `# passage recipients\n${mine}\n${pub}\n`);
    const plain = path.join(root, 'pw.txt');
    await fs.writeFile(plain, 'hunter2\n');
    const first = await ann.cli(['encrypt', '--age', plain, '-o', path.join(store, 'site.age')], { noPass: true });
    assert.equal(first.code, 11, first.stderr);
    assert.match(errors(first), /has not been accepted on this machine.*noteseal recipients list --trust --dir /s);
    await assert.rejects(fs.access(path.join(store, 'site.age')), 'nothing written for a list not accepted');
    const shown = await ann.cli(['recipients', 'list', '--dir', store], { noPass: true });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /\.age-recipients: 2 age recipients \(unsigned\); not yet accepted on this machine/);
    assert.ok(shown.stdout.includes(pub));
    const trust = await ann.cli(['recipients', 'list', '--trust', '--dir', store], { noPass: true });
    assert.equal(trust.code, 0, trust.stderr);
    const r = await ann.cli(['encrypt', '--age', plain, '-o', path.join(store, 'site.age')], { noPass: true });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(execFileSync('age', ['-d', '-i', keys, path.join(store, 'site.age')], { encoding: 'utf8' }), 'hunter2\n');
    await fs.appendFile(list, 'age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg\n');
    const refused = await ann.cli(['encrypt', '--age', plain, '-o', path.join(store, 'site2.age')], { noPass: true });
    assert.equal(refused.code, 11, refused.stderr);
    assert.match(errors(refused), /changed since this machine accepted it/);
    const accepted = await ann.cli(['encrypt', '--age', '--trust', plain, '-o', path.join(store, 'site2.age')], { noPass: true });
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stderr, /accepted .*\.age-recipients \(3 recipients/);
    // A link planted as .age-recipients is refused, never followed.
    await fs.rm(list);
    await fs.symlink(path.join(root, 'elsewhere'), list);
    const linked = await ann.cli(['encrypt', '--age', plain, '-o', path.join(store, 'site3.age')], { noPass: true });
    assert.equal(linked.code, 11, linked.stderr);
  });

  it('through the agent (no passphrase): an age1pq1 file and one for an imported identity; --identity needs no keyfile', async () => {
    const keys = path.join(root, 'dan.txt');
    execFileSync('age-keygen', ['-o', keys], { stdio: 'ignore' });
    const pub = execFileSync('age-keygen', ['-y', keys], { encoding: 'utf8' }).trim();
    await fs.writeFile(path.join(root, 'dan-plain'), 'for dan\n');
    const file = path.join(root, 'dan.age');
    execFileSync('age', ['-r', pub, '-o', file, path.join(root, 'dan-plain')]);
    const viaId = await ann.cli(['decrypt', '--identity', keys, file], { noPass: true, env: { NOTESEAL_KEYFILE: path.join(root, 'none.json'), NOTESEAL_AGENT_SOCK: path.join(root, 'none.sock') } });
    assert.equal(viaId.stdout, 'for dan\n', viaId.stderr);
    assert.equal((await ann.cli(['identity', 'import', keys])).code, 0);
    const start = await ann.cli(['agent', 'start']);
    assert.equal(start.code, 0, start.stderr);
    try {
      const viaAgent = await ann.cli(['decrypt', file], { noPass: true });
      assert.equal(viaAgent.stdout, 'for dan\n', viaAgent.stderr);
      const locked = await ann.cli(['agent', 'lock'], { noPass: true });
      assert.equal(locked.code, 0, locked.stderr);
      const refused = await ann.cli(['decrypt', file], { noPass: true });
      assert.equal(refused.code, 9, refused.stderr);
      assert.equal(refused.stdout, '');
    } finally {
      await ann.cli(['agent', 'stop'], { noPass: true });
    }
  });

  it('a passphrase (scrypt) file asks for ITS passphrase (NOTESEAL_AGE_PASSPHRASE_FILE), never the NoteSeal one', async () => {
    const e = new Encrypter();
    e.setPassphrase('file passphrase');
    e.setScryptWorkFactor(12);
    const file = path.join(root, 'pp.txt.age');
    await fs.writeFile(file, await e.encrypt('scrypt body\n'));
    const pp = path.join(root, 'pp');
    await fs.writeFile(pp, 'file passphrase\n');
    const ok = await ann.cli(['decrypt', file], { noPass: true, env: { NOTESEAL_AGE_PASSPHRASE_FILE: pp } });
    assert.equal(ok.stdout, 'scrypt body\n', ok.stderr);
    assert.match(ok.stderr, /asks for the file's own passphrase, not your NoteSeal passphrase/);
    const wrong = await ann.cli(['decrypt', file], { env: { NOTESEAL_AGE_PASSPHRASE_FILE: path.join(ann.home, 'pass') } });
    assert.equal(wrong.code, 2);
    assert.match(errors(wrong), /passphrase does not open the age file/);
  });
});
