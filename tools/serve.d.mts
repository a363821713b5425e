// Types of tools/serve.mjs (for test/browser.test.ts).
import type { Server } from 'node:http';

export function startServer(opts?: {
  dir?: string;
  port?: number;
  host?: string;
  tryNext?: boolean;
}): Promise<{ server: Server; url: string }>;
