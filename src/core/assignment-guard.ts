/**
 * Make assigning a named property to an instance of a class throw a `TypeError` that names the
 * session call to use instead.
 *
 * `req.session.user = x` is express-session's habit; here it would set a property that is never
 * stored. A Proxy at the root of the prototype chain sees only assignments of names the class does
 * not define (its methods and getters are found first, its state is in private fields), so the
 * per-request handle stays an ordinary object and reads pay nothing.
 *
 * @param prototype - the prototype of a class whose own prototype is `Object.prototype`
 */
export function refuseFieldAssignment(prototype: object): void {
  Object.setPrototypeOf(
    prototype,
    new Proxy(Object.prototype, {
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
