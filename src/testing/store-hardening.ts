import { inspect } from 'node:util'
import { expect, it } from 'vitest'
import { SessionError, SessionStoreError } from '../core/errors.js'
import { createSessionId } from '../core/ids.js'
import type { SessionStore, WriteOptions } from '../core/store.js'
import { MAX_TTL } from '../core/ttl.js'
import { bytes, newKey } from './values.js'

/** The parts of {@link StoreConformanceOptions} the hardening rules use. */
export interface HardeningOptions {
  /**
   * A second store of the same kind whose backend rejects every write (e.g. Redis with
   * `min-replicas-to-write` and no replica, a Postgres table with a failing CHECK): its errors must
   * reach the caller redacted. Without it the rule is skipped, with that reason in its name.
   */
  failing?: () => SessionStore | Promise<SessionStore>
  /**
   * Another instance over the same backends, for stores that keep state in process memory (a
   * `LayeredStore`): what one instance deleted the other never serves.
   */
  twin?: () => SessionStore | Promise<SessionStore>
}

const options = (fieldTtl: number, sessionTtl = fieldTtl, maxLifetime?: number): WriteOptions => ({
  mode: 'update',
  session: 'create',
  fieldTtl,
  sessionTtl,
  ...(maxLifetime === undefined ? {} : { maxLifetime }),
})

async function rejection(work: () => Promise<unknown>): Promise<unknown> {
  return work().then(
    () => undefined,
    (error: unknown) => error,
  )
}

/**
 * The hardening rules that belong to every store, registered inside the conformance suite.
 *
 * @param setup - the suite's store
 * @param hardening - the optional failing store and twin instance
 */
export function describeHardeningRules(setup: () => Promise<SessionStore>, hardening: HardeningOptions): void {
  it('refuses TTLs above 400 days before any backend call, accepting exactly 400 days', async () => {
    const s = await setup()
    const key = newKey()
    for (const write of [options(MAX_TTL + 1), options(60, MAX_TTL + 1), options(60, 60, MAX_TTL + 1)]) {
      const error = await rejection(() => s.write(key, 'a', bytes('x'), write))
      expect(error).toBeInstanceOf(SessionError)
      expect(error).toMatchObject({ code: 'ERR_SESSION_ARGUMENT' })
    }
    expect(await s.get(key, 'a')).toEqual({ live: false })
    const written = await s.write(key, 'a', bytes('x'), options(MAX_TTL, MAX_TTL, MAX_TTL))
    expect(written).toMatchObject({ status: 'written' })
    expect(written.status === 'written' && written.ttl).toBeLessThanOrEqual(MAX_TTL * 1000)
    expect(await rejection(() => s.expire(key, MAX_TTL + 1))).toMatchObject({ code: 'ERR_SESSION_ARGUMENT' })
    expect(await rejection(() => s.expire(key, Number.MAX_SAFE_INTEGER))).toMatchObject({
      code: 'ERR_SESSION_ARGUMENT',
    })
    expect(await s.get(key, 'a')).toMatchObject({ live: true })
    await s.delete(key)
  })

  const failing = hardening.failing
  it.skipIf(failing === undefined)(
    `never lets a session value reach an error's cause${failing ? '' : ' (skipped: no failing backend given)'}`,
    async () => {
      const s = await (failing as NonNullable<typeof failing>)()
      const secret = `ya29.${createSessionId()}`
      const error = await rejection(() => s.write(newKey(), 'token', bytes(JSON.stringify({ secret })), options(60)))
      expect(error).toBeInstanceOf(SessionStoreError)
      // Everything a framework's error handler could print or serialize, causes included.
      const shown = `${inspect(error, { depth: 10, showHidden: true })}${JSON.stringify(error)}`
      expect(shown).not.toContain(secret)
      expect(shown).not.toContain(Buffer.from(secret).toString('hex'))
      const cause = (error as SessionStoreError).cause as Error | undefined
      if (cause !== undefined) expect(Object.keys(cause).sort()).toEqual(expect.arrayContaining(['code']))
      await s.close?.()
    },
  )

  const twin = hardening.twin
  it.skipIf(twin === undefined)(
    `once a delete resolved, another instance never serves the session${twin ? '' : ' (skipped: one instance holds no state of its own)'}`,
    async () => {
      const a = await setup()
      const b = await (twin as NonNullable<typeof twin>)()
      for (let round = 0; round < 5; round++) {
        const key = newKey()
        await a.write(key, 'user', bytes('ada'), options(600))
        expect(await b.get(key, 'user')).toMatchObject({ live: true })
        // Reads on the twin race the delete; whatever they saw, none may revive the session.
        const reads = Array.from({ length: 5 }, () => b.get(key, 'user'))
        expect(await a.delete(key)).toBe(true)
        await Promise.all(reads)
        for (const store of [a, b]) {
          expect(await store.get(key, 'user')).toEqual({ live: false })
          expect(await store.getAll(key)).toEqual({ live: false })
        }
      }
      await b.close?.()
    },
  )
}
