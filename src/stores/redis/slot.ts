/**
 * Redis Cluster hash slots: CRC16 (XMODEM: polynomial 0x1021, initial value 0) of the key's hash tag,
 * or of the whole key when it has none, modulo 16384, as the Cluster specification defines them.
 */

const TABLE = new Uint16Array(256)
for (let byte = 0; byte < 256; byte++) {
  let crc = byte << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1
  TABLE[byte] = crc & 0xffff
}

/** The part of `key` that decides its slot: between the first `{` and the next `}`, when not empty. */
function hashed(key: string): string {
  const open = key.indexOf('{')
  if (open < 0) return key
  const close = key.indexOf('}', open + 1)
  return close > open + 1 ? key.slice(open + 1, close) : key
}

/**
 * The hash slot of a key.
 *
 * @param key - a key as sent to Redis
 * @returns its slot, 0–16383
 */
export function slotOf(key: string): number {
  let crc = 0
  for (const byte of Buffer.from(hashed(key))) crc = ((crc << 8) & 0xffff) ^ (TABLE[(crc >> 8) ^ byte] ?? 0)
  return crc & 0x3fff
}
