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

  it('forgets a removed or taken field', () => {
    const policies = new FieldPolicies(undefined, 60)
    policies.remember(key, 'flash', { hotTtl: 5 }, asked)
    policies.forgetField(key, 'flash')
    expect(policies.forRead(key, 'flash').hotTtl).toBe(60)
  })
})
