import { instance, type Viz } from "@viz-js/viz";

let viz: Promise<Viz> | undefined;

/** Graphviz compiled to WebAssembly, shipped inside the npm package: loaded once, nothing fetched. */
export async function dotToSvg(dot: string): Promise<string> {
  viz ??= instance();
  return (await viz).renderString(dot, { format: "svg" });
}
