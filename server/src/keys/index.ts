// Public API of the key hierarchy. See docs/ARCHITECTURE.md, "Key hierarchy".
export { Keyring, detachedKeyIdsOf, type KeyringOptions, type NewFileKeys, type Passphrase, type RotationResult } from './keyring';
export { encodeRecoveryKey, decodeRecoveryKey } from './recovery-key';
export {
  KDF_FLOOR, PRODUCTION_KDF_POLICY, TEST_KDF_POLICY, calibrateKdf, kdfPolicyFromEnv, type KdfParams, type KdfPolicy,
} from './kdf';
export { keystoreDirFor } from './keystore';
export { parseStanza, STANZA_MASTER_WRAPPED, STANZA_DETACHED, type ParsedStanza } from './stanzas';
export { findEncryptedFiles, type RotationProgress, type OnRotationProgress, type RotationReport, type RewrapOutcome } from './rotation';
