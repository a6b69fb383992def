import type { ParameterHealth } from "../diagnostics.js";

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A horizontal bar chart of gradient norms on a log scale, one bar per parameter (input side at the top),
 * as a small self-contained SVG: a gradient that vanishes toward the input is a staircase of shrinking bars.
 */
export function normChart(parameters: readonly ParameterHealth[], title: string): string {
  const positive = parameters.filter((p) => p.norm > 0).map((p) => Math.log10(p.norm));
  const low = Math.floor(Math.min(0, ...positive)) - (positive.length ? 0 : 1);
  const high = Math.ceil(Math.max(low + 1, ...positive));
  const labelWidth = 150;
  const plotWidth = 420;
  const barHeight = 22;
  const top = 40;
  const height = top + parameters.length * (barHeight + 8) + 40;
  const x = (log: number) => labelWidth + ((log - low) / (high - low)) * plotWidth;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 90}" height="${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let d = low; d <= high; d++) {
    parts.push(
      `<line x1="${x(d)}" y1="${top - 5}" x2="${x(d)}" y2="${height - 30}" stroke="#dddddd"/>`,
      `<text x="${x(d)}" y="${height - 15}" text-anchor="middle">1e${d}</text>`,
    );
  }
  parameters.forEach((p, i) => {
    const y = top + i * (barHeight + 8);
    const width = p.norm > 0 ? Math.max(1, x(Math.log10(p.norm)) - x(low)) : 0;
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + barHeight / 2 + 4}" text-anchor="end">${escapeXml(p.parameter)}</text>`,
      `<rect x="${x(low)}" y="${y}" width="${width}" height="${barHeight}" fill="#3b82f6"><title>${escapeXml(`${p.parameter}: ‖∂L/∂θ‖ = ${p.norm}`)}</title></rect>`,
      `<text x="${x(low) + width + 6}" y="${y + barHeight / 2 + 4}">${escapeXml(p.norm.toPrecision(3))}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
