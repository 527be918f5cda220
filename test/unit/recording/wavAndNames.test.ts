// WAV headers (streaming and exact) and recording file names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordingFileName, sanitizeTitle } from '../../../server/src/recording/naming';
import { audioFromPlaintextSize, parseWavHeader, RECORDING_FORMAT, wavHeader, WAV_HEADER_LENGTH, WAV_STREAMING_SIZE } from '../../../server/src/recording/wav';

describe('WAV header', () => {
  it('a streaming header: canonical 44 bytes, 16 kHz mono s16, sizes 0xFFFFFFFF', () => {
    const h = wavHeader();
    assert.equal(h.length, WAV_HEADER_LENGTH);
    assert.equal(h.toString('latin1', 0, 4), 'RIFF');
    assert.equal(h.readUInt32LE(4), WAV_STREAMING_SIZE);
    assert.equal(h.toString('latin1', 8, 16), 'WAVEfmt ');
    assert.equal(h.readUInt32LE(16), 16);
    assert.equal(h.readUInt16LE(20), 1);            // PCM
    assert.equal(h.readUInt16LE(22), 1);            // mono
    assert.equal(h.readUInt32LE(24), 16000);
    assert.equal(h.readUInt32LE(28), 32000);        // byte rate
    assert.equal(h.readUInt16LE(32), 2);            // block align
    assert.equal(h.readUInt16LE(34), 16);
    assert.equal(h.toString('latin1', 36, 40), 'data');
    assert.equal(h.readUInt32LE(40), WAV_STREAMING_SIZE);
    assert.deepEqual(parseWavHeader(h), { ...RECORDING_FORMAT, dataOffset: 44, declaredDataBytes: null });
  });

  it('an exact header for an export, and its limits', () => {
    const h = wavHeader(RECORDING_FORMAT, 320000);
    assert.equal(h.readUInt32LE(4), 36 + 320000);
    assert.equal(h.readUInt32LE(40), 320000);
    assert.equal(parseWavHeader(h).declaredDataBytes, 320000);
    const stereo = wavHeader({ sampleRate: 48000, channels: 2, bitsPerSample: 16 }, 4);
    assert.equal(stereo.readUInt32LE(28), 192000);
    assert.equal(stereo.readUInt16LE(32), 4);
    assert.throws(() => wavHeader(RECORDING_FORMAT, 2 ** 32), RangeError);
    assert.throws(() => wavHeader(RECORDING_FORMAT, -1), RangeError);
  });

  it('parses headers with extra chunks and rejects what is not PCM WAV', () => {
    const list = Buffer.alloc(12);
    list.write('LIST', 0, 'latin1'); list.writeUInt32LE(4, 4); list.write('INFO', 8, 'latin1');
    const h = wavHeader(RECORDING_FORMAT, 10);
    const withList = Buffer.concat([h.subarray(0, 36), list, h.subarray(36)]);
    assert.equal(parseWavHeader(withList).dataOffset, 56);
    assert.throws(() => parseWavHeader(Buffer.from('not a wav file at all, no')), /not a WAV/);
    const float = Buffer.from(h); float.writeUInt16LE(3, 20);
    assert.throws(() => parseWavHeader(float), /only PCM/);
    assert.throws(() => parseWavHeader(h.subarray(0, 30)), /truncated/);
  });

  it('duration follows from the plaintext size alone (whole sample frames after the header)', () => {
    assert.deepEqual(audioFromPlaintextSize(44 + 32000 * 3), { dataBytes: 96000, durationSeconds: 3 });
    assert.deepEqual(audioFromPlaintextSize(44 + 16001), { dataBytes: 16000, durationSeconds: 0.5 });
    assert.deepEqual(audioFromPlaintextSize(10), { dataBytes: 0, durationSeconds: 0 });
  });
});

describe('recording file names', () => {
  const at = new Date(2026, 10, 23, 14, 5, 59);

  it('date, time and title in local time', () => {
    assert.equal(recordingFileName(at, 'Weekly sync'), '2026-11-23 1405 Weekly sync.wav.enc');
    assert.equal(recordingFileName(new Date(2027, 0, 2, 9, 7), 'x', 2), '2027-01-02 0907 x (2).wav.enc');
  });

  it('sanitizes titles for every file system', () => {
    assert.equal(sanitizeTitle('Q3: budget/plan <draft> "v2" | a*b? \\c'), 'Q3- budget-plan -draft- -v2- - a-b- -c');
    assert.equal(sanitizeTitle('  line\none\ttab\u0007  '), 'line one tab');
    assert.equal(sanitizeTitle('...hidden'), 'hidden');
    assert.equal(sanitizeTitle('--rf'), 'rf');
    assert.equal(sanitizeTitle('trailing dots...  '), 'trailing dots');
    assert.equal(sanitizeTitle(''), 'Recording');
    assert.equal(sanitizeTitle(' / '), 'Recording');
    assert.equal(sanitizeTitle('Cafe\u0301 ☕ 会議'), 'Café ☕ 会議');
    const long = sanitizeTitle('😀'.repeat(200));
    assert.equal(Array.from(long).length, 80);
    assert.ok(!/[\uD800-\uDBFF]$/.test(long), 'no split surrogate pair');
    assert.ok(!recordingFileName(at, '../../etc/passwd').includes('/'));
  });
});

describe('WAV headers with an unusable format (found by the fuzzer, test/fuzz)', () => {
  it('zero channels, a zero rate or a sample width that is not whole bytes is refused by name', () => {
    const withField = (offset: number, value: number, bytes: 2 | 4) => {
      const h = wavHeader();
      if (bytes === 2) h.writeUInt16LE(value, offset); else h.writeUInt32LE(value, offset);
      return h;
    };
    for (const h of [withField(22, 0, 2), withField(24, 0, 4), withField(34, 0, 2), withField(34, 18, 2), withField(34, 64, 2)]) {
      assert.throws(() => parseWavHeader(h), /unsupported WAV format/);
    }
    assert.equal(parseWavHeader(wavHeader()).bitsPerSample, 16);
  });
});
