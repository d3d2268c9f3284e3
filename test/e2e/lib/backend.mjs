// The two deployments every scenario runs against:
//  built-in: clients -> gateway (pull served from Postgres by the gateway itself)
//  proxy:    clients -> gateway P --electric-url-> gateway B --shape-api
//            P maps pulls to Electric's /v1/shape (doc §5) and B plays Electric.
// And one on request (E2E_MODES=electric-sim):
//  electric-sim: clients -> gateway P --electric-url-> test/electric-sim
//            (an Electric written from its API docs: offsets past 2^32,
//            small chunks, rotations on demand; `backend.sim`).
import path from 'node:path'

import { startElectricSim } from '../../electric-sim/index.mjs'
import { startGateway } from '../../lib/harness.mjs'

export const MODES = (process.env.E2E_MODES ?? 'built-in,proxy').split(',').filter(Boolean)
export const AUTH_TOKEN = 'dev-token'
const SHAPE_SECRET = 'e2e-shape-secret'

/**
 * Start the gateways of `mode`; `endpoint` is where clients connect.
 * `frontArgs`: extra flags of the client-facing gateway (e.g. --jwt-secret).
 */
export async function startBackend(mode, { databaseUrl, dir, longPollTimeout, frontArgs = [] }) {
  const common = { databaseUrl, authToken: AUTH_TOKEN, longPollTimeout }
  if (mode === 'built-in') {
    const gw = await startGateway({ ...common, args: frontArgs, logFile: path.join(dir, 'gateway.log') })
    return describe(mode, gw, [gw])
  }
  if (mode === 'proxy') {
    const shape = await startGateway({ ...common, shapeApi: true, shapeSecret: SHAPE_SECRET, logFile: path.join(dir, 'gateway-shape.log') })
    try {
      const proxy = await startGateway({ ...common, args: frontArgs, electricUrl: shape.url, electricSecret: SHAPE_SECRET, logFile: path.join(dir, 'gateway-proxy.log') })
      return describe(mode, proxy, [shape, proxy])
    } catch (e) {
      await shape.stop()
      throw e
    }
  }
  if (mode === 'electric-sim') {
    const sim = await startElectricSim({ databaseUrl, secret: SHAPE_SECRET, chunkBytes: SIM_CHUNK_BYTES, longPollMs: (longPollTimeout ?? 20) * 1000 })
    try {
      const proxy = await startGateway({ ...common, args: frontArgs, electricUrl: sim.url, electricSecret: SHAPE_SECRET, logFile: path.join(dir, 'gateway-proxy.log') })
      const backend = describe(mode, proxy, [proxy])
      const stop = backend.stop
      backend.sim = sim
      backend.stop = async () => {
        await stop()
        await sim.close()
      }
      return backend
    } catch (e) {
      await sim.close()
      throw e
    }
  }
  throw new Error(`unknown mode ${mode}`)
}

// About 3 events a chunk: initial syncs and larger transactions span pages.
export const SIM_CHUNK_BYTES = 600

// `gateways` is in start order: the upstream first, the client-facing one last.
function describe(mode, front, gateways) {
  return {
    mode,
    endpoint: front.endpoint,
    front,
    gateways,
    /** Graceful stop of every gateway, then start each again on its own port. */
    async restart() {
      for (const gw of [...gateways].reverse()) await gw.stop()
      for (const gw of gateways) await gw.start()
    },
    async stop() {
      for (const gw of [...gateways].reverse()) await gw.stop()
    },
    logs: (lines = 20) => gateways.map((gw) => `--- ${gw.logFile}\n${gw.logTail(lines)}`).join('\n'),
  }
}
