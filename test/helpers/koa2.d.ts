// Koa 2 is installed under an npm alias so both majors are tested in one run; @types/koa describes
// the API both majors share.
declare module 'koa2' {
  import type Koa from 'koa'

  const Koa2: typeof Koa
  export default Koa2
}
