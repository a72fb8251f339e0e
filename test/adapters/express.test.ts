import { describeAdapterBehaviour } from '../../src/testing/adapter-suite.js'
import { expressHarness } from '../helpers/express-harness.js'

describeAdapterBehaviour({ name: 'Express 5 on MemoryStore', start: expressHarness(5) })
describeAdapterBehaviour({ name: 'Express 4 on MemoryStore', start: expressHarness(4) })
