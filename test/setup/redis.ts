// Placeholder until the RedisStore work lands: provides nothing yet.
export default async function setup(): Promise<void> {}
