// Draws media/icon.png (128x128: a white padlock on a dark teal rounded square) without any image tool.
// Run once when the icon should change; the PNG is committed.
import fs from 'node:fs';
import zlib from 'node:zlib';

const N = 128;
const px = Buffer.alloc(N * N * 4);
const inRoundRect = (x, y, x0, y0, x1, y1, r) => {
  const cx = Math.min(Math.max(x, x0 + r), x1 - r), cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) {
  let c = [0, 0, 0, 0];
  if (inRoundRect(x, y, 4, 4, 123, 123, 24)) c = [16, 92, 104, 255];
  const d = Math.hypot(x - 64, y - 56);
  if (y <= 60 && d >= 20 && d <= 30) c = [255, 255, 255, 255];                 // shackle
  if (inRoundRect(x, y, 30, 56, 97, 108, 8)) c = [255, 255, 255, 255];          // body
  if (Math.hypot(x - 64, y - 76) <= 7 || (x >= 61 && x <= 67 && y >= 76 && y <= 94)) c = [16, 92, 104, 255]; // keyhole
  px.set(c, (y * N + x) * 4);
}
const raw = Buffer.concat(Array.from({ length: N }, (_, y) => Buffer.concat([Buffer.from([0]), px.subarray(y * N * 4, (y + 1) * N * 4)])));
const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc = b => { let c = 0xffffffff; for (const v of b) c = crcTable[(c ^ v) & 255] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
const chunk = (type, data) => { const len = Buffer.alloc(4); len.writeUInt32BE(data.length); const td = Buffer.concat([Buffer.from(type), data]); const c = Buffer.alloc(4); c.writeUInt32BE(crc(td)); return Buffer.concat([len, td, c]); };
const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(N, 0); ihdr.writeUInt32BE(N, 4); ihdr.set([8, 6, 0, 0, 0], 8);
fs.writeFileSync(new URL('../media/icon.png', import.meta.url), Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]));
