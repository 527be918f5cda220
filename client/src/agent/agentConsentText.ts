// The words and choices of the agent's consent modal (pure: unit-tested without VS Code; agentConsent.ts shows them).
import type { AgentConsentAnswer, AgentConsentQuestion } from '../../../server/src/protocol';

export const ALLOW_ONCE = 'Allow Once';
export const ALLOW_SESSION = 'Allow for This Session';
export const DENY = 'Deny';

/**
 * The question, its detail and the buttons. `file` is the client's claim, already made relative. "Allow for
 * This Session" is offered only when the worker says the parent process can be allowed (not a shell or an
 * interpreter, and named by the kernel): it then covers that one process, not its program.
 */
export function consentText(q: AgentConsentQuestion, file: string): { message: string; detail: string; choices: string[] } {
  const who = q.pid !== undefined ? `"${q.program}" (pid ${q.pid})` : q.program;
  const chain = q.chain && q.chain.length > 1 ? ` Started by ${q.chain.join(' → ')}.` : '';
  const session = q.sessionGrant
    ? ` "${ALLOW_SESSION}" allows what this one ${q.program} process (pid ${q.pid ?? '?'}) starts, until NoteSeal locks.`
    : ` "${ALLOW_SESSION}" is not offered: ${q.pid === undefined ? 'the program could not be identified' : `${q.program} is a shell, interpreter or launcher, which runs anything`}; each request is asked.`;
  return {
    message: `Allow ${who} to ${q.op} ${file}?`,
    detail: `A command-line client asks NoteSeal for a file key.${chain} The programs are named by the operating system; the file name is what the client says.${session}`,
    choices: q.sessionGrant ? [ALLOW_ONCE, ALLOW_SESSION, DENY] : [ALLOW_ONCE, DENY],
  };
}

/** The answer a picked button means; a session pick where none was offered is only once. */
export function consentAnswer(q: AgentConsentQuestion, pick: string | undefined): AgentConsentAnswer {
  if (pick === ALLOW_ONCE) return 'once';
  if (pick === ALLOW_SESSION) return q.sessionGrant ? 'session' : 'once';
  return 'deny';
}
