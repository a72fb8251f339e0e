import { describe, expect, it } from 'vitest'
import { sessionKeyOf } from '../../src/core/ids.js'
import { FieldPolicies } from '../../src/stores/layered/policies.js'

describe('LayeredStore per-call policies (remembered for warming)', () => {
  const key = sessionKeyOf('a'.repeat(22))
  const asked = { strategy: 'write-through', hotTtl: 5 } as const

  it('remembers at most 256 fields per session, forgetting the field written longest ago', () => {
    const policies = new FieldPolicies(undefined, 60)
    // Field names a client chose, one write each: memory must not grow with them.
    for (let index = 0; index < 1000; index++) policies.remember(key, `cart:${index}`, { hotTtl: 5 }, asked)
    expect(policies.forRead(key, 'cart:999').hotTtl).toBe(5)
    expect(policies.forRead(key, 'cart:744').hotTtl).toBe(5)
    expect(policies.forRead(key, 'cart:743').hotTtl).toBe(60)
    expect(policies.forRead(key, 'cart:0').hotTtl).toBe(60)
    // Writing a remembered field again makes it the newest: it outlives the next 255.
    policies.remember(key, 'cart:744', { hotTtl: 5 }, asked)
    for (let index = 1000; index < 1255; index++) policies.remember(key, `cart:${index}`, { hotTtl: 5 }, asked)
    expect(policies.forRead(key, 'cart:744').hotTtl).toBe(5)
    expect(policies.forRead(key, 'cart:745').hotTtl).toBe(60)
  })

  it('remembers at most 20,000 field policies over all sessions, forgetting the oldest sessions first', () => {
    const policies = new FieldPolicies(undefined, 60)
    // Sessions cost nothing to create: 100 of them with 256 client-chosen fields each.
    const keys = Array.from({ length: 100 }, (_, index) => sessionKeyOf(String(index).padStart(22, 'k')))
    for (const each of keys) {
      for (let index = 0; index < 256; index++) policies.remember(each, `f${index}`, { hotTtl: 5 }, asked)
    }
    // 20,000 ÷ 256: the newest 78 sessions are remembered whole, the oldest are forgotten.
    expect(policies.forRead(keys[0] as string, 'f0').hotTtl).toBe(60)
    expect(policies.forRead(keys[21] as string, 'f255').hotTtl).toBe(60)
    expect(policies.forRead(keys[22] as string, 'f0').hotTtl).toBe(5)
    expect(policies.forRead(keys[99] as string, 'f0').hotTtl).toBe(5)
    // Forgetting keeps the count: after the newest session is deleted, 256 more fit without eviction.
    policies.forget(keys[99] as string)
    for (let index = 0; index < 256; index++) policies.remember(key, `g${index}`, { hotTtl: 5 }, asked)
    expect(policies.forRead(keys[22] as string, 'f0').hotTtl).toBe(5)
  })

  it('forgets a removed or taken field', () => {
    const policies = new FieldPolicies(undefined, 60)
    policies.remember(key, 'flash', { hotTtl: 5 }, asked)
    policies.forgetField(key, 'flash')
    expect(policies.forRead(key, 'flash').hotTtl).toBe(60)
  })
})
