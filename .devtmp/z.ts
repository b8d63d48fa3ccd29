import { createHash } from 'node:crypto';
import { encodeMode1, scramble } from '../server/src/engine/cd/sector';
const s = new Uint8Array(2352); encodeMode1(s, 0, new Uint8Array(2048));
const h = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
console.log(h(s), h(s.subarray(2076)));
scramble(s); console.log(h(s));
