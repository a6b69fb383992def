/** Writes openapi/openapi.json from the app's own schemas: `npm run openapi`. */
import { writeFile } from "node:fs/promises";
import { openapiDocument } from "../src/api/openapi.js";
import { buildApp } from "../src/app.js";

const app = await buildApp();
await app.ready();
const target = new URL("../openapi/openapi.json", import.meta.url);
await writeFile(target, openapiDocument(app));
await app.close();
console.log(`wrote ${target.pathname}`);
