// The config parsers behind `noteseal exec`: what each format accepts, what it refuses, and that an
// error never quotes a value.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EnvFileError, envFormatOf, parseEnvText } from '../../../server/src/cli/env-files';

const obj = (m: Map<string, string>) => Object.fromEntries(m);
const SECRET = 'hunter2-canary';

function refuses(text: string, format: 'dotenv' | 'json' | 'yaml' | 'ini', pattern: RegExp): void {
  assert.throws(() => parseEnvText(text, format), (e: Error) => {
    assert.ok(e instanceof EnvFileError, String(e));
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes(SECRET), `the message quotes a value: ${e.message}`);
    return true;
  });
}

describe('exec config formats', () => {
  it('picks the format from the name inside .enc', () => {
    assert.equal(envFormatOf('.env.enc'), 'dotenv');
    assert.equal(envFormatOf('config/prod.env.enc'), 'dotenv');
    assert.equal(envFormatOf('secrets.JSON.enc'), 'json');
    assert.equal(envFormatOf('a.yaml.enc'), 'yaml');
    assert.equal(envFormatOf('a.yml.enc'), 'yaml');
  });

  it('dotenv: export, comments, quotes, escapes, multi-line values; later keys win', () => {
    const text = [
      '# a comment', '', 'export A=plain value # comment', "B='lit $X \\n'", 'C="line\\nnext \\"q\\""',
      'D="multi', 'line"', 'E=', 'A=again', '\r',
    ].join('\n');
    assert.deepEqual(obj(parseEnvText(text, 'dotenv')), { A: 'again', B: 'lit $X \\n', C: 'line\nnext "q"', D: 'multi\nline', E: '' });
    refuses(`not a line ${SECRET}`, 'dotenv', /line 1: expected NAME=value/);
    refuses(`1BAD=${SECRET}`, 'dotenv', /not a variable name/);
    refuses(`A="${SECRET}`, 'dotenv', /never ends/);
    refuses(`A='${SECRET}' trailing`, 'dotenv', /after the quoted value/);
  });

  it('JSON: a flat object of strings, numbers and booleans; nesting and null are refused', () => {
    assert.deepEqual(obj(parseEnvText('{"A":"x","PORT":8080,"ON":true}', 'json')), { A: 'x', PORT: '8080', ON: 'true' });
    refuses(`{"A": "${SECRET}",}`, 'json', /not valid JSON/);
    refuses(`["${SECRET}"]`, 'json', /must be an object/);
    refuses(`{"DB": {"pass": "${SECRET}"}}`, 'json', /DB: nested values are not supported/);
    refuses('{"A": null}', 'json', /null/);
    refuses(`{"a-b": "${SECRET}"}`, 'json', /not a variable name/);
  });

  it('YAML: the flat subset, values as written; everything else is refused', () => {
    const text = "---\n# c\nA: plain text # comment\nB: 'it''s'\nC: \"tab\\there \\u00e9\"\nPORT: 8080\nON: true\n...\n";
    assert.deepEqual(obj(parseEnvText(text, 'yaml')), { A: 'plain text', B: "it's", C: 'tab\there é', PORT: '8080', ON: 'true' });
    refuses(`DB:\n  pass: ${SECRET}`, 'yaml', /line 1: DB: no value/);
    refuses(`A: x\n  B: ${SECRET}`, 'yaml', /indented/);
    refuses(`- ${SECRET}`, 'yaml', /sequences/);
    refuses(`A: [${SECRET}]`, 'yaml', /flow collections/);
    refuses(`A: |\n  ${SECRET}`, 'yaml', /block scalars/);
    refuses(`A: &x ${SECRET}`, 'yaml', /anchors/);
    refuses(`A: ${SECRET}\nA: y`, 'yaml', /A appears twice/);
    refuses('A: ~', 'yaml', /null/);
    refuses(`A: 'x\nB: ${SECRET}'`, 'yaml', /never ends/);
    refuses(`A: x\n---\nB: ${SECRET}`, 'yaml', /several YAML documents/);
    refuses(`A: a: ${SECRET}`, 'yaml', /cannot hold ": "/);
  });

  it('INI (sops INI files): every section\'s keys, values as sops reads them; a key in two sections refused', () => {
    const text = `; c\ntop = 1\n[default]\naws_access_key_id = AKIA\nsecret: "${SECRET}"\nmulti = """one\ntwo"""\n[other]\nregion=eu\n`;
    assert.deepEqual(obj(parseEnvText(text, 'ini')), { top: '1', aws_access_key_id: 'AKIA', secret: SECRET, multi: 'one\ntwo', region: 'eu' });
    refuses(`[a]\nk = ${SECRET}\n[b]\nk = x\n`, 'ini', /k is in both \[a\] and \[b\]/);
    refuses(`[a]\nk = ${SECRET}\nk = x\n`, 'ini', /k is in \[a\] twice/);
    refuses(`[a]\nbad-name = ${SECRET}\n`, 'ini', /not a variable name/);
    refuses(`[a]\n${SECRET}\n`, 'ini', /line 2: not a key = value line/);
  });
});
