import { createServer } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import type { StartServer } from '../../src/testing/adapter-suite.js'
import { listen } from './listen.js'
import { honoSuiteApp, webSuiteHandler } from './web-apps.js'

/** The adapter suite's harness for Hono 4 on Node: served by `@hono/node-server` on node:http. */
export const honoHarness: StartServer = async (layer, handler) =>
  listen(createServer(getRequestListener(honoSuiteApp(layer, handler).fetch)))

/**
 * The adapter suite's harness for the Web adapter on Node: `withSession(…)` served from node:http
 * through `@hono/node-server`'s `getRequestListener`, the way docs/adapters.md documents.
 */
export const webHarness: StartServer = async (layer, handler) =>
  listen(createServer(getRequestListener(webSuiteHandler(layer, handler))))
