// `noteseal.lockOnTokenRemoval` (issue 28): while NoteSeal is unlocked through a PKCS#11 slot, the worker asks
// the module every TOKEN_POLL_MS whether the token is still there (one short `pkcs11-tool --list-token-slots`,
// no PIN, no login). Two misses in a row (a single failed run of the tool under load is not a removal) report
// the token gone, once; the client then locks as a user's lock does (saves first, closes decrypted views).
import { tokenPresent, type Pkcs11Target } from '../keys/pkcs11';

export const TOKEN_POLL_MS = 2_000;
const MISSES_TO_REPORT = 2;

export class TokenWatch {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private misses = 0;

  constructor(private readonly target: Pkcs11Target, private readonly env: NodeJS.ProcessEnv, private readonly gone: () => void,
    private readonly present: (t: Pkcs11Target, env: NodeJS.ProcessEnv) => Promise<boolean> = tokenPresent, pollMs = TOKEN_POLL_MS) {
    this.timer = setInterval(() => void this.check(), pollMs);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (this.checking || !this.timer) return;
    this.checking = true;
    try {
      const here = await this.present(this.target, this.env);
      if (!this.timer) return;
      this.misses = here ? 0 : this.misses + 1;
      if (this.misses >= MISSES_TO_REPORT) { this.stop(); this.gone(); }
    } finally {
      this.checking = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
