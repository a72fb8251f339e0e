// Express 4 is installed under an npm alias so both majors are tested in one run.
declare module 'express4' {
  import type express from 'express'

  const express4: typeof express
  export default express4
}
