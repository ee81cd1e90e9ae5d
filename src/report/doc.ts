/**
 * A report as a list of blocks, written out twice: Markdown (report.md) and a self-standing HTML page (report.html).
 * Text may use `code`, **bold** and [links](url); everything else is escaped.
 */

export type Block =
  | { h: 1 | 2 | 3; text: string; id?: string }
  | { p: string }
  | { list: string[] }
  | { table: { head: string[]; rows: string[][] } }
  | { figure: { svg: string; png: string; title: string; caption: string } }
  | { raw: { md: string; html: string } }
  /** two columns side by side in HTML (figures beside the numbers); one after the other in Markdown */
  | { columns: [Block[], Block[]] };

export function toMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    if ('columns' in b) { out.push(toMarkdown([...b.columns[0], ...b.columns[1]]).trimEnd()); continue; }
    if ('h' in b) out.push(`${'#'.repeat(b.h)} ${b.text}`);
    else if ('p' in b) out.push(b.p);
    else if ('list' in b) out.push(b.list.map((x) => `- ${x}`).join('\n'));
    else if ('table' in b) {
      const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
      out.push([`| ${b.table.head.map(cell).join(' | ')} |`, `|${b.table.head.map(() => '---').join('|')}|`,
        ...b.table.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n'));
    } else if ('figure' in b) out.push(`![${b.figure.title}](${b.figure.png})\n\n*${b.figure.caption}* ([SVG](${b.figure.svg}))`);
    else out.push(b.raw.md);
  }
  return out.join('\n\n') + '\n';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/**
 * A number with its exponent, unit sign or grouping (`1.24e-3`, `1.24 × 10⁻³`, `371 581`, `96.0 %`, `×0.52`): kept on
 * one line in HTML. Matched in text only, never inside a tag (a link's address has digits too).
 */
const NUMBER = /[×−-]?\d[\d.,\u202f]*(?:e[+-]?\d+|\u00a0×\u00a010[⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+)?(?:[ \u00a0]?%)?/g;
const nowrapNumbers = (html: string) => html.split(/(<[^>]+>)/).map((part) => (part.startsWith('<') ? part
  : part.replace(NUMBER, (m) => (/[e×\u202f%]/.test(m) ? `<span class="n">${m}</span>` : m)))).join('');
const inline = (s: string) => nowrapNumbers(esc(s)
  .replace(/`([^`]+)`/g, '<code>$1</code>')
  .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
  .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2">$1</a>'));

const STYLE = `body{font-family:system-ui,'DejaVu Sans',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}figure{margin:1.5em 0}figure img{width:100%;max-width:960px;border:1px solid #eee}figcaption{color:#555;font-size:.9em;max-width:960px}
.n{white-space:nowrap}
code{background:#f4f4f4;padding:0 .2em}.differs{color:#a33}.agrees{color:#2a6}h1,h2,h3{line-height:1.2}nav a{margin-right:.8em}
.columns{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:1.5em;align-items:start}
.columns .side{position:sticky;top:0}@media (max-width:900px){.columns{display:block}}`;

export function toHtml(blocks: Block[], title: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head>\n<body>\n${htmlBody(blocks)}\n</body></html>\n`;
}

function htmlBody(blocks: Block[]): string {
  const body: string[] = [];
  for (const b of blocks) {
    if ('columns' in b) { body.push(`<div class="columns"><div>${htmlBody(b.columns[0])}</div><div class="side">${htmlBody(b.columns[1])}</div></div>`); continue; }
    if ('h' in b) body.push(`<h${b.h}${b.id ? ` id="${esc(b.id)}"` : ''}>${inline(b.text)}</h${b.h}>`);
    else if ('p' in b) body.push(`<p>${inline(b.p)}</p>`);
    else if ('list' in b) body.push(`<ul>${b.list.map((x) => `<li>${inline(x)}</li>`).join('')}</ul>`);
    else if ('table' in b) {
      const td = (s: string) => `<td${/^differs/.test(s) ? ' class="differs"' : /^agrees/.test(s) ? ' class="agrees"' : ''}>${inline(s)}</td>`;
      // numbers in tables never wrap: `1.24 × 10⁻³` broken after the × reads as two numbers
      body.push(`<table><tr>${b.table.head.map((h) => `<th>${inline(h)}</th>`).join('')}</tr>${b.table.rows.map((r) => `<tr>${r.map(td).join('')}</tr>`).join('')}</table>`);
    } else if ('figure' in b) {
      body.push(`<figure><a href="${esc(b.figure.svg)}"><img src="${esc(b.figure.svg)}" alt="${esc(b.figure.title)}"></a><figcaption>${inline(b.figure.caption)}</figcaption></figure>`);
    } else body.push(b.raw.html);
  }
  return body.join('\n');
}
