import { session } from 'ruts/h3'
import { layer } from '../utils/session'

// Nitro runs server/middleware/ in file-name order: `0.` puts the session before any other middleware.
export default session(layer)
