// Render DiceBear avatars to raw RGBA for `python -m demo data avatars` (demo/data/avatars.py).
//
//   node render.mjs --meta          print every style's licence metadata as JSON
//   node render.mjs < jobs.json     jobs = {"size": S, "jobs": [{"style": "micah", "seed": "..."}, ...]};
//                                   writes S*S*4 bytes of premultiplied RGBA per job to stdout, in order
//
// The renderer is pure: the same job always gives the same pixels. All randomness (which style, which
// seed string, the background) is chosen on the Python side from the data set's seed.
import * as collection from '@dicebear/collection';
import { createAvatar } from '@dicebear/core';
import { Resvg } from '@resvg/resvg-js';

function fail(message) {
  process.stderr.write(`render.mjs: ${message}\n`);
  process.exit(2);
}

function styleMeta() {
  const meta = {};
  for (const [name, style] of Object.entries(collection)) {
    const m = style.meta ?? {};
    meta[name] = {
      title: m.title ?? null,
      creator: m.creator ?? null,
      source: m.source ?? null,
      homepage: m.homepage ?? null,
      license: { name: m.license?.name ?? null, url: m.license?.url ?? null },
    };
  }
  return meta;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function write(buffer) {
  // Respect back-pressure so a slow reader never makes Node buffer the whole data set.
  return new Promise((resolve) => (process.stdout.write(buffer) ? resolve() : process.stdout.once('drain', resolve)));
}

async function render() {
  let request;
  try {
    request = JSON.parse(await readStdin());
  } catch (err) {
    fail(`stdin is not a JSON job list (${err.message})`);
  }
  const size = request.size;
  if (!Number.isInteger(size) || size < 1 || size > 4096) fail(`size must be an integer in 1..4096, got ${size}`);
  for (const [index, job] of request.jobs.entries()) {
    const style = collection[job.style];
    if (!style) fail(`job ${index}: unknown style ${JSON.stringify(job.style)}`);
    const svg = createAvatar(style, { ...(job.options ?? {}), seed: String(job.seed) }).toString();
    const image = new Resvg(svg, { fitTo: { mode: 'width', value: size }, background: 'rgba(0, 0, 0, 0)' }).render();
    if (image.width !== size || image.height !== size) fail(`job ${index}: rendered ${image.width}x${image.height}, expected ${size}x${size}`);
    await write(Buffer.from(image.pixels));
  }
}

if (process.argv.includes('--meta')) {
  process.stdout.write(JSON.stringify(styleMeta(), null, 1) + '\n');
} else {
  await render();
}
