#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// usage: node tests/common/decode-terminal-qr.mjs [--background dark|light] [--scale N]
//                                                 [--image FILE.pbm] [-- ZBARIMG-OPTION...]
//
// Reads terminal text on stdin — a program's stderr, say `keyloop login --device` — finds the
// QR code drawn in it with Unicode half blocks (KeyloopQr::toTerminalText, qrcode/qrterminal.h),
// turns it back into a black-and-white PBM image and runs `zbarimg --raw -q` on that image. Prints
// what zbarimg decoded (the payload's bytes as they are, a newline after each code) and exits 0;
// exits 1 when no QR code is found in the text or zbarimg decodes nothing, 2 on a usage error,
// 3 when zbarimg is missing (Debian: zbar-tools; scripts/lib/install-deps.sh --test).
//
// The text is read the way a terminal shows it:
//   - each character cell is 1 module wide and 2 modules high: '▀' draws the upper module in the
//     foreground colour and the lower one in the background colour, '▄' the reverse, '█' both in
//     the foreground colour, ' ' both in the background colour;
//   - ANSI SGR colours are followed (30–37, 90–97, 40–47, 100–107, 39, 49, 0, 7/27, and
//     38/48;5;N and 38/48;2;R;G;B), a colour counting as dark below half luminance; text without
//     colours has the terminal's own: --background dark (the default: light text on dark, the
//     convention of TerminalColors::None) or light (dark text on light). Other escape sequences
//     are skipped; '\r' returns to the start of the line, '\t' to the next multiple of 8.
// The code is the first run of lines that hold a half-block glyph or a cell with an explicit
// background colour, between the leftmost and the rightmost such cell: text before or after it,
// and text to its right on the same lines, is left out. No margin is added: the image has the
// quiet zone the rendering drew and no more, so a rendering without one does not decode.
// Each module becomes N × N pixels (--scale, default 4); --image keeps the PBM file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FULL = '\u2588';
const UPPER = '\u2580';
const LOWER = '\u2584';
const HALF_BLOCKS = new Set([FULL, UPPER, LOWER]);

// xterm's default palette for the 16 ANSI colours.
const PALETTE = [
  [0, 0, 0], [205, 0, 0], [0, 205, 0], [205, 205, 0], [0, 0, 238], [205, 0, 205], [0, 205, 205], [229, 229, 229],
  [127, 127, 127], [255, 0, 0], [0, 255, 0], [255, 255, 0], [92, 92, 255], [255, 0, 255], [0, 255, 255], [255, 255, 255],
];

function xterm256(n) {
  if (n < 16) return PALETTE[n];
  if (n < 232) {
    const level = (v) => (v === 0 ? 0 : 55 + 40 * v);
    const i = n - 16;
    return [level(Math.floor(i / 36)), level(Math.floor(i / 6) % 6), level(i % 6)];
  }
  const grey = 8 + 10 * (n - 232);
  return [grey, grey, grey];
}

function isDarkColour([r, g, b]) {
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 128; // Rec. 709 luminance
}

function usage(message) {
  if (message) process.stderr.write(`decode-terminal-qr: ${message}\n`);
  process.stderr.write('usage: decode-terminal-qr.mjs [--background dark|light] [--scale N] [--image FILE.pbm] [-- ZBARIMG-OPTION...]\n');
  process.exit(2);
}

