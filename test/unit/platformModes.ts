// File modes are permissions on Unix only. On Windows (the Wine lane) a mode is just the read-only attribute:
// a file written 0600 reads back 0666, and who may read it is its ACL, inherited from the profile folder that
// holds it (docs/KEYS.md, "Windows"). Mode assertions therefore hold on Unix and say nothing on win32.
import assert from 'node:assert/strict';

export const modesArePermissions = process.platform !== 'win32';

/** Asserts `mode & 0o777` on Unix; on Windows, where modes are not permissions, asserts nothing. */
export function assertUnixMode(mode: number, expected: number, message?: string): void {
  if (modesArePermissions) assert.equal(mode & 0o777, expected, message);
}
