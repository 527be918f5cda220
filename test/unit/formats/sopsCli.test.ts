// sops files in the CLI (issue 27): `noteseal decrypt` (with --identity, or an imported age identity from the
// keyring) and `noteseal set` (dotted paths, list items, quoted segments, a value from stdin), each checked
// with the independent sops-age; a file wrapped only for PGP says which key would open it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { ageRecipientFor, parseAgeRecipients } from '../../../server/src/formats/age-recipients';
import { encryptSopsText, newSopsState } from '../../../server/src/formats/sops';
import { runCli } from '../agent/cliRunner';
import { errors, makePerson, type Person } from '../sharing/people';

const sopsAge = createRequire(__filename)('sops-age') as { decryptSops(input: string, o: { secretKey: string; fileType: 'yaml' | 'json' | 'env' }): Promise<unknown> };

let root: string; let ann: Person; let keyFile: string; let secretKey: string; let publicKey: string;
before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'noteseal-sops-cli-'));
  ann = await makePerson(root, 'ann');
  const keygen = execFileSync('age-keygen', { encoding: 'utf8' });
  secretKey = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(keygen)![0];
  publicKey = /# public key: (age1[0-9a-z]+)/.exec(keygen)![1]!;
  keyFile = path.join(root, 'key.txt');
  await fs.writeFile(keyFile, keygen, { mode: 0o600 });
});
after(() => fs.rm(root, { recursive: true, force: true }));

const PLAIN = '# settings\ndb:\n    user: app\n    password: s3cret\nservers:\n    - alpha\n    - beta\n"a.b": dotted\n';

async function sopsFile(name: string, plain: string, kind: 'yaml' | 'json' | 'dotenv' | 'ini' = 'yaml'): Promise<string> {
  const recipients = parseAgeRecipients(publicKey, 'test').map(r => ({ text: r.text, recipient: ageRecipientFor(r.recipient) }));
  const file = path.join(ann.home, name);
  await fs.writeFile(file, encryptSopsText(plain, newSopsState(kind, recipients, { unencrypted_suffix: '_unencrypted' })).text);
  return file;
}

