import { createSessionId, sessionKeyOf } from '../core/ids.js'

/**
 * @param text - a string
 * @returns its UTF-8 bytes, as a store holds a field value
 */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

/**
 * @param value - field bytes, or `undefined`
 * @returns the UTF-8 text, or `undefined`
 */
export const text = (value: Uint8Array | undefined): string | undefined =>
  value === undefined ? undefined : new TextDecoder().decode(value)

/** @returns the store key of a fresh random session id */
export const newKey = (): string => sessionKeyOf(createSessionId())

/**
 * @param ms - milliseconds
 * @returns a promise that resolves after them
 */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
