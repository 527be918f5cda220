// The "NoteSeal" output channel. It records lifecycle events only: callers pass fixed messages and
// never file content, passphrases or keys.
import * as vscode from 'vscode';

export class Logger implements vscode.Disposable {
  /** A log channel: VS Code adds timestamps and levels, and the languageclient writes its own events here. */
  readonly channel = vscode.window.createOutputChannel('NoteSeal', { log: true });

  info(message: string): void { this.channel.info(message); debugEcho('info', message); }
  warn(message: string): void { this.channel.warn(message); debugEcho('warn', message); }
  error(message: string): void { this.channel.error(message); }

  write(level: 'info' | 'warn' | 'error', message: string): void { this[level](message); }

  dispose(): void { this.channel.dispose(); }
}

/** Integration-test runs can echo the (content-free) log to the extension host's console. */
function debugEcho(level: string, message: string): void {
  if (process.env.NOTESEAL_TEST_WORKSPACE) console.error(`[noteseal] [${level}] ${message}`);
}
