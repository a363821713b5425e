// Types of tools/build-web.mjs (for test/browser.test.ts).
export function buildWeb(): Promise<void>;
export function brownExcerpt(perGenre?: number): string;
