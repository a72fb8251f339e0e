/** express-session's session methods that have no namesake here, and what to write instead. */
const EXPRESS_SESSION_METHODS = new Map([
  ['destroy', 'await session.delete() ends the session'],
  ['save', 'nothing to call, every awaited write is already stored'],
  ['reload', 'nothing to call, every read is already fresh'],
  ['touch', 'await session.expire(seconds) sets the lifetime'],
  ['resetMaxAge', 'await session.expire(seconds) sets the lifetime'],
])

/**
 * express-session's session properties that have no namesake here: reading one throws, because what
 * follows (`session.cookie.maxAge = ms`) would otherwise fail on `undefined` without saying why.
 */
const EXPRESS_SESSION_PROPERTIES = new Map([
  ['cookie', 'the cookie is sent for you; await session.expire(seconds) sets the lifetime'],
])

/**
 * Make assigning a named property to an instance of a class throw a `TypeError` that names the
 * session call to use instead.
 *
 * `req.session.user = x` is express-session's habit; here it would set a property that is never
 * stored. A Proxy at the root of the prototype chain sees only assignments of names the class does
 * not define (its methods and getters are found first, its state is in private fields), so the
 * per-request handle stays an ordinary object and reads of its own members pay nothing. The same
 * Proxy answers express-session's `destroy`, `save`, `reload`, `touch` and `resetMaxAge` with a
 * function that throws a `TypeError` naming the call to use, and a read of its `cookie` with one.
 *
 * @param prototype - the prototype of a class whose own prototype is `Object.prototype`
 */
export function refuseFieldAssignment(prototype: object): void {
  Object.setPrototypeOf(
    prototype,
    new Proxy(Object.prototype, {
      // Reached only for names the class does not define: its own methods are found first.
      get(target, property, receiver) {
        if (typeof property !== 'string') return Reflect.get(target, property, receiver)
        const unsupported = EXPRESS_SESSION_PROPERTIES.get(property)
        if (unsupported !== undefined) throw new TypeError(`session.${property} is express-session's: ${unsupported}`)
        const instead = EXPRESS_SESSION_METHODS.get(property)
        if (instead === undefined) return Reflect.get(target, property, receiver)
        return () => {
          throw new TypeError(`session.${String(property)}() is express-session's: ${instead}`)
        }
      },
      set(target, property, value, receiver) {
        // Symbols are how libraries tag objects; only named fields are the express-session habit.
        if (typeof property === 'symbol') return Reflect.set(target, property, value, receiver)
        throw new TypeError(
          `session.${property} = … stores nothing: write the field with await session.update('${property}', value)`,
        )
      },
    }),
  )
}
