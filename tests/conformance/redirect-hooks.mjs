// Module hooks for redirect.mjs (they run in Node's loader thread).
const PUBLISHED = '"http://localhost:3000"';
let target;

export function initialize({ url }) {
  if (!url) throw new Error("SUITE_URL is not set");
  target = JSON.stringify(url);
}

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!url.endsWith("/test-suite.js")) return result;
  const source = String(result.source);
  const found = source.split(PUBLISHED).length - 1;
  if (found !== 1) {
    throw new Error(`${url}: expected ${PUBLISHED} once, found it ${found} times`);
  }
  return { ...result, source: source.replace(PUBLISHED, target) };
}
