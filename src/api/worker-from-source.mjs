// The compute pool's worker when the service runs from TypeScript source (tests, npm run dev): Node 20 does
// not carry the main thread's loader hooks into worker threads, so this worker registers tsx itself.
import { register } from "tsx/esm/api";

register();
const { default: work } = await import("./worker.ts");
export default work;
