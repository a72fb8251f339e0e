import { describe, expect, it, vi } from 'vitest'
import { CandidateReader } from '../../src/core/candidates.js'
import { createSessionId, sessionKeyOf } from '../../src/core/ids.js'
import { CookieSigner } from '../../src/core/signing.js'

const current = 'current-secret-0123456789-abcdefgh'
const previous = 'previous-secret-0123456789-abcdef'

describe('CandidateReader', () => {
  it('reads signed ids in header order without repeats, dropping anything that does not verify', () => {
    const signer = new CookieSigner([current, previous])
    const [a, b] = [createSessionId(), createSessionId()]
    const forged = `${b}.${'A'.repeat(43)}`
    const old = new CookieSigner(previous).sign(b)
    const read = new CandidateReader(signer, 'memory').read([forged, signer.sign(a), 'junk', old, signer.sign(a)])
    expect(read).toEqual([
      { id: a, key: sessionKeyOf(a), stale: false, cookieValue: signer.sign(a) },
      { id: b, key: sessionKeyOf(b), stale: true },
    ])
  })

  it('checks a value that verified once without a second HMAC, and a forged one every time', () => {
    const signer = new CookieSigner(current)
    const verify = vi.spyOn(signer, 'verify')
    const reader = new CandidateReader(signer, 'memory')
    const id = createSessionId()
    const good = signer.sign(id)
    const forged = `${id}.${'B'.repeat(43)}`
    for (let i = 0; i < 3; i++) {
      expect(reader.read([good]).map((candidate) => candidate.id)).toEqual([id])
      expect(reader.read([forged])).toEqual([])
    }
    expect(verify.mock.calls.map(([value]) => value)).toEqual([good, forged, forged, forged])
  })

  it('remembers per reader: a value another layer’s secrets accepted is checked again here', () => {
    const id = createSessionId()
    const value = new CookieSigner(previous).sign(id)
    expect(new CandidateReader(new CookieSigner(previous), 'memory').read([value])).toHaveLength(1)
    expect(new CandidateReader(new CookieSigner(current), 'memory').read([value])).toEqual([])
  })

  it('stays correct once the remembered values roll over (bounded memory)', () => {
    const signer = new CookieSigner(current)
    const verify = vi.spyOn(signer, 'verify')
    const reader = new CandidateReader(signer, 'memory')
    const first = signer.sign(createSessionId())
    reader.read([first])
    for (let i = 0; i < 5000; i++) reader.read([signer.sign(createSessionId())])
    const calls = verify.mock.calls.length
    expect(reader.read([first])).toHaveLength(1)
    // Two generations of 2048 values: the first value fell out and was verified again.
    expect(verify.mock.calls.length).toBe(calls + 1)
  })

  // SPEC §10: a request's cookies yield at most three candidates, so at most three HMACs and three
  // store round trips, however many session cookies it carries.
  it('looks at the first three well-formed values only, skipping malformed ones for free', () => {
    const signer = new CookieSigner(current)
    const verify = vi.spyOn(signer, 'verify')
    const ids = Array.from({ length: 490 }, () => createSessionId())
    const forged = ids.map((id) => `${id}.${'C'.repeat(43)}`)
    const valid = signer.sign(ids[0] as string)
    const read = new CandidateReader(signer, 'memory').read([
      'junk',
      '',
      forged[1] as string,
      valid,
      ...forged.slice(2),
    ])
    expect(read.map((candidate) => candidate.id)).toEqual([ids[0]])
    expect(verify).toHaveBeenCalledTimes(3)
    expect(new CandidateReader(signer, 'memory').read([...forged.slice(0, 3), valid])).toEqual([])
    expect(new CandidateReader(undefined, 'memory').read(ids)).toHaveLength(3)
  })

  it('accepts well-formed ids as they are when signing is off', () => {
    const id = createSessionId()
    expect(new CandidateReader(undefined, 'memory').read([id, `${id}x`, 'short'])).toEqual([
      { id, key: sessionKeyOf(id), stale: false, cookieValue: id },
    ])
  })
})
