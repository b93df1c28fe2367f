import { z } from 'zod';

/** The API's own settings; NATS_URL/NATS_USER/NATS_PASSWORD come from the runtime's base config. */
export const apiConfigSchema = z.object({
  /** host:port to serve gRPC on; port 0 picks a free one (logged at start). */
  STRATA_GRPC_ADDR: z.string().min(1).default('127.0.0.1:7443'),
  /** JSON file: [{"name", "sha256" (hex of the token), "tenant", "admin"}]. */
  STRATA_API_TOKENS_FILE: z.string().min(1).optional(),
  /** The same JSON inline, for tests and throwaway setups. */
  STRATA_API_TOKENS: z.string().min(1).optional(),
  /** Base64 PKCS#8 Ed25519 private key every command and query is signed with; services verify it (docs/architecture.md, "NATS security"). */
  STRATA_COMMAND_SIGNING_KEY: z.string().min(1),
});
export type ApiConfig = z.output<typeof apiConfigSchema>;