describe('CLI: sops files', () => {
  it('decrypt: refused (exit 2) naming the age recipient until a key is at hand; --identity opens it', async () => {
    const file = await sopsFile('secrets.sops.yaml', PLAIN);
    const none = await ann.cli(['decrypt', file]);
    assert.equal(none.code, 2, none.stderr);
    assert.match(errors(none), new RegExp(`age ${publicKey}`));
    const shown = await ann.cli(['decrypt', '--identity', keyFile, file]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.deepEqual(parse(shown.stdout), parse(PLAIN));
    assert.match(shown.stdout, /# settings/);
    assert.doesNotMatch(shown.stdout, /sops:|ENC\[/);
  });

  it('set: after `identity import`, dotted paths, [0], "a.b" and - from stdin, read back by sops-age', async () => {
    const file = await sopsFile('app.sops.yaml', PLAIN);
    const imp = await ann.cli(['identity', 'import', keyFile]);
    assert.equal(imp.code, 0, imp.stderr);
    const before = await fs.readFile(file, 'utf8');
    for (const [k, v] of [['db.password', 'n3w pass'], ['servers[0]', 'gamma'], ['"a.b"', 'still dotted'], ['db.port_unencrypted', '5432']]) {
      const r = await ann.cli(['set', file, k!, v!]);
      assert.equal(r.code, 0, r.stderr);
    }
    const piped = await runCli(['set', file, 'db.user', '-'], { ...ann.env, NOTESEAL_PASSPHRASE_FILE: path.join(ann.home, 'pass') }, { cwd: ann.home, stdin: 'from stdin\n' });
    assert.equal(piped.code, 0, piped.stderr);
    const after_ = await fs.readFile(file, 'utf8');
    assert.deepEqual(await sopsAge.decryptSops(after_, { secretKey, fileType: 'yaml' }), {
      db: { user: 'from stdin', password: 'n3w pass', port_unencrypted: '5432' }, servers: ['gamma', 'beta'], 'a.b': 'still dotted',
    });
    assert.match(after_, /port_unencrypted: "5432"/);
    // The recipients are kept exactly.
    const ageBlock = (t: string) => /age:[\s\S]*?END AGE ENCRYPTED FILE-----/.exec(t)![0];
    assert.equal(ageBlock(after_), ageBlock(before));
    const bad = await ann.cli(['set', file, 'db..x', 'v']);
    assert.notEqual(bad.code, 0);
    assert.match(errors(bad), /key path/);
  });

  it('set --json: VALUE as sops set takes it (a number, a bool, an object; sops\'s ["a"][0] paths)', async () => {
    const file = await sopsFile('typed.sops.yaml', PLAIN);
    for (const [k, v] of [['db.port', '5433'], ['["db"]["tls"]', 'true'], ['["servers"][1]', '{"host":"beta","weight":2}'], ['db.password', '"12345"']]) {
      const r = await ann.cli(['set', '--json', file, k!, v!]);
      assert.equal(r.code, 0, r.stderr);
    }
    const text = await fs.readFile(file, 'utf8');
    assert.deepEqual(await sopsAge.decryptSops(text, { secretKey, fileType: 'yaml' }), {
      db: { user: 'app', password: '12345', port: 5433, tls: true }, servers: ['alpha', { host: 'beta', weight: 2 }], 'a.b': 'dotted',
    });
    assert.match(text, /port: ENC\[AES256_GCM,[^\]]*type:int\]/);
    const bad = await ann.cli(['set', '--json', file, 'db.password', 'not-json-canary']);
    assert.equal(bad.code, 1);
    assert.match(errors(bad), /must be JSON/);
    assert.doesNotMatch(bad.stderr, /not-json-canary/);
  });

  it('set on a sops dotenv file changes that line only', async () => {
    const file = await sopsFile('prod.env', 'A=1\nB=2\n', 'dotenv');
    const before = (await fs.readFile(file, 'utf8')).split('\n');
    await new Promise(r => setTimeout(r, 1100)); // lastmodified has whole seconds: let the set come in a later one
    const r = await ann.cli(['set', file, 'B', 'two']);
    assert.equal(r.code, 0, r.stderr);
    const after_ = (await fs.readFile(file, 'utf8')).split('\n');
    assert.deepEqual(after_.filter((l, i) => l !== before[i]).map(l => l.split('=')[0]), ['B', 'sops_lastmodified', 'sops_mac']);
    assert.deepEqual(await sopsAge.decryptSops(after_.join('\n'), { secretKey, fileType: 'env' }), { A: '1', B: 'two' });
  });

  it('exec (refused exit 12 without --allow-unverified-writer), grep and inspect read sops files', async () => {
    const file = await sopsFile('run.sops.yaml', 'DB_PASSWORD: hunter2\nPORT: 5432\n');
    const refused = await ann.cli(['exec', file, '--', 'true']);
    assert.equal(refused.code, 12, refused.stderr);
    assert.match(errors(refused), /sops file/);
    const ran = await ann.cli(['exec', '--allow-unverified-writer', file, '--', process.execPath, '-e', 'process.stdout.write(process.env.DB_PASSWORD + ":" + process.env.PORT)']);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, 'hunter2:5432');
    const found = await ann.cli(['grep', 'hunter', file]);
    assert.equal(found.code, 0, found.stderr);
    assert.equal(found.stdout, `${file}:1:DB_PASSWORD: hunter2\n`);
    const inspected = await ann.cli(['inspect', '--json', file], { noPass: true });
    assert.equal(inspected.code, 0, inspected.stderr);
    const report = JSON.parse(inspected.stdout) as { format: string; store: string; masterKeys: string[]; mac: boolean };
    assert.deepEqual([report.format, report.store, report.masterKeys, report.mac], ['sops', 'yaml', [`age ${publicKey}`], true]);
    assert.doesNotMatch(inspected.stdout, /hunter2/);
  });

  it('exec reads a sops INI file: the keys of its sections as variables; a key in two sections refused', async () => {
    const file = await sopsFile('credentials.sops.ini', '; aws\n[default]\naws_access_key_id = AKIA0000\naws_secret_access_key = s3cr3t/key\n\n[tool]\nregion = eu-west-1\n', 'ini');
    assert.match(await fs.readFile(file, 'utf8'), /^\[sops\]$/m);
    const ran = await ann.cli(['exec', '--allow-unverified-writer', file, '--', process.execPath, '-e', 'process.stdout.write([process.env.aws_access_key_id, process.env.aws_secret_access_key, process.env.region].join(","))']);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, 'AKIA0000,s3cr3t/key,eu-west-1');
    const twice = await sopsFile('twice.sops.ini', '[a]\ntoken = one-canary\n[b]\ntoken = two-canary\n', 'ini');
    const refused = await ann.cli(['exec', '--allow-unverified-writer', twice, '--', 'true']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(errors(refused), /token is in both \[a\] and \[b\]/);
    assert.doesNotMatch(refused.stderr, /canary/);
  });

  it('encrypt --sops and updatekeys use only an accepted .sops.yaml (recipients list --trust --dir shows and accepts it)', async () => {
    const repo = path.join(ann.home, 'repo');
    await fs.mkdir(repo);
    const rules = (extra: string) => `creation_rules:\n  - path_regex: \\.sops\\.yaml$\n    age: ${publicKey}${extra}\n    encrypted_regex: ^(password|token)$\n  - path_regex: \\.json$\n    age: ${publicKey}\n`;
    await fs.writeFile(path.join(repo, '.sops.yaml'), rules(''));
    const file = path.join(repo, 'app.sops.yaml');
    await fs.writeFile(file, 'user: app\npassword: pw\n');
    const refused = await ann.cli(['encrypt', '--sops', file]);
    assert.notEqual(refused.code, 0);
    assert.match(errors(refused), /has not been accepted on this machine.*recipients list --trust --dir/s);
    assert.equal(await fs.readFile(file, 'utf8'), 'user: app\npassword: pw\n');
    const shown = await ann.cli(['recipients', 'list', '--dir', repo]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`rule 1: path_regex .*\\n\\s+age ${publicKey}`));
    assert.match(shown.stdout, /not yet accepted/);
    const trust = await ann.cli(['recipients', 'list', '--trust', '--dir', repo]);
    assert.equal(trust.code, 0, trust.stderr);
    const enc = await ann.cli(['encrypt', '--sops', file]);
    assert.equal(enc.code, 0, enc.stderr);
    assert.match(errors(enc), /not scrubbed/);
    const sealed = await fs.readFile(file, 'utf8');
    assert.match(sealed, /^user: app$/m);
    assert.match(sealed, /^password: ENC\[AES256_GCM/m);
    assert.deepEqual(await sopsAge.decryptSops(sealed, { secretKey, fileType: 'yaml' }), { user: 'app', password: 'pw' });
    const json = path.join(repo, 'plain.json');
    await fs.writeFile(json, '{"token": "t0k", "n": 1.5}');
    const out = path.join(repo, 'secret.json');
    const toOut = await ann.cli(['encrypt', '--sops', json, '-o', out]);
    assert.equal(toOut.code, 0, toOut.stderr);
    assert.deepEqual(await sopsAge.decryptSops(await fs.readFile(out, 'utf8'), { secretKey, fileType: 'json' }), { token: 't0k', n: 1.5 });

    // A second recipient pushed into .sops.yaml is not applied until accepted; then updatekeys rewraps the data key.
    const keygen2 = execFileSync('age-keygen', { encoding: 'utf8' });
    const secret2 = /^AGE-SECRET-KEY-1[0-9A-Z]+$/m.exec(keygen2)![0];
    const public2 = /# public key: (age1[0-9a-z]+)/.exec(keygen2)![1]!;
    await fs.writeFile(path.join(repo, '.sops.yaml'), rules(`,${public2}`));
    const changed = await ann.cli(['updatekeys', file]);
    assert.notEqual(changed.code, 0);
    assert.match(errors(changed), /changed since this machine accepted it/);
    assert.equal(await fs.readFile(file, 'utf8'), sealed);
    assert.equal((await ann.cli(['recipients', 'list', '--trust', '--dir', repo])).code, 0);
    const upd = await ann.cli(['updatekeys', file]);
    assert.equal(upd.code, 0, upd.stderr);
    assert.match(errors(upd), new RegExp(`\\+ age ${public2}`));
    const rewrapped = await fs.readFile(file, 'utf8');
    assert.deepEqual(await sopsAge.decryptSops(rewrapped, { secretKey: secret2, fileType: 'yaml' }), { user: 'app', password: 'pw' });
    assert.equal(/password: (.*)/.exec(rewrapped)![1], /password: (.*)/.exec(sealed)![1], 'values untouched');
  });

  it('your own identity opens a sops file for its age1pq1 form (no imported key needed)', async () => {
    const own = await ann.cli(['identity', '--age'], { noPass: true });
    assert.equal(own.code, 0, own.stderr);
    const pq = /age1pq1[0-9a-z]+/.exec(own.stdout)![0];
    const recipients = parseAgeRecipients(pq, 'test').map(r => ({ text: r.text, recipient: ageRecipientFor(r.recipient) }));
    const file = path.join(ann.home, 'pq.sops.yaml');
    await fs.writeFile(file, encryptSopsText('k: v\n', newSopsState('yaml', recipients, {})).text);
    const shown = await ann.cli(['decrypt', file]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(shown.stdout, 'k: v\n');
  });
});
