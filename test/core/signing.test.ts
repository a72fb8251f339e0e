import { describe, expect, it } from 'vitest'
import { createSessionId } from '../../src/core/ids.js'
import { CookieSigner } from '../../src/core/signing.js'

const current = 'current-secret-0123456789-abcdefgh'
const previous = 'previous-secret-0123456789-abcdef'

describe('CookieSigner', () => {
  it('signs with the first secret and verifies the whole value', () => {
    const signer = new CookieSigner([current, previous])
    const id = createSessionId()
    const signed = signer.sign(id)
    expect(signed).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/)
    expect(signer.verify(signed)).toEqual({ id, secretIndex: 0 })
  })

  it('verifies with older secrets and says which one matched (for rotation)', () => {
    const old = new CookieSigner(previous).sign(createSessionId())
    expect(new CookieSigner([current, previous]).verify(old)?.secretIndex).toBe(1)
    expect(new CookieSigner([current]).verify(old)).toBeUndefined()
  })

  it('rejects tampering, trailing data, truncation and a swapped id', () => {
    const signer = new CookieSigner(current)
    const id = createSessionId()
    const signed = signer.sign(id)
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1)
    expect(signer.verify(`${signed}x`)).toBeUndefined()
    expect(signer.verify(signed.slice(0, -1))).toBeUndefined()
    expect(signer.verify(flip(signed, signed.length - 2))).toBeUndefined()
    expect(signer.verify(flip(signed, 3))).toBeUndefined()
    expect(signer.verify(`${createSessionId()}${signed.slice(22)}`)).toBeUndefined()
    expect(signer.verify(id)).toBeUndefined()
    expect(signer.verify(signed.replace('.', '-'))).toBeUndefined()
  })

  it('refuses short, missing or trivially repetitive secrets at construction', () => {
    const refused = expect.objectContaining({ code: 'ERR_SESSION_CONFIG' })
    expect(() => new CookieSigner('short')).toThrow(refused)
    expect(() => new CookieSigner([])).toThrow(refused)
    expect(() => new CookieSigner('a'.repeat(32))).toThrow(refused)
    expect(() => new CookieSigner([current, 'abcdefg'.repeat(5)])).toThrow(refused)
    expect(new CookieSigner('abcdefgh'.repeat(4)).verify('x')).toBeUndefined()
  })

  // latin1 keeps only the low byte of a wider character: U+0100 + code would compare equal.
  it('never verifies a signature with a non-ASCII character in place of an ASCII one', () => {
    const signer = new CookieSigner(current)
    const signed = signer.sign(createSessionId())
    for (const at of [23, 40, signed.length - 1]) {
      const wide = String.fromCharCode(0x100 + signed.charCodeAt(at))
      expect(signer.verify(signed.slice(0, at) + wide + signed.slice(at + 1))).toBeUndefined()
    }
    expect(signer.verify(signed)).toBeDefined()
  })
})
