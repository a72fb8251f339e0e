import { defineEventHandler } from 'h3' // auto-imported in Nuxt
import { sessionOf } from 'ruts/h3'
import { layer } from '../utils/session'

export default defineEventHandler(async (event) => ({ count: await sessionOf(event, layer).increment('count') }))
