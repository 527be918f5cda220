// The name a new recipients list gives its first member (the caller), the same from the CLI and from
// VS Code's Share Folder…: $USER, else the login name, else "me". Pure: no VS Code import.
import os from 'node:os';

export function defaultOwnName(env: NodeJS.ProcessEnv, loginName: () => string = () => os.userInfo().username): string {
  if (env.USER && env.USER.trim() === env.USER && env.USER.length <= 64) return env.USER;
  try { return loginName() || 'me'; } catch { return 'me'; }
}
