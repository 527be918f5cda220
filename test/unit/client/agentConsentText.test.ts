// The agent's consent modal (client/src/agentConsentText.ts): the chain of programs, and "Allow for This
// Session" offered only where the worker says the parent process can be allowed (issue 21 §4).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALLOW_ONCE, ALLOW_SESSION, consentAnswer, consentText, DENY } from '../../../client/src/agent/agentConsentText';
import type { AgentConsentQuestion } from '../../../server/src/protocol';

test('under a shell: the chain is shown, no session button, a stray session answer counts once', () => {
  const q: AgentConsentQuestion = { op: 'decrypt', program: 'sh', pid: 4242, file: '/repo/.env.enc', chain: ['git', 'sh', 'node'], sessionGrant: false };
  const t = consentText(q, '.env.enc');
  assert.equal(t.message, 'Allow "sh" (pid 4242) to decrypt .env.enc?');
  assert.match(t.detail, /Started by git → sh → node\./);
  assert.match(t.detail, /"Allow for This Session" is not offered: sh is a shell, interpreter or launcher/);
  assert.deepEqual(t.choices, [ALLOW_ONCE, DENY]);
  assert.equal(consentAnswer(q, ALLOW_SESSION), 'once');
  assert.equal(consentAnswer(q, undefined), 'deny');
});

test('under a program that can be allowed: the session covers that one process', () => {
  const q: AgentConsentQuestion = { op: 'encrypt', program: 'deploy', pid: 77, chain: ['bash', 'deploy', 'node'], sessionGrant: true };
  const t = consentText(q, 'a file');
  assert.deepEqual(t.choices, [ALLOW_ONCE, ALLOW_SESSION, DENY]);
  assert.match(t.detail, /allows what this one deploy process \(pid 77\) starts, until NoteSeal locks/);
  assert.equal(consentAnswer(q, ALLOW_SESSION), 'session');
  assert.equal(consentAnswer(q, ALLOW_ONCE), 'once');
  assert.equal(consentAnswer(q, DENY), 'deny');
  const unknown = consentText({ op: 'decrypt', program: 'an unidentified program' }, 'a file');
  assert.match(unknown.detail, /the program could not be identified/);
  assert.deepEqual(unknown.choices, [ALLOW_ONCE, DENY]);
});