function parseArguments(argv) {
  const options = { background: 'dark', scale: 4, image: null, zbarOptions: [] };
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${arg} needs a value`));
    if (arg === '--background') {
      options.background = value();
      if (!['dark', 'light'].includes(options.background)) usage(`--background must be dark or light`);
    } else if (arg === '--scale') {
      options.scale = Number(value());
      if (!Number.isInteger(options.scale) || options.scale < 1 || options.scale > 32) usage('--scale must be 1 to 32');
    } else if (arg === '--image') {
      options.image = value();
    } else if (arg === '--') {
      options.zbarOptions = argv.slice(i + 1);
      break;
    } else {
      usage(`unknown argument ${arg}`);
    }
  }
  return options;
}

// The screen as a terminal would show it: lines of cells { ch, fg, bg, marked }, where marked
// says the cell has an explicit background colour. Colours are [r, g, b].
function terminalCells(text, background = 'dark') {
  const defaultFg = background === 'dark' ? [229, 229, 229] : [0, 0, 0];
  const defaultBg = background === 'dark' ? [0, 0, 0] : [255, 255, 255];
  const state = { fg: null, bg: null, inverse: false };
  const lines = [[]];
  let column = 0;
  const chars = Array.from(text); // code points
  const put = (ch) => {
    const line = lines[lines.length - 1];
    while (line.length < column) line.push({ ch: ' ', fg: defaultFg, bg: defaultBg, marked: false });
    let fg = state.fg ?? defaultFg;
    let bg = state.bg ?? defaultBg;
    if (state.inverse) [fg, bg] = [bg, fg];
    line[column++] = { ch, fg, bg, marked: state.bg !== null || state.inverse };
  };
  const sgr = (params) => {
    const codes = params === '' ? [0] : params.split(';').map((p) => (p === '' ? 0 : Number(p)));
    for (let i = 0; i < codes.length; ++i) {
      const c = codes[i];
      if (c === 0) Object.assign(state, { fg: null, bg: null, inverse: false });
      else if (c === 7) state.inverse = true;
      else if (c === 27) state.inverse = false;
      else if (c >= 30 && c <= 37) state.fg = PALETTE[c - 30];
      else if (c >= 90 && c <= 97) state.fg = PALETTE[c - 90 + 8];
      else if (c === 39) state.fg = null;
      else if (c >= 40 && c <= 47) state.bg = PALETTE[c - 40];
      else if (c >= 100 && c <= 107) state.bg = PALETTE[c - 100 + 8];
      else if (c === 49) state.bg = null;
      else if (c === 38 || c === 48) {
        let colour = null;
        if (codes[i + 1] === 5) {
          colour = xterm256(codes[i + 2] ?? 0);
          i += 2;
        } else if (codes[i + 1] === 2) {
          colour = [codes[i + 2] ?? 0, codes[i + 3] ?? 0, codes[i + 4] ?? 0];
          i += 4;
        }
        if (colour) state[c === 38 ? 'fg' : 'bg'] = colour;
      }
      // Bold, underline and the like do not change which colour a cell shows.
    }
  };
  for (let i = 0; i < chars.length; ++i) {
    const ch = chars[i];
    if (ch === '\x1b') {
      const next = chars[i + 1];
      if (next === '[') { // CSI: parameters, intermediates, one final byte
        let j = i + 2;
        while (j < chars.length && /[0-?]/.test(chars[j])) ++j;
        const params = chars.slice(i + 2, j).join('');
        while (j < chars.length && /[ -/]/.test(chars[j])) ++j;
        if (chars[j] === 'm' && /^[0-9;]*$/.test(params)) sgr(params);
        i = j;
      } else if (next === ']') { // OSC: up to BEL or ST
        let j = i + 2;
        while (j < chars.length && chars[j] !== '\x07' && !(chars[j] === '\x1b' && chars[j + 1] === '\\')) ++j;
        i = chars[j] === '\x07' ? j : j + 1;
      } else {
        i += 1; // a two-character escape
      }
    } else if (ch === '\n') {
      lines.push([]);
      column = 0;
    } else if (ch === '\r') {
      column = 0;
    } else if (ch === '\t') {
      column = (Math.floor(column / 8) + 1) * 8;
    } else if (ch >= ' ' && ch !== '\x7f') {
      put(ch);
    }
  }
  return { lines, blank: { ch: ' ', fg: defaultFg, bg: defaultBg, marked: false } };
}

// The first block of lines that draws a QR code, as rows of modules (true = dark), or null.
function findModules({ lines, blank }) {
  const isQrCell = (cell) => HALF_BLOCKS.has(cell.ch) || (cell.ch === ' ' && cell.marked);
  const first = lines.findIndex((line) => line.some(isQrCell));
  if (first < 0) return null;
  let end = first;
  while (end < lines.length && lines[end].some(isQrCell)) ++end;
  const block = lines.slice(first, end);
  let left = Infinity;
  let right = -1;
  for (const line of block) {
    line.forEach((cell, x) => {
      if (isQrCell(cell)) {
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    });
  }
  const rows = [];
  for (const line of block) {
    const upper = [];
    const lower = [];
    for (let x = left; x <= right; ++x) {
      const cell = line[x] ?? blank;
      const glyph = HALF_BLOCKS.has(cell.ch) ? cell.ch : ' '; // anything else: background only
      upper.push(isDarkColour(glyph === FULL || glyph === UPPER ? cell.fg : cell.bg));
      lower.push(isDarkColour(glyph === FULL || glyph === LOWER ? cell.fg : cell.bg));
    }
    rows.push(upper, lower);
  }
  return rows;
}

// A binary PBM (P4): 1 is black; each module scale × scale pixels.
function pbm(rows, scale) {
  const width = rows[0].length * scale;
  const height = rows.length * scale;
  const stride = Math.ceil(width / 8);
  const pixels = Buffer.alloc(stride * height);
  rows.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < scale; ++dy) {
        for (let dx = 0; dx < scale; ++dx) {
          const px = x * scale + dx;
          pixels[(y * scale + dy) * stride + (px >> 3)] |= 0x80 >> (px & 7);
        }
      }
    });
  });
  return Buffer.concat([Buffer.from(`P4\n${width} ${height}\n`), pixels]);
}

function main() {
  const options = parseArguments(process.argv.slice(2));
  const text = readFileSync(0, 'utf8');
  const rows = findModules(terminalCells(text, options.background));
  if (!rows) {
    process.stderr.write('decode-terminal-qr: no QR code (half-block glyphs) in the text\n');
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), 'decode-terminal-qr-'));
  try {
    const image = options.image ?? join(dir, 'code.pbm');
    writeFileSync(image, pbm(rows, options.scale));
    const zbar = spawnSync('zbarimg', ['--raw', '-q', '--nodbus', ...options.zbarOptions, image], { maxBuffer: 1 << 20 });
    if (zbar.error) {
      process.stderr.write(`decode-terminal-qr: cannot run zbarimg (${zbar.error.code}): install zbar-tools\n`);
      process.exit(3);
    }
    process.stderr.write(zbar.stderr);
    if (zbar.status !== 0 || zbar.stdout.length === 0) {
      process.stderr.write(`decode-terminal-qr: zbarimg decoded nothing in the ${rows[0].length} × ${rows.length} module image (exit ${zbar.status})\n`);
      process.exit(1);
    }
    process.stdout.write(zbar.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
