// Loaded with `node --import`: the suites call their reference server at a fixed
// address (http://localhost:3000); this points them at the fixture's address (SUITE_URL)
// instead, in memory, so the suites' files stay exactly as published and the fixture can run
// on a free port.
import { register } from "node:module";

register("./redirect-hooks.mjs", import.meta.url, { data: { url: process.env.SUITE_URL } });
