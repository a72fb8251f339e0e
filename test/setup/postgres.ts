// Placeholder until the PostgresStore work lands: provides nothing yet.
export default async function setup(): Promise<void> {}
