// The words and choices of the agent's consent modal (pure: unit-tested without VS Code; agentConsent.ts shows them).
import type { AgentConsentAnswer, AgentConsentQuestion } from '../../../server/src/protocol';
import { l10n } from '../shared/l10n';

export const ALLOW_ONCE = 'Allow Once';
export const ALLOW_SESSION = 'Allow for This Session';
export const DENY = 'Deny';

/**
 * The question, its detail and the buttons. `file` is the client's claim, already made relative. "Allow for
 * This Session" is offered only when the worker says the parent process can be allowed (not a shell or an
 * interpreter, and named by the kernel): it then covers that one process, not its program.
 */
export function consentText(q: AgentConsentQuestion, file: string): { message: string; detail: string; choices: string[] } {
  const who = q.pid !== undefined ? l10n.t('"{0}" (pid {1})', q.program, q.pid) : q.program;
  const detail = [l10n.t('A command-line client asks NoteSeal for a file key.'),
    ...(q.chain && q.chain.length > 1 ? [l10n.t('Started by {0}.', q.chain.join(' → '))] : []),
    l10n.t('The programs are named by the operating system; the file name is what the client says.'),
    q.sessionGrant
      ? l10n.t('"{0}" allows what this one {1} process (pid {2}) starts, until NoteSeal locks.', ALLOW_SESSION, q.program, q.pid ?? '?')
      : l10n.t('"{0}" is not offered: {1}; each request is asked.', ALLOW_SESSION,
        q.pid === undefined ? l10n.t('the program could not be identified') : l10n.t('{0} is a shell, interpreter or launcher, which runs anything', q.program))];
  return {
    message: l10n.t('Allow {0} to {1} {2}?', who, q.op, file),
    detail: detail.join(' '),
    choices: q.sessionGrant ? [ALLOW_ONCE, ALLOW_SESSION, DENY] : [ALLOW_ONCE, DENY],
  };
}

/** The answer a picked button means; a session pick where none was offered is only once. */
export function consentAnswer(q: AgentConsentQuestion, pick: string | undefined): AgentConsentAnswer {
  if (pick === ALLOW_ONCE) return 'once';
  if (pick === ALLOW_SESSION) return q.sessionGrant ? 'session' : 'once';
  return 'deny';
}
