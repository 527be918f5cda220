// Command ids, in one place: package.json's `contributes.commands` must list the same ids
// (a unit test checks that the two agree).
export const Commands = {
  showWorkerStatus: 'noteseal.showWorkerStatus',
  restartWorker: 'noteseal.restartWorker',
  showLog: 'noteseal.showLog',
  setup: 'noteseal.setup',
  unlock: 'noteseal.unlock',
  lock: 'noteseal.lock',
  toggleLock: 'noteseal.toggleLock',
  changePassphrase: 'noteseal.changePassphrase',
  forgetRememberedKey: 'noteseal.forgetRememberedKey',
  newNote: 'noteseal.newNote',
  encryptFile: 'noteseal.encryptFile',
  decryptFile: 'noteseal.decryptFile',
  encryptFolder: 'noteseal.encryptFolder',
  openEncrypted: 'noteseal.openEncrypted',
  startRecording: 'noteseal.startRecording',
  stopRecording: 'noteseal.stopRecording',
  pauseRecording: 'noteseal.pauseRecording',
  resumeRecording: 'noteseal.resumeRecording',
  selectMicrophone: 'noteseal.selectMicrophone',
  exportRecording: 'noteseal.exportRecording',
  shredRecording: 'noteseal.shredRecording',
  installCommandLineTool: 'noteseal.installCommandLineTool',
  setUpGit: 'noteseal.setUpGit',
  /** The Accept CodeLenses of a conflict in a decrypted note (gitSupport.ts); not in the palette. */
  resolveConflict: 'noteseal.resolveConflict',
} as const;
