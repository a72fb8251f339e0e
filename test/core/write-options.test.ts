import { describe, expect, it } from 'vitest'
import { SessionLayer } from '../../src/core/layer.js'
import type { FieldValue, SessionKey, WriteOptions, WriteResult } from '../../src/core/store.js'
import type { SessionWriteOptions } from '../../src/core/write-options.js'
import { MemoryStore } from '../../src/stores/memory.js'

/** A store that understands one extra write option, `tag`, and records what reached it. */
class TaggingStore extends MemoryStore {
  readonly writeOptions = ['tag']
  readonly seen: Array<WriteOptions['extra']> = []

  override write(key: SessionKey, field: string, value: FieldValue, options: WriteOptions): Promise<WriteResult> {
    this.seen.push(options.extra)
    return super.write(key, field, value, options)
  }
}

// `tag` is not one of the typed options (no store here merges it into StoreWriteOptions).
const tagged = (options: Record<string, unknown>) => options as SessionWriteOptions

describe('store-specific write options', () => {
  it('reach the store that declared them, and only those: ttl and undefined values stay behind', async () => {
    const store = new TaggingStore()
    const session = new SessionLayer({ store }).open(undefined)
    await session.update('a', 1, tagged({ ttl: 60, tag: 'blue' }))
    await session.insert('b', 2, tagged({ ttl: 60, tag: undefined }))
    await session.update('c', 3)
    expect(store.seen).toEqual([{ tag: 'blue' }, undefined, undefined])
  })

  it('fail with ERR_SESSION_OPTION, before any store call, when the store did not declare them', async () => {
    const store = new TaggingStore()
    const session = new SessionLayer({ store }).open(undefined)
    await expect(session.update('a', 1, tagged({ colour: 'red' }))).rejects.toMatchObject({
      code: 'ERR_SESSION_OPTION',
    })
    await expect(session.update('a', 1, { strategy: 'hot-only' })).rejects.toMatchObject({ code: 'ERR_SESSION_OPTION' })
    const plain = new SessionLayer({ store: new MemoryStore() }).open(undefined)
    await expect(plain.insert('a', 1, tagged({ tag: 'blue' }))).rejects.toMatchObject({ code: 'ERR_SESSION_OPTION' })
    expect(store.seen).toEqual([])
  })
})
