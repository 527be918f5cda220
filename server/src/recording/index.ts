// Public API of meeting recording (worker side). See recorder.ts for the file layout and guarantees.
export {
  CAPTURE_COMMAND_SETTING, CaptureError, CaptureProcess, buildCaptureCommand, captureCandidates, detectCaptureCommand, installHint,
  isCaptureError, listDevices, mapFailure, overrideCaptureCommand, probeCapture, splitCommandLine, which,
  type AudioDevice, type CaptureCommand, type CaptureErrorCode, type CaptureExit, type CaptureToolId, type DetectOptions, type StopMethod,
} from './captureTools';
export {
  Recorder, RECORDING_CHUNK_SIZE, type ElapsedEvent, type LevelEvent, type PauseSpan, type RecorderOptions, type RecordingKeySource,
  type RecordingResult, type RecordingStarted, type RecordingWarning, type StartOptions,
} from './recorder';
export { exportWav, findUnfinishedRecordings, recoverRecording, type ExportResult, type RecoveredRecording, type UnfinishedRecording } from './files';
export { recordingFileName, sanitizeTitle, RECORDING_SUFFIX } from './naming';
export { audioFromPlaintextSize, parseWavHeader, wavHeader, RECORDING_FORMAT, WAV_HEADER_LENGTH, type PcmFormat } from './wav';
export { syntheticCaptureCommand, SOX_SYNTH_COMMAND, type SyntheticOptions } from './syntheticSource';
