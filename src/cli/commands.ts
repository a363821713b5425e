// Every `flstm` command, in the order the main help lists them.
import type { Command } from './command.js';
import { benchCommand } from './bench.js';
import { chartCommand } from './chart.js';
import { compareCommand } from './compare.js';
import { evalCommand } from './evaluate.js';
import { generateCommand } from './generate.js';
import { dataCommand, infoCommand, paramsCommand } from './inspect.js';
import { trainCommand } from './train.js';

export const COMMANDS: Command[] = [
  infoCommand,
  paramsCommand,
  dataCommand,
  trainCommand,
  evalCommand,
  generateCommand,
  compareCommand,
  chartCommand,
  benchCommand,
];
