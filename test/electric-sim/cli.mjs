// Run the simulator by hand: node test/electric-sim/cli.mjs --database-url URL
//   [--port 3000] [--secret S] [--chunk-bytes 10000] [--long-poll-ms 20000] [--legacy-204]
import { parseArgs } from 'node:util'

import { startElectricSim } from './index.mjs'

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string' },
    port: { type: 'string', default: '3000' },
    secret: { type: 'string' },
    'chunk-bytes': { type: 'string', default: '10000' },
    'long-poll-ms': { type: 'string', default: '20000' },
    'legacy-204': { type: 'boolean', default: false },
  },
})
if (!values['database-url']) {
  console.error('usage: cli.mjs --database-url URL [--port N] [--secret S] [--chunk-bytes N] [--long-poll-ms N] [--legacy-204]')
  process.exit(2)
}
const sim = await startElectricSim({
  databaseUrl: values['database-url'],
  port: Number(values.port),
  secret: values.secret ?? null,
  chunkBytes: Number(values['chunk-bytes']),
  longPollMs: Number(values['long-poll-ms']),
  legacy204: values['legacy-204'],
})
console.log(`electric-sim on ${sim.url} (POST /_sim/rotate, POST /_sim/lose-storage, GET /_sim/stats)`)
process.on('SIGTERM', () => sim.close().then(() => process.exit(0)))
process.on('SIGINT', () => sim.close().then(() => process.exit(0)))
