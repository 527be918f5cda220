// Command ids, in one place: package.json's `contributes.commands` must list the same ids
// (a unit test checks that the two agree).
export const Commands = {
  showWorkerStatus: 'noteseal.showWorkerStatus',
  restartWorker: 'noteseal.restartWorker',
  showLog: 'noteseal.showLog',
} as const;
