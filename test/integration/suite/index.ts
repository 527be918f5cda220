// Loaded by the extension host as extensionTestsPath: runs every *.test.js beside it with mocha and
// leaves the counts in NOTESEAL_RESULT_FILE for the top-level test command.
import fs from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  // NOTESEAL_TEST_GREP runs only the tests whose full title matches (a developer's shortcut; CI runs all).
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 30_000, reporter: 'spec', grep: process.env.NOTESEAL_TEST_GREP || undefined });
  for (const f of fs.readdirSync(__dirname).sort()) if (f.endsWith('.test.js')) mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    const runner = mocha.run(failures => {
      const out = process.env.NOTESEAL_RESULT_FILE;
      if (out) fs.writeFileSync(out, JSON.stringify({ passed: runner.stats?.passes ?? 0, failed: failures, pending: runner.stats?.pending ?? 0 }));
      if (failures > 0) reject(new Error(`${failures} integration tests failed.`)); else resolve();
    });
  });
}
